"""Which training defaults give a good model on a table nobody tuned for, and at what cost.

On the tables of ``bench_tables.py`` (same packages, same raw split), the rows are prepared once
with scikit-learn's transformers (median imputation + standardisation for numbers, a "missing"
category + one-hot for the rest; a regression target standardised), then ``rp.fit`` trains a
ReLU MLP under each candidate setting below, and scikit-learn's MLPClassifier / MLPRegressor
(defaults, ``early_stopping=True``) trains on the very same arrays as the reference. Both run
on one BLAS thread; the times are ``fit`` alone (no diagnostics, no report, no per-epoch
metric), wall and CPU.

Each setting is (optimiser Adam, learning rate, batch size, epoch cap, early-stopping patience
on the validation loss with the best weights restored, validation fraction, hidden widths).
"cli-today" is the command's default today: lr 1e-2, batch 32, 100 epochs, no early stopping.

Run: ``nice -n 10 python benchmarks/defaults_study.py [--tables a,b] [--max-rows 10000]
[--seeds 1] [--settings name,name]``. Prints one Markdown table per table, and a summary:
each setting's mean score gap to scikit-learn's MLP and its median time ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from bench_tables import METRIC, TABLES, Table, preprocessing, read_frame, score, split_raw
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import retroprop as rp
from retroprop.callbacks import EarlyStopping
from retroprop.nn.inference import predict


class Setting(NamedTuple):
    """One candidate default: Adam's learning rate, batch size, epochs, stopping, widths."""

    lr: float
    batch_size: int
    epochs: int
    patience: int | None  # None: no early stopping
    validation: float
    hidden: tuple[int, ...] = (32, 16)


SETTINGS = {
    "cli-today": Setting(1e-2, 32, 100, None, 0.2),
    "cli+es10": Setting(1e-2, 32, 100, 10, 0.2),
    "lr1e-2/b128/es10": Setting(1e-2, 128, 200, 10, 0.2),
    "lr3e-3/b64/es10": Setting(3e-3, 64, 200, 10, 0.2),
    "lr1e-3/b200/es10": Setting(1e-3, 200, 200, 10, 0.1),
    "lr3e-3/b200/es10": Setting(3e-3, 200, 200, 10, 0.1),
    "lr3e-3/b200/es5": Setting(3e-3, 200, 200, 5, 0.1),
    "lr3e-3/b200/es20": Setting(3e-3, 200, 200, 20, 0.1),
    "lr3e-3/b200/es10/v0.2": Setting(3e-3, 200, 200, 10, 0.2),
    "lr3e-3/b200/es10/h100": Setting(3e-3, 200, 200, 10, 0.1, (100,)),
}


class Prepared(NamedTuple):
    """Arrays of one split of one table, ready for both libraries."""

    X: np.ndarray
    y: np.ndarray  # class indices, or the standardised target
    X_test: np.ndarray
    y_test: Any  # the raw held-out target (a pandas Series)
    classes: list[str]
    y_scaler: StandardScaler | None


def prepare(table: Table, seed: int, max_rows: int | None) -> tuple[Prepared, int]:
    """Split the raw table as bench_tables does, then fit the preprocessing on the train rows."""
    with tempfile.TemporaryDirectory(prefix=f"defaults-{table.name}-") as folder:
        train, test, n_rows = split_raw(table, Path(folder), seed, max_rows)
        X, y = read_frame(train, table.target)
        X_test, y_test = read_frame(test, table.target)
    transform = preprocessing().fit(X)
    X_array = transform.transform(X).astype(np.float32)
    X_test_array = transform.transform(X_test).astype(np.float32)
    if table.task == "regression":
        scaler = StandardScaler().fit(y.to_numpy(float).reshape(-1, 1))
        targets = scaler.transform(y.to_numpy(float).reshape(-1, 1)).astype(np.float32)
        return Prepared(X_array, targets, X_test_array, y_test, [], scaler), n_rows
    classes = sorted(y.astype(str).unique())
    index = np.searchsorted(classes, y.astype(str).to_numpy())
    return Prepared(X_array, index, X_test_array, y_test, classes, None), n_rows


def fit_retroprop(task: str, data: Prepared, setting: Setting, seed: int) -> tuple[Any, int]:
    """rp.fit under one setting; return the model and the number of epochs run."""
    rp.manual_seed(seed)
    width = 1 if task != "multiclass" else len(data.classes)
    model = rp.nn.mlp([data.X.shape[1], *setting.hidden, width], activation="relu")
    if task == "binary":
        loss, y = "binary_cross_entropy_with_logits", data.y.reshape(-1, 1).astype(np.float32)
    elif task == "multiclass":
        loss, y = "cross_entropy", data.y
    else:
        loss, y = "mse", data.y
    callbacks = [] if setting.patience is None else [EarlyStopping(patience=setting.patience)]
    history = rp.fit(
        model,
        data.X,
        y,
        loss=loss,
        optimizer=rp.optim.Adam(model.parameters(), lr=setting.lr),
        epochs=setting.epochs,
        batch_size=setting.batch_size,
        validation_split=setting.validation,
        callbacks=callbacks,
        verbose=0,
        seed=seed,
    )
    return model, len(history)


