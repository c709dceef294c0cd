"""What ``fit`` computes after each epoch: validation loss, metrics, and the printed line."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from retroprop.nn.inference import DEFAULT_CHUNK_ROWS, iter_outputs
from retroprop.tensor import Tensor
from retroprop.training.objectives import Objective

__all__ = ["evaluate", "metric_logs", "format_line", "per_example_loss"]


def per_example_loss(objective: Objective, output: Tensor, target: np.ndarray) -> Tensor:
    """The loss of each row, shape (n,): ``reduction="none"`` averaged over any other axis."""
    per_example = objective.function(output, target, reduction="none")
    if per_example.ndim > 1:
        per_example = per_example.mean(axis=tuple(range(1, per_example.ndim)))
    return per_example


def evaluate(
    model: Any,
    objective: Objective,
    X: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> tuple[float, np.ndarray]:
    """Mean loss and raw outputs on (X, y): evaluation mode, no graph, modes restored.

    Parameters
    ----------
    model : Module
    objective : Objective
    X : ndarray of shape (n_samples, n_features)
    y : ndarray
        Targets as the loss takes them.
    weights : ndarray of shape (n_samples,), optional
        Sample weights: the loss is then sum_i w_i l_i / sum_i w_i, as in training.
    chunk_rows : int
        Rows per forward pass.

    Returns
    -------
    loss : float
    outputs : ndarray of shape (n_samples, ...)

    Examples
    --------
    >>> from retroprop.training.objectives import resolve_loss
    >>> model = nn.Sequential(nn.Linear(1, 1, dtype=np.float64))
    >>> model[0].weight.data[...], model[0].bias.data[...] = 0.0, 0.0
    >>> X, y = np.zeros((4, 1)), np.array([[1.0], [1.0], [1.0], [3.0]])
    >>> evaluate(model, resolve_loss("mse"), X, y)[0]
    3.0
    >>> evaluate(model, resolve_loss("mse"), X, y, weights=np.array([1.0, 1, 1, 0]))[0]
    1.0
    """
    outputs = []
    total = 0.0
    for rows, output in iter_outputs(model, X, chunk_rows):
        target = y[rows]
        if weights is None:
            total += objective.function(output, target).item() * output.shape[0]
        else:
            losses = per_example_loss(objective, output, target).data
            total += float(np.dot(losses.astype(np.float64), weights[rows].astype(np.float64)))
        outputs.append(output.data)
    count = X.shape[0] if weights is None else float(np.sum(weights, dtype=np.float64))
    return total / count, np.concatenate(outputs)


def _takes_sample_weight(function: Any) -> bool:
    try:
        return "sample_weight" in inspect.signature(function).parameters
    except (TypeError, ValueError):  # a builtin without a signature
        return False


def metric_logs(
    objective: Objective,
    metric_functions: list,
    y: np.ndarray,
    outputs: np.ndarray,
    prefix: str,
    weights: np.ndarray | None = None,
) -> dict[str, float]:
    """Each metric on (y, predictions made from the raw outputs), keyed ``prefix + name``.

    With ``weights``, a metric that takes ``sample_weight`` (the built-in ones, and
    scikit-learn's) is weighted by them, as the loss is.
    """
    if not metric_functions:
        return {}
    predictions = objective.predictions(outputs)
    logs = {}
    for name, function in metric_functions:
        if weights is not None and _takes_sample_weight(function):
            logs[prefix + name] = function(y, predictions, sample_weight=weights)
        else:
            logs[prefix + name] = function(y, predictions)
    return logs


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
