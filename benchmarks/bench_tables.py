"""The main job on five real public tables: ``retroprop train`` with its defaults, side by side
with scikit-learn's MLP pipeline and HistGradientBoosting, on the same held-out raw rows.

The tables ship inside PyPI packages (no download at run time). Install them with::

    pip install palmerpenguins plotnine vega_datasets
    pip install --no-deps ISLP    # only its CSV files are read; its own dependencies pull torch

=================  ==============  =================================  ============  =======
table              package         file                               target        task
=================  ==============  =================================  ============  =======
penguins-raw       palmerpenguins  data/penguins-raw.csv              Species       multi
seattle-weather    vega_datasets   _data/seattle-weather.csv          weather       multi
default            ISLP            data/Default.csv                   default       binary
txhousing          plotnine        data/txhousing.csv                 median        regr.
diamonds           plotnine        data/diamonds.csv                  price         regr.
=================  ==============  =================================  ============  =======

For each table: the raw CSV's rows are read as text (never parsed into numbers, so gaps and
spellings stay as they are), rows without a target are left out (no contender can learn from
them), an optional cap draws ``--max-rows`` rows, and a stratified 25% of the rows is held out.
The training part and the held-out part are written back as CSV files, unchanged cell by cell.
Then, interleaved on each table:

- retroprop: ``python -m retroprop train --data train.csv --target COL --out DIR --seed S``
  with every other option at its default, then ``python -m retroprop predict`` on the held-out
  file (target column included, gaps included); exit codes, wall and CPU times recorded;
- scikit-learn's MLP in a standard pipeline: numbers SimpleImputer(median) + StandardScaler,
  other columns SimpleImputer(constant) + OneHotEncoder(handle_unknown="ignore"), then
  MLPClassifier / MLPRegressor with their defaults and ``early_stopping=True`` (the regressor
  learns the standardised target through TransformedTargetRegressor, as retroprop's command
  does: on the raw scale of a price, 200 Adam epochs at lr 1e-3 end far from a fit, R² < 0);
- HistGradientBoosting{Classifier,Regressor} with its defaults, on the numbers as they are
  (gaps included) and the other columns as ordinal codes (OrdinalEncoder, unknown -> NaN).

Score on the held-out rows: ROC AUC for binary targets (the positive class is the second in
sorted order, as scikit-learn's ``classes_[1]``), accuracy for multi-class, R² for regression.
A contender that fails is recorded with its message; the run goes on.

Run: ``python benchmarks/bench_tables.py [--quick] [--tables a,b] [--max-rows N] [--seeds 1]
[--rp-flags "--lr 0.003 --batch-size 200"]`` (``--rp-flags``: candidate defaults, as options).
BLAS is pinned to one thread (environment of the retroprop subprocess, threadpoolctl here), so
the CPU-time ratio compares like with like on a shared machine; use ``nice -n 10`` there.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import re
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor, make_column_selector
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.metrics import accuracy_score, r2_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from threadpoolctl import threadpool_limits

PACKAGES = ["palmerpenguins", "plotnine", "vega_datasets", "ISLP (--no-deps)"]
MISSING_TARGET = {"", "NA", "N/A", "NaN", "nan", "null", "NULL", "?"}
SINGLE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@dataclass(frozen=True)
class Table:
    """A CSV file shipped in a package, and the column to predict."""

    name: str
    package: str
    path: str
    target: str
    task: str  # "binary", "multiclass" or "regression"
    note: str

    def file(self) -> Path:
        """The CSV's path, found without importing the package (ISLP imports torch)."""
        spec = importlib.util.find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            raise FileNotFoundError(
                f"table {self.name!r} needs the package {self.package!r}: pip install it"
            )
        return Path(list(spec.submodule_search_locations)[0]) / self.path


TABLES = [
    Table(
        "penguins-raw", "palmerpenguins", "data/penguins-raw.csv", "Species", "multiclass",
        "gaps (Comments 84% empty, Sex, isotopes); IDs (Sample Number, Individual ID)",
    ),
    Table(
        "seattle-weather", "vega_datasets", "_data/seattle-weather.csv", "weather",
        "multiclass", "one date per row (an identifier); 5 unbalanced string classes",
    ),
    Table(
        "default", "ISLP", "data/Default.csv", "default", "binary",
        "3.3% positives (Yes); a Yes/No feature",
    ),
    Table(
        "txhousing", "plotnine", "data/txhousing.csv", "median", "regression",
        "gaps in 5 of 9 columns (target too); a categorical city",
    ),
    Table(
        "diamonds", "plotnine", "data/diamonds.csv", "price", "regression",
        "three ordered categories; price spans 326 to 18,823",
    ),
]  # fmt: skip
QUICK = {"tables": ["penguins-raw", "default", "txhousing"], "max_rows": 3000}
METRIC = {"binary": "ROC AUC", "multiclass": "accuracy", "regression": "R²"}


