"""A run's folder: the model (``rp.save`` format, with its preprocessing as JSON metadata),
``history.csv``, ``metrics.json``, ``report.html`` and ``manifest.json``, written as one unit.

:func:`run_folder` is entered before training: it checks that ``--out`` can be written (a
read-only parent, a file in the way, a folder of the user's own files without ``--overwrite``),
takes the lock that refuses a second writer, and yields a staging folder beside ``--out``.
:func:`save_run` writes every file into that staging folder; when the block ends, the manifest
is added and the folder swapped into place in one rename (see :func:`retroprop.io.staged_folder`),
so a kill, a Ctrl-C or a full disk leaves the previous run or the new one, never a mix."""

from __future__ import annotations

import contextlib
import datetime
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from retroprop.cli.errors import CLIError
from retroprop.cli.files import (
    SaveError,
    atomic_write,
    json_safe,
    staged_folder,
    write_history_csv,
    write_json,
)
from retroprop.cli.network import predict
from retroprop.cli.prepare import SPLITS, PreparedData

__all__ = [
    "RunResult",
    "check_out",
    "default_out_dir",
    "results_table",
    "run_folder",
    "run_record",
    "save_run",
    "METADATA_KIND",
]

METADATA_KIND = "retroprop-cli-run"


@dataclass
class RunResult:
    """How a training run ended.

    Attributes
    ----------
    history : History or None
    status : str
        One sentence for the terminal and the report.
    level : {"ok", "warn", "bad"}
    outcome : {"completed", "interrupted", "diverged"}
    metrics : dict
        Split -> {"loss": ..., metric: ...}.
    gradient_flow : retroprop.report.gradient_flow.GradientFlow or None
        The per-layer gradient figures recorded during training.
    details : dict
        Classification: per-class scores and the confusion matrix of the held-out split.
    baseline : dict
        "baseline (<split>)" -> the baseline's scores on the last held-out split.
    verdict : retroprop.cli.verdict.Verdict or None
        The one-line verdict and the findings with the flag to try.
    command : str
        The command that reproduces the run, seed included.
    threshold : float
        Binary decision threshold (``--threshold``).
    report_seconds : float
        Time spent drawing the gradient-flow figure (the rest of the report is timed around
        ``save_run``).
    trials : list of dict or None
        ``retroprop tune``: one row per trial of the search, best first (the report's "Trials").
    """

    history: Any
    status: str
    level: str
    outcome: str
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    gradient_flow: Any = None
    details: dict[str, Any] = field(default_factory=dict)
    baseline: dict[str, dict[str, float]] = field(default_factory=dict)
    verdict: Any = None
    command: str = ""
    threshold: float = 0.5
    report_seconds: float = 0.0
    trials: list[dict[str, Any]] | None = None


def default_out_dir(source: str, root: str = "runs") -> Path:
    """``runs/<source>-<YYYYmmdd-HHMMSS>``, with a suffix if that folder exists.

    Examples
    --------
    >>> default_out_dir("circles").name.startswith("circles-")
    True
    """
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in source) or "run"
    path = Path(root) / f"{safe}-{stamp}"
    suffix = 2
    while path.exists():
        path = Path(root) / f"{safe}-{stamp}-{suffix}"
        suffix += 1
    return path


def split_weights(data: PreparedData, split: str, class_weight: str = "none") -> Any:
    """The rows' weights of a split: None, or with ``--class-weight balanced`` the weight of
    each row's class, fitted on the training rows (n / (k * count))."""
    if class_weight != "balanced" or not data.target.classification:
        return None
    from retroprop.cli.metrics import balanced_weights

    train = data.y("train")
    per_class = np.zeros(len(data.target.classes))
    per_class[train] = balanced_weights(train)
    return per_class[data.y(split)]


def _baseline(data: PreparedData, split: str, threshold: float) -> dict[str, float]:
    """The scores of a model that learned only the training targets: the training class
    frequencies as probabilities (majority class), or the training mean."""
    from retroprop.cli.metrics import classification_scores, regression_scores
    from retroprop.cli.network import loss_from_logits

    target, y = data.target, data.y(split)
    if target.classification:
        prior = np.bincount(data.y("train"), minlength=len(target.classes)) / len(data.y("train"))
        with np.errstate(divide="ignore"):
            z = np.log(prior) if target.task == "multiclass" else np.log(prior[1:] / prior[:1])
        loss = loss_from_logits(np.tile(z, (len(y), 1)), y, target)
        majority = np.zeros((len(y), len(prior)))
        majority[:, int(np.argmax(prior))] = 1.0
        return {"loss": loss, **classification_scores(y, majority, threshold)}
    mean = np.full(len(y), target.mean)
    truth = np.asarray(data.targets[split], dtype=np.float64)
    loss = loss_from_logits(np.zeros((len(y), 1)), y, target)
    return {"loss": loss, **regression_scores(truth, mean)}


