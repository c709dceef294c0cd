"""What ``fit`` computes after each epoch: validation loss, metrics, and the printed line."""

from __future__ import annotations

from typing import Any

import numpy as np

from retroprop.grad_mode import no_grad
from retroprop.tensor import Tensor
from retroprop.training.objectives import Objective

__all__ = ["evaluate", "metric_logs", "format_line"]


def evaluate(
    model: Any, objective: Objective, X: np.ndarray, y: np.ndarray, chunk: int = 8192
) -> tuple[float, np.ndarray]:
    """Mean loss and raw outputs on (X, y) in eval mode, without recording a graph."""
    model.eval()
    outputs = []
    total = 0.0
    with no_grad():
        for start in range(0, X.shape[0], chunk):
            out = model(Tensor(X[start : start + chunk]))
            target = y[start : start + chunk]
            total += objective.function(out, target).item() * out.shape[0]
            outputs.append(out.data)
    model.train()
    return total / X.shape[0], np.concatenate(outputs)


def metric_logs(
    objective: Objective, metric_functions: list, y: np.ndarray, outputs: np.ndarray, prefix: str
) -> dict[str, float]:
    """Each metric on (y, predictions made from the raw outputs), keyed ``prefix + name``."""
    if not metric_functions:
        return {}
    predictions = objective.predictions(outputs)
    return {prefix + name: function(y, predictions) for name, function in metric_functions}


def format_line(epoch: int, epochs: int, previous: float, logs: dict[str, float]) -> str:
    """The course's per-epoch line: ``Epoch  3 | loss 0.69315 -> 0.61234 | val_loss ...``.

    "loss a -> b" goes from the previous epoch's mean batch loss (for the first epoch: the loss
    of the first batch, before any update) to this epoch's.

    Examples
    --------
    >>> format_line(3, 30, 0.69315, {"loss": 0.61234, "val_loss": 0.60871, "accuracy": 0.7123})
    'Epoch  3 | loss 0.69315 -> 0.61234 | val_loss 0.60871 | accuracy 0.712'
    """
    width = max(2, len(str(epochs)))
    parts = [f"Epoch {epoch:{width}d}", f"loss {previous:.5f} -> {logs['loss']:.5f}"]
    for key, value in logs.items():
        if key in ("loss", "lr"):
            continue
        parts.append(f"{key} {value:.5f}" if "loss" in key else f"{key} {value:.3f}")
    return " | ".join(parts)