@dataclass
class Outcome:
    """One contender on one table and seed: a score, or why there is none."""

    score: float | None = None
    wall: float = 0.0
    cpu: float = 0.0
    failure: str | None = None
    notes: list[str] = field(default_factory=list)
    report: float | None = None  # retroprop: "Report written in X s" (end of training to saved)


def read_raw(table: Table) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the table's CSV, every cell as the text in the file."""
    with open(table.file(), newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def split_raw(
    table: Table, folder: Path, seed: int, max_rows: int | None, test_size: float = 0.25
) -> tuple[Path, Path, int]:
    """Write train.csv and test.csv (raw cells) to ``folder``; return their paths and row count.

    Rows whose target cell is a missing marker are left out; with ``max_rows`` a stratified
    sample of that many rows is drawn first.
    """
    header, rows = read_raw(table)
    column = header.index(table.target)
    rows = [r for r in rows if r[column].strip() not in MISSING_TARGET]
    labels = [r[column] for r in rows] if table.task != "regression" else None
    if max_rows is not None and len(rows) > max_rows:
        rows, _, sampled, _ = _split(rows, labels, train_size=max_rows, seed=seed)
        labels = sampled if labels is not None else None
    train, test, _, _ = _split(rows, labels, test_size=test_size, seed=seed)
    paths = folder / "train.csv", folder / "test.csv"
    for path, part in zip(paths, (train, test), strict=True):
        with open(path, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows([header, *part])
    return paths[0], paths[1], len(rows)


def _split(rows: list, labels: list | None, seed: int, **size: Any) -> list:
    """train_test_split of rows (and labels), stratified by the labels when there are any."""
    labels_or_none = labels if labels is not None else [None] * len(rows)
    return train_test_split(
        rows, labels_or_none, stratify=labels, random_state=seed, shuffle=True, **size
    )


def score(task: str, y_true: pd.Series, prediction: Any) -> float:
    """ROC AUC (binary; ``prediction`` is P(positive)), accuracy or R² on the held-out rows."""
    if task == "binary":
        positive = sorted(y_true.astype(str).unique())[1]
        return float(roc_auc_score(y_true.astype(str) == positive, prediction))
    if task == "multiclass":
        return float(accuracy_score(y_true.astype(str), np.asarray(prediction).astype(str)))
    return float(r2_score(y_true.astype(float), prediction))


def _run(command: list[str]) -> tuple[subprocess.CompletedProcess, float, float]:
    """Run a command; return it with its wall time and its CPU time (user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, **SINGLE_THREAD}
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return done, wall, cpu


def _last_error(done: subprocess.CompletedProcess) -> str:
    """The error of a failed command: from its first 'error' line to the end, on one line."""
    lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
    first = next((i for i, line in enumerate(lines) if "error" in line.lower()), len(lines) - 1)
    shown = [line if len(line) < 160 else line[:150] + " [...]" for line in lines[first:]]
    return " / ".join(shown) if lines else f"exit {done.returncode}, no message"


def _warnings(text: str) -> list[str]:
    """Warning and problem lines the command printed."""
    keys = ("warning", "Gradient flow:", "Stopped:", "Report written in", "Warning:", "Problem:")
    return [line.strip()[:160] for line in text.splitlines() if any(k in line for k in keys)]


def run_retroprop(table: Table, train: Path, test: Path, seed: int, *extra: str) -> Outcome:
    """``retroprop train`` with its defaults, then ``retroprop predict`` on the held-out rows.

    A run stopped by missing values is tried again with ``--dropna``, and that second try is
    recorded as a note (the score stays a failure: the defaults did not train).
    """
    out = train.parent / f"rp-model-{len(extra)}"
    command = [sys.executable, "-m", "retroprop", "train", "--data", str(train)]
    done, wall, cpu = _run([*command, "--target", table.target, "--out", str(out)] + [
        "--seed", str(seed), *extra
    ])  # fmt: skip
    outcome = Outcome(wall=wall, cpu=cpu)
    outcome.notes = _warnings(done.stdout + done.stderr)
    written = re.search(r"Report written in ([0-9.]+) s", done.stdout)
    outcome.report = float(written[1]) if written else None
    if done.returncode != 0:
        outcome.failure = f"train exit {done.returncode}: {_last_error(done)}"
        if "--dropna" in done.stderr and "--dropna" not in extra:
            again = run_retroprop(table, train, test, seed, *extra, "--dropna")
            shown = "fail" if again.score is None else f"{again.score:.3f}"
            outcome.notes += [f"with --dropna: score {shown}; {again.failure or ''}"]
            outcome.notes += [f"with --dropna: {note}" for note in again.notes]
        return outcome
    outcome.notes += history_notes(table, out, test)
    predictions = train.parent / "rp-predictions.csv"
    command = [sys.executable, "-m", "retroprop", "predict", "--model", str(out)]
    done, _, _ = _run([*command, "--data", str(test), "--output", str(predictions)])
    outcome.notes += _warnings(done.stderr)
    if done.returncode != 0:
        outcome.failure = f"predict exit {done.returncode}: {_last_error(done)}"
        return outcome
    predicted = pd.read_csv(predictions, keep_default_na=False)
    y_true = pd.read_csv(test)[table.target]
    if table.task == "binary":
        positive = sorted(y_true.astype(str).unique())[1]
        outcome.score = score(table.task, y_true, predicted[f"probability_{positive}"])
    else:
        outcome.score = score(table.task, y_true, predicted["prediction"])
        outcome.notes += collapse_note(table, y_true, predicted["prediction"])
    return outcome


def history_notes(table: Table, out: Path, test: Path) -> list[str]:
    """What the run's own files show: overfitting, final table vs curve, the baseline."""
    metrics = json.loads((out / "metrics.json").read_text())
    history = pd.read_csv(out / "history.csv")
    notes = [f"metrics.json test: {metrics['metrics']['test']}"]
    notes.append(f"training itself (metrics.json seconds): {metrics['seconds']:.1f} s")
    if metrics["settings"].get("dropped rows (--dropna)"):
        notes.append(f"--dropna dropped {metrics['settings']['dropped rows (--dropna)']}")
    if "val_loss" in history:
        best = int(history["val_loss"].idxmin())
        low, last = history["val_loss"][best], history["val_loss"].iloc[-1]
        if last > 1.1 * low:
            notes.append(
                f"overfit: val_loss {low:.4g} at epoch {history['epoch'][best]}, "
                f"{last:.4g} at the end ({metrics['status']})"
            )
        final = metrics["metrics"].get("validation", {}).get("loss")
        epoch = metrics.get("best_epoch") or int(history["epoch"].iloc[-1])  # restored weights
        curve = float(history.loc[history["epoch"] == epoch, "val_loss"].iloc[0])
        if final is not None and abs(final - curve) > 1e-3 * max(abs(curve), 1e-12):
            notes.append(
                f"metrics.json validation loss {final:.4g} != history.csv {curve:.4g} "
                f"(epoch {epoch}, the weights kept)"
            )
    if table.task != "regression":
        y_test = pd.read_csv(test)[table.target].astype(str)
        majority = y_test.value_counts(normalize=True).iloc[0]
        accuracy = metrics["metrics"]["test"].get("accuracy")
        notes.append(f"majority-class baseline on the held-out rows {majority:.3f}; "
                     f"metrics.json test accuracy {accuracy}")  # fmt: skip
    return notes


def collapse_note(table: Table, y_true: pd.Series, prediction: pd.Series) -> list[str]:
    """Regression: the share of the top-decile rows (by target) given one identical value."""
    if table.task != "regression":
        return []
    top = prediction[y_true >= y_true.quantile(0.9)]
    share = top.value_counts(normalize=True).iloc[0] if len(top) else 0.0
    return [f"top 10% of held-out rows by target: {share:.0%} share one predicted value"]


def preprocessing() -> ColumnTransformer:
    """The standard pipeline's first step: impute and scale numbers, impute and one-hot the rest."""
    numbers = [SimpleImputer(strategy="median"), StandardScaler()]
    categories = make_pipeline(
        SimpleImputer(strategy="constant", fill_value="missing"),
        OneHotEncoder(handle_unknown="ignore", sparse_output=False),
    )
    return ColumnTransformer(
        [
            ("numbers", make_pipeline(*numbers), make_column_selector(dtype_include="number")),
            ("categories", categories, make_column_selector(dtype_exclude="number")),
        ]
    )


def sklearn_model(kind: str, task: str, seed: int) -> Pipeline:
    """scikit-learn's MLP ("mlp") or HistGradientBoosting ("hgb") after the preprocessing."""
    if kind == "mlp" and task == "regression":
        regressor = MLPRegressor(early_stopping=True, random_state=seed)
        scaled = TransformedTargetRegressor(regressor, transformer=StandardScaler())
        return make_pipeline(preprocessing(), scaled)
    if kind == "mlp":
        return make_pipeline(preprocessing(), MLPClassifier(early_stopping=True, random_state=seed))
    cls = HistGradientBoostingRegressor if task == "regression" else HistGradientBoostingClassifier
    return make_pipeline(codes(), cls(random_state=seed))


def codes() -> ColumnTransformer:
    """HGB's usual input: numbers as they are (gaps included), other columns as ordinal codes.

    A gap stays NaN and an unseen category becomes NaN, which HGB routes as missing. (One-hot
    columns would do too, but a date per row makes ~1,100 of them and HGB 100x slower.)
    """
    encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan)
    return ColumnTransformer(
        [
            ("numbers", "passthrough", make_column_selector(dtype_include="number")),
            ("categories", encoder, make_column_selector(dtype_exclude="number")),
        ]
    )


def read_frame(path: Path, target: str) -> tuple[pd.DataFrame, pd.Series]:
    """A CSV as a user reads it with pandas: text columns as objects, the target apart."""
    frame = pd.read_csv(path)
    text = frame.columns[~frame.dtypes.map(pd.api.types.is_numeric_dtype).astype(bool)]
    frame[text] = frame[text].astype(object)  # one-hot categories as plain objects
    return frame.drop(columns=[target]), frame[target]


def run_sklearn(kind: str, table: Table, train: Path, test: Path, seed: int) -> Outcome:
    """Fit one scikit-learn contender on train.csv; score it on test.csv."""
    outcome = Outcome()
    try:
        X, y = read_frame(train, table.target)
        X_test, y_test = read_frame(test, table.target)
        if table.task != "regression":
            y = y.astype(str)
        model = sklearn_model(kind, table.task, seed)
        with threadpool_limits(1), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            wall, cpu = time.perf_counter(), time.process_time()
            model.fit(X, y)
            outcome.wall = time.perf_counter() - wall
            outcome.cpu = time.process_time() - cpu
        outcome.notes = sorted({f"{w.category.__name__}: {str(w.message)[:100]}" for w in caught})
        if table.task == "binary":
            prediction = model.predict_proba(X_test)[:, 1]
        else:
            prediction = model.predict(X_test)
        outcome.score = score(table.task, y_test, prediction)
    except Exception as error:  # a benchmark records a failure and goes on
        outcome.failure = f"{type(error).__name__}: {str(error)[:200]}"
    return outcome


def run_sklearn_script(table: Table, train: Path, test: Path, seed: int) -> Outcome:
    """The MLP pipeline as a user's script: a new Python process that imports pandas and
    scikit-learn, reads the CSV, fits and scores; timed whole, as the retroprop command is."""
    command = [sys.executable, __file__, "--as-script", table.name, str(train), str(test)]
    done, wall, cpu = _run([*command, str(seed)])
    outcome = Outcome(wall=wall, cpu=cpu)
    if done.returncode != 0:
        outcome.failure = f"script exit {done.returncode}: {_last_error(done)}"
    else:
        outcome.score = float(done.stdout.split()[-1])
    return outcome


def as_script(name: str, train: str, test: str, seed: str) -> None:
    """The body of :func:`run_sklearn_script`'s process: print the MLP pipeline's score."""
    table = next(t for t in TABLES if t.name == name)
    with threadpool_limits(1):
        outcome = run_sklearn("mlp", table, Path(train), Path(test), int(seed))
    if outcome.score is None:
        sys.exit(outcome.failure)
    print(outcome.score)


CONTENDERS = ("retroprop", "sklearn MLP", "HGB", "MLP script")


def run_table(
    table: Table, seed: int, max_rows: int | None, rp_flags: Sequence[str] = ()
) -> tuple[int, dict[str, Outcome]]:
    """All contenders on one table and seed, in an order that rotates with the seed."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{table.name}-") as folder:
        train, test, n_rows = split_raw(table, Path(folder), seed, max_rows)
        runs = {
            "retroprop": lambda: run_retroprop(table, train, test, seed, *rp_flags),
            "sklearn MLP": lambda: run_sklearn("mlp", table, train, test, seed),
            "HGB": lambda: run_sklearn("hgb", table, train, test, seed),
            "MLP script": lambda: run_sklearn_script(table, train, test, seed),
        }
        order = CONTENDERS[seed % 4 :] + CONTENDERS[: seed % 4]
        outcomes = {name: runs[name]() for name in order}
    return n_rows, outcomes


def summarise(outcomes: list[Outcome]) -> tuple[str, float, float]:
    """Mean score ('fail' when any seed failed), median wall and CPU times."""
    scores = [o.score for o in outcomes]
    shown = "fail" if None in scores else f"{statistics.fmean(scores):.3f}"  # type: ignore[arg-type]
    return (
        shown,
        statistics.median(o.wall for o in outcomes),
        statistics.median(o.cpu for o in outcomes),
    )


def table_row(table: Table, n_rows: int, results: dict[str, list[Outcome]]) -> str:
    """One Markdown row: scores, times and retroprop's time over the MLP pipeline's."""
    rp, mlp, hgb, script = (summarise(results[name]) for name in CONTENDERS)
    ratio_cpu = rp[2] / mlp[2] if mlp[2] else float("nan")
    script_wall = rp[1] / script[1] if script[1] else float("nan")
    script_cpu = rp[2] / script[2] if script[2] else float("nan")
    reports = [o.report for o in results["retroprop"] if o.report is not None]
    report = f"{min(reports):.2f}" if reports else "-"
    return (
        f"| {table.name} | {n_rows:,} | {table.task} | {METRIC[table.task]} | {rp[0]} | "
        f"{mlp[0]} | {hgb[0]} | {rp[1]:.1f} | {report} | {mlp[1]:.1f} | {hgb[1]:.1f} | "
        f"{script[1]:.1f} | {ratio_cpu:.1f}x | {script_wall:.1f}x | {script_cpu:.1f}x |"
    )


# "MLP fit": the pipeline's fit alone, inside this process; "MLP script": the same pipeline as a
# user's whole script (process start, imports, reading the CSV, fit, scoring), like the command.
# "rp report s": the command's own "Report written in X s" (the gradient-flow summary and the
# saved folder: model, history.csv, metrics.json, report.html), the fastest seed.
HEADER = (
    "| table | rows | task | metric | retroprop | sklearn MLP | HGB | rp s | rp report s "
    "| MLP fit s | HGB s | MLP script s | rp/MLP-fit cpu | rp/MLP-script wall "
    "| rp/MLP-script cpu |\n"
    "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def report_notes(name: str, results: dict[str, list[Outcome]]) -> list[str]:
    """What failed and what each contender warned about, once per distinct message."""
    lines = []
    for contender, outcomes in results.items():
        seen: list[str] = []
        for outcome in outcomes:
            for text in ([f"FAILED {outcome.failure}"] if outcome.failure else []) + outcome.notes:
                if text not in seen:
                    seen.append(text)
        lines += [f"- {name} / {contender}: {text}" for text in seen]
    return lines


def main(argv: list[str] | None = None) -> None:
    """Parse the options, run every table (contenders interleaved), print the table and notes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    if argv is None and sys.argv[1:2] == ["--as-script"]:
        return as_script(*sys.argv[2:6])
    parser.add_argument("--tables", help="comma-separated names (default: all five)")
    parser.add_argument("--max-rows", type=int, help="cap each table at this many rows")
    parser.add_argument("--seeds", type=int, default=1, help="splits and seeds per table")
    parser.add_argument("--quick", action="store_true", help="3 tables, at most 3,000 rows")
    parser.add_argument(
        "--rp-flags",
        default="",
        help="options added to `retroprop train`, e.g. '--lr 0.003 --batch-size 200' "
        "(default: none, the command's own defaults)",
    )
    args = parser.parse_args(argv)
    names = args.tables.split(",") if args.tables else [t.name for t in TABLES]
    max_rows = args.max_rows
    if args.quick:
        names = [n for n in names if n in QUICK["tables"]] if args.tables else QUICK["tables"]
        max_rows = max_rows or QUICK["max_rows"]
    unknown = sorted(set(names) - {t.name for t in TABLES})
    if unknown:
        parser.error(f"--tables: unknown {unknown}; known: {[t.name for t in TABLES]}")
    rows, notes = [], []
    for table in (t for t in TABLES if t.name in names):
        results: dict[str, list[Outcome]] = {name: [] for name in CONTENDERS}
        for seed in range(args.seeds):
            n_rows, outcomes = run_table(table, seed, max_rows, shlex.split(args.rp_flags))
            for name, outcome in outcomes.items():
                results[name].append(outcome)
            print(f"{table.name} seed {seed}: " + ", ".join(
                f"{k} {'fail' if o.score is None else f'{o.score:.3f}'} ({o.wall:.1f} s)"
                for k, o in outcomes.items()
            ), file=sys.stderr, flush=True)  # fmt: skip
        rows.append(table_row(table, n_rows, results))
        notes += report_notes(table.name, results)
    print(HEADER, *rows, "", "Failures and warnings:", *notes, sep="\n")


if __name__ == "__main__":
    main()