def evaluate_splits(
    model: Any, data: PreparedData, threshold: float = 0.5, class_weight: str = "none"
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]], dict[str, Any]]:
    """The scores of each split there is, and of the baseline on the last held-out split.

    Returns
    -------
    metrics : dict
        Split name -> {"loss": ..., score: ...}: the loss from the logits as training
        computed it (weighted as training weighed it), then the scores of
        :mod:`retroprop.cli.metrics`.
    baseline : dict
        "baseline (<split>)" -> the same scores for the model that learned only the training
        targets (majority class or mean); shown as the last row of the tables.
    details : dict
        Classification: per-class precision/recall/F1 and the confusion matrix of that split.
    """
    from retroprop.cli.metrics import class_details, classification_scores, regression_scores
    from retroprop.cli.network import from_logits, logits, loss_from_logits

    metrics: dict[str, dict[str, float]] = {}
    details: dict[str, Any] = {}
    target = data.target
    splits = [split for split in SPLITS if split in data.X]
    for split in splits:
        z = logits(model, data.X[split], target)
        y = data.y(split)
        row = {"loss": loss_from_logits(z, y, target, split_weights(data, split, class_weight))}
        prediction = from_logits(z, target)
        if target.classification:
            row.update(classification_scores(y, prediction, threshold))
            details = {"split": split, **class_details(y, prediction, target.classes, threshold)}
        else:
            truth = np.asarray(data.targets[split], dtype=np.float64)
            row.update(regression_scores(truth, prediction))
        metrics[split] = row
    held_out = splits[-1]
    baseline = {f"baseline ({held_out})": _baseline(data, held_out, threshold)}
    return metrics, baseline, details


def results_table(metrics: Mapping[str, Mapping[str, float]]) -> str:
    """The final figures, one row per split.

    Examples
    --------
    >>> print(results_table({"train": {"loss": 0.1, "accuracy": 0.95},
    ...                      "test": {"loss": 0.2, "accuracy": 0.9}}))
    split           loss  accuracy
    train        0.10000     0.950
    test         0.20000     0.900
    """
    names = list(dict.fromkeys(k for row in metrics.values() for k in row))
    widths = [max(8, len(n)) for n in names]
    first = max([10, *(len(split) + 2 for split in metrics)])
    lines = [
        f"{'split':<{first}}" + "".join(f"{n:>{w + 2}}" for n, w in zip(names, widths, strict=True))
    ]
    for split, row in metrics.items():
        cells = []
        for name, width in zip(names, widths, strict=True):
            value = row.get(name)
            if value is None or not np.isfinite(value):
                text = "-"
            elif abs(value) >= 1e5:
                text = f"{value:.3g}"
            elif name == "loss":
                text = f"{value:.5f}"
            elif name in ("mae", "rmse"):
                text = f"{value:.4g}"
            else:
                text = f"{value:.3f}"
            cells.append(f"{text:>{width + 2}}")
        lines.append(f"{split:<{first}}" + "".join(cells))
    return "\n".join(lines)


def _boundary(model: Any, data: PreparedData) -> Any:
    """The decision-boundary input for 2-D numeric data, else None."""
    prep = data.preprocessing
    if not data.target.classification or len(prep.columns) != 2 or prep.categorical:
        return None
    import pandas as pd

    from retroprop.report.figures import Boundary

    splits = [s for s in SPLITS if s in data.frames]
    X = np.concatenate([data.frames[s].to_numpy(dtype=np.float64) for s in splits])
    y = np.concatenate([data.y(s) for s in splits])
    held_out = np.concatenate([np.full(len(data.frames[s]), s != "train") for s in splits])

    def predict_proba(points: np.ndarray) -> np.ndarray:
        frame = pd.DataFrame(points, columns=prep.columns)
        return predict(model, prep.transform(frame), data.target)

    return Boundary(predict_proba, X, y, held_out, data.target.classes, prep.columns)


def _evaluation(model: Any, data: PreparedData, threshold: float = 0.5) -> Any:
    from retroprop.cli.metrics import decide
    from retroprop.report import Evaluation

    split = next(s for s in ("test", "validation", "train") if s in data.X)
    prediction = predict(model, data.X[split], data.target)
    if data.target.classification:
        return Evaluation(split, data.y(split), decide(prediction, threshold))
    return Evaluation(split, np.asarray(data.targets[split], dtype=np.float64), prediction)


def run_record(
    model: Any, data: PreparedData, result: RunResult, settings: Mapping[str, Any]
) -> Any:
    """The :class:`~retroprop.report.RunRecord` the report's panels are drawn from."""
    from retroprop.report import RunRecord

    history = result.history
    return RunRecord(
        title=f"retroprop: {data.source}",
        status=result.status,
        status_level=result.level,
        settings=settings,
        history=dict(history.history) if history is not None else {},
        epochs=list(history.epoch) if history is not None else [],
        metrics={**result.metrics, **result.baseline},
        model=model,
        class_names=data.target.classes,
        evaluation=_evaluation(model, data, result.threshold),
        boundary=_boundary(model, data),
        best_epoch=getattr(history, "best_epoch", None),
        loss_name=str(settings.get("loss", "loss")).split(" (")[0],
        target_name=data.target.name,
        gradient_flow=result.gradient_flow,
        command=result.command,
        verdict=str(result.verdict) if result.verdict is not None else "",
        details=result.details,
        data_summary=data.summary or None,
        trials=result.trials,
    )


