"""A run's folder: the model (``rp.save`` format, with its preprocessing as JSON metadata),
``history.csv``, ``metrics.json`` and ``report.html``, each written atomically."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from retroprop.cli.files import atomic_write, json_safe, write_history_csv, write_json
from retroprop.cli.network import evaluate, predict
from retroprop.cli.prepare import SPLITS, PreparedData

__all__ = [
    "RunResult",
    "default_out_dir",
    "results_table",
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
    """

    history: Any
    status: str
    level: str
    outcome: str
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    gradient_flow: Any = None


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


def evaluate_splits(model: Any, data: PreparedData) -> dict[str, dict[str, float]]:
    """Loss and metrics on each split there is."""
    return {
        split: evaluate(model, data.X[split], data.targets[split], data.target)
        for split in SPLITS
        if split in data.X
    }


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
    lines = ["split     " + "".join(f"{n:>{w + 2}}" for n, w in zip(names, widths, strict=True))]
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
        lines.append(f"{split:<10}" + "".join(cells))
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


def _evaluation(model: Any, data: PreparedData) -> Any:
    from retroprop.report import Evaluation

    split = next(s for s in ("test", "validation", "train") if s in data.X)
    prediction = predict(model, data.X[split], data.target)
    if data.target.classification:
        return Evaluation(split, data.y(split), prediction.argmax(axis=1))
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
        metrics=result.metrics,
        model=model,
        class_names=data.target.classes,
        evaluation=_evaluation(model, data),
        boundary=_boundary(model, data),
        best_epoch=getattr(history, "best_epoch", None),
        loss_name=str(settings.get("loss", "loss")).split(" (")[0],
        target_name=data.target.name,
        gradient_flow=result.gradient_flow,
        data_summary=data.summary or None,
    )


def _summary(data: PreparedData, result: RunResult) -> dict[str, Any]:
    """How the run went, for ``metrics.json`` and the model's metadata."""
    history = result.history
    return {
        "outcome": result.outcome,
        "status": result.status,
        "epochs_run": len(history.epoch) if history is not None else 0,
        "best_epoch": getattr(history, "best_epoch", None),
        "seconds": (history.params.get("seconds") if history is not None else None),
        "task": data.target.task,
        "class_names": data.target.classes,
        "rows": {split: len(frame) for split, frame in data.frames.items()},
        "metrics": result.metrics,
    }


def save_run(
    out: Path,
    model: Any,
    data: PreparedData,
    result: RunResult,
    settings: Mapping[str, Any],
    options: Mapping[str, Any],
) -> Path:
    """Write the model, ``history.csv``, ``metrics.json`` and ``report.html`` into ``out``."""
    import retroprop as rp
    from retroprop.report import build_report

    out.mkdir(parents=True, exist_ok=True)
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
    rp.save(model, out, metadata=json_safe(metadata))
    history = result.history
    epochs = list(history.epoch) if history is not None else []
    logs = dict(history.history) if history is not None else {}
    write_history_csv(out / "history.csv", epochs, logs)
    write_json(out / "metrics.json", {**summary, "settings": dict(settings)})
    atomic_write(out / "report.html", build_report(run_record(model, data, result, settings)))
    return out