def evaluate(task: str, data: Prepared, outputs: np.ndarray) -> float:
    """The held-out score of a network's outputs (logits, or standardised values)."""
    if task == "binary":
        return score(task, data.y_test, outputs.ravel())  # AUC: logits rank like probabilities
    if task == "multiclass":
        return score(task, data.y_test, np.asarray(data.classes)[outputs.argmax(axis=1)])
    assert data.y_scaler is not None
    return score(task, data.y_test, data.y_scaler.inverse_transform(outputs).ravel())


def timed(run: Any) -> tuple[Any, float, float]:
    """(result, wall seconds, CPU seconds) of ``run()`` on one BLAS thread."""
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wall, cpu = time.perf_counter(), time.process_time()
        result = run()
        return result, time.perf_counter() - wall, time.process_time() - cpu


def reference(task: str, data: Prepared, seed: int) -> tuple[float, float, float, int]:
    """scikit-learn's MLP (defaults, early stopping) on the same arrays: score, times, epochs."""
    if task == "regression":
        model = MLPRegressor(early_stopping=True, random_state=seed)
        _, wall, cpu = timed(lambda: model.fit(data.X, data.y.ravel()))
        outputs = model.predict(data.X_test).reshape(-1, 1)
    else:
        model = MLPClassifier(early_stopping=True, random_state=seed)
        _, wall, cpu = timed(lambda: model.fit(data.X, data.y))
        outputs = model.predict_proba(data.X_test)
        outputs = outputs[:, 1:] if task == "binary" else outputs
    return evaluate(task, data, outputs), wall, cpu, model.n_iter_


def study_table(table: Table, names: list[str], seeds: int, max_rows: int | None) -> list[dict]:
    """Every setting and the reference on one table, interleaved seed by seed."""
    records = []
    for seed in range(seeds):
        data, n_rows = prepare(table, seed, max_rows)
        sk_score, sk_wall, sk_cpu, sk_epochs = reference(table.task, data, seed)
        records.append(dict(setting="sklearn MLP", score=sk_score, wall=sk_wall, cpu=sk_cpu,
                            epochs=sk_epochs, seed=seed, rows=n_rows))  # fmt: skip
        for name in names:
            fitted, wall, cpu = timed(
                partial(fit_retroprop, table.task, data, SETTINGS[name], seed)
            )
            model, epochs = fitted
            value = evaluate(table.task, data, predict(model, data.X_test))
            records.append(dict(setting=name, score=value, wall=wall, cpu=cpu, epochs=epochs,
                                seed=seed, rows=n_rows, gap=value - sk_score,
                                ratio=cpu / sk_cpu))  # fmt: skip
            line = f"{table.name} seed {seed} {name}: {value:.3f} (sklearn {sk_score:.3f}) "
            print(line + f"{wall:.1f} s / {sk_wall:.1f} s, {epochs} epochs", file=sys.stderr)
    return records


def print_table(table: Table, records: list[dict]) -> None:
    """One Markdown table: each setting's mean score, epochs and median times."""
    print(f"\n### {table.name}: {records[0]['rows']:,} rows, {table.task}, {METRIC[table.task]}")
    print("| setting | score | epochs | wall s | cpu s | cpu / sklearn MLP |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in dict.fromkeys(r["setting"] for r in records):
        rows = [r for r in records if r["setting"] == name]
        ratio = statistics.median(r.get("ratio", 1.0) for r in rows)
        print(
            f"| {name} | {statistics.fmean(r['score'] for r in rows):.3f} | "
            f"{statistics.fmean(r['epochs'] for r in rows):.0f} | "
            f"{statistics.median(r['wall'] for r in rows):.2f} | "
            f"{statistics.median(r['cpu'] for r in rows):.2f} | {ratio:.1f}x |"
        )


def print_summary(records: list[dict]) -> None:
    """Across tables: mean score gap to scikit-learn's MLP, worst gap, median CPU-time ratio."""
    print("\n### All tables: retroprop setting minus scikit-learn's MLP")
    print("| setting | mean gap | worst gap | median cpu ratio | worst cpu ratio |")
    print("|---|---:|---:|---:|---:|")
    for name in dict.fromkeys(r["setting"] for r in records if "gap" in r):
        rows = [r for r in records if r["setting"] == name]
        print(
            f"| {name} | {statistics.fmean(r['gap'] for r in rows):+.3f} | "
            f"{min(r['gap'] for r in rows):+.3f} | "
            f"{statistics.median(r['ratio'] for r in rows):.1f}x | "
            f"{max(r['ratio'] for r in rows):.1f}x |"
        )


def main(argv: list[str] | None = None) -> None:
    """Parse the options, run the study, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", help="comma-separated names (default: all five)")
    parser.add_argument("--max-rows", type=int, default=10_000, help="cap per table")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--settings", help=f"comma-separated, of: {', '.join(SETTINGS)}")
    args = parser.parse_args(argv)
    names = args.settings.split(",") if args.settings else list(SETTINGS)
    if set(names) - set(SETTINGS):
        parser.error(f"--settings: unknown {sorted(set(names) - set(SETTINGS))}")
    wanted = args.tables.split(",") if args.tables else [t.name for t in TABLES]
    everything = []
    for table in (t for t in TABLES if t.name in wanted):
        records = study_table(table, names, args.seeds, args.max_rows)
        print_table(table, records)
        everything += records
    print_summary(everything)


if __name__ == "__main__":
    main()