def _summary(data: PreparedData, result: RunResult) -> dict[str, Any]:
    """How the run went, for ``metrics.json`` and the model's metadata."""
    history = result.history
    return {
        "outcome": result.outcome,
        "status": result.status,
        "epochs_run": len(history.epoch) if history is not None else 0,
        "best_epoch": getattr(history, "best_epoch", None),
        "kept_epoch": history.params.get("kept_epoch") if history is not None else None,
        "seconds": (history.params.get("seconds") if history is not None else None),
        "task": data.target.task,
        "class_names": data.target.classes,
        "rows": {split: len(frame) for split, frame in data.frames.items()},
        "metrics": result.metrics,
        "baseline": result.baseline,
        "details": result.details,
        "verdict": str(result.verdict) if result.verdict is not None else None,
        "threshold": result.threshold if data.target.task == "binary" else None,
        "command": result.command,
    }


def check_out(out: Path, overwrite: bool) -> None:
    """Refuse an ``--out`` that cannot hold a run, naming it, before the lock is taken.

    Called before any training (``retroprop train``, and ``retroprop tune`` before its trials)
    so a bad folder fails in a second, not after the run.

    Raises
    ------
    CLIError
        ``out`` is a file; a folder of other files and no retroprop run (without
        ``overwrite``); or under a file or a folder that cannot be written.

    Examples
    --------
    >>> import tempfile
    >>> check_out(Path(tempfile.mkdtemp()) / "new-run", overwrite=False)  # may be created
    """
    from retroprop._io_publish import is_model_folder

    if os.path.lexists(out) and (out.is_symlink() or not out.is_dir()):
        raise CLIError(f"--out {out}: it is a file; a run is saved as a folder")
    if out.is_dir() and not overwrite and any(out.iterdir()) and not is_model_folder(out):
        raise CLIError(
            f"--out {out}: the folder holds other files and no retroprop run; they would all be "
            "replaced",
            hint="choose a new or empty folder, or pass --overwrite to replace it all",
        )
    # the run is staged beside ``out``: the first folder that exists above it must be writable
    parent = next((p for p in out.parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise CLIError(f"--out {out}: {parent} is a file, not a folder")
    if parent is not None and not os.access(parent, os.W_OK | os.X_OK):
        raise CLIError(f"--out {out}: cannot write into {parent} (permission denied or read-only)")


@contextlib.contextmanager
def run_folder(out: Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Check and lock ``out``, yield a staging folder; publish it as ``out`` when the block ends.

    Enter it before training: a folder that cannot be written is refused at once. When the block
    raises, nothing is published and ``out`` keeps its previous run.

    Raises
    ------
    CLIError
        ``out`` is a file, a folder of other files (without ``overwrite``), or not writable.
    SaveError
        Another process is writing ``out``, or writing failed (no space...): one line naming it.
    """
    out = Path(os.path.abspath(out))
    check_out(out, overwrite)
    with staged_folder(out, overwrite=overwrite) as folder:
        yield folder


def save_run(
    folder: Path,
    model: Any,
    data: PreparedData,
    result: RunResult,
    settings: Mapping[str, Any],
    options: Mapping[str, Any],
) -> Path:
    """Write the model, ``history.csv``, ``metrics.json`` and ``report.html`` into ``folder``.

    ``folder`` is the staging folder :func:`run_folder` yields; the manifest and the swap into
    place happen when that block ends.

    Raises
    ------
    SaveError
        A file could not be written (no space, permission...), naming it.
    """
    from retroprop.io import write_model_files
    from retroprop.report import build_report

    summary = _summary(data, result)
    metadata = {
        "kind": METADATA_KIND,
        "source": data.source,
        "preprocessing": data.preprocessing.to_json(),
        "target": data.target.to_json(),
        "feature_names": data.preprocessing.feature_names,
        "options": dict(options),
        "training": summary,
    }
    try:
        write_model_files(model, folder, json_safe(metadata))
    except SaveError:
        raise
    except OSError as error:  # safetensors or json writing: one line naming the folder
        raise SaveError(
            f"cannot write the model into {folder}: {error.strerror or error}"
        ) from error
    history = result.history
    epochs = list(history.epoch) if history is not None else []
    logs = dict(history.history) if history is not None else {}
    write_history_csv(folder / "history.csv", epochs, logs)
    write_json(folder / "metrics.json", {**summary, "settings": dict(settings)})
    atomic_write(folder / "report.html", build_report(run_record(model, data, result, settings)))
    return folder
