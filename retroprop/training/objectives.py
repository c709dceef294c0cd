"""The losses and metrics ``fit`` knows by name, and how targets are shaped for each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from retroprop.nn.functional import LOSSES
from retroprop.tensor import Tensor

__all__ = ["Objective", "resolve_loss", "resolve_metric", "r2_score", "LOSSES", "METRICS"]


@dataclass(frozen=True)
class Objective:
    """A training loss: the function, and what its targets and outputs mean.

    Attributes
    ----------
    name : str
    function : callable
        ``function(output, target, reduction=...) -> Tensor``.
    kind : {"regression", "binary", "multiclass"}
    output : {"value", "probability", "logit"}
        What the model's last layer produces.
    """

    name: str
    function: Callable[..., Tensor]
    kind: str
    output: str

    @property
    def classification(self) -> bool:
        """Whether targets are classes (a stratified split, an accuracy)."""
        return self.kind != "regression"

    def prepare_targets(self, y: np.ndarray, output_width: int, dtype: np.dtype) -> np.ndarray:
        """Targets shaped and typed for the loss, with errors naming bad rows."""
        if self.kind == "multiclass":
            return _class_labels(y, output_width)
        target = y.reshape(-1, 1) if y.ndim == 1 else y
        if target.shape[1] != output_width:
            raise ValueError(
                f"y has {target.shape[1]} columns but the model has {output_width} outputs"
            )
        if self.kind == "binary":
            bad = (target < 0) | (target > 1)
            if bad.any():
                rows = np.flatnonzero(bad.any(axis=1))[:10].tolist()
                raise ValueError(
                    f"{self.name} needs targets in [0, 1]; rows {rows} hold "
                    f"{target[bad][:10].tolist()}"
                )
        return np.ascontiguousarray(target, dtype=dtype)

    def predictions(self, output: np.ndarray) -> np.ndarray:
        """Class predictions (or values) from the model's raw output."""
        if self.kind == "multiclass":
            return output.argmax(axis=1)
        if self.kind == "binary":
            threshold = 0.0 if self.output == "logit" else 0.5
            return (output > threshold).astype(np.int64)
        return output


def _class_labels(y: np.ndarray, classes: int) -> np.ndarray:
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"cross_entropy needs integer class labels of shape (N,), got {y.shape}")
    if y.dtype.kind == "f":
        whole = y == np.round(y)
        if not whole.all():
            rows = np.flatnonzero(~whole)[:10].tolist()
            raise ValueError(f"class labels must be integers; rows {rows} hold {y[rows].tolist()}")
    labels = y.astype(np.int64, copy=False)  # labels already int64 are not copied
    bad = (labels < 0) | (labels >= classes)
    if bad.any():
        rows = np.flatnonzero(bad)[:10].tolist()
        raise ValueError(
            f"labels must lie in [0, {classes}) for a model with {classes} outputs; rows {rows} "
            f"hold {labels[rows].tolist()}"
        )
    return labels


def resolve_loss(loss: str | Callable[..., Tensor]) -> Objective:
    """An :class:`Objective` from a registered loss name (:data:`LOSSES`) or a callable.

    A callable ``loss(output, target)`` is taken as a regression loss on the raw output.

    Raises
    ------
    ValueError
        For a name that no loss registered (``retroprop.nn.functional.register_loss``).
    """
    if callable(loss):
        name = getattr(loss, "__name__", type(loss).__name__)
        return Objective(name, loss, "regression", "value")
    if loss not in LOSSES:
        raise ValueError(
            f"unknown loss {loss!r}; choose one of {sorted(LOSSES)} or pass a callable"
        )
    spec = LOSSES[loss]
    return Objective(LOSSES.canonical(loss), spec.function, spec.task, spec.output)


def _row_average(values: np.ndarray, sample_weight: np.ndarray | None) -> float:
    """The mean of ``values``; with weights, the weighted mean of each row's mean."""
    if sample_weight is None:
        return float(np.mean(values))
    per_row = values.reshape(values.shape[0], -1).mean(axis=1)
    return float(np.average(per_row, weights=sample_weight))


def _accuracy(y_true: np.ndarray, y_pred: np.ndarray, sample_weight: Any = None) -> float:
    return _row_average(y_true.reshape(y_pred.shape) == y_pred, sample_weight)


def _mae(y_true: np.ndarray, y_pred: np.ndarray, sample_weight: Any = None) -> float:
    return _row_average(np.abs(y_true.reshape(y_pred.shape) - y_pred), sample_weight)


def _mse(y_true: np.ndarray, y_pred: np.ndarray, sample_weight: Any = None) -> float:
    return _row_average((y_true.reshape(y_pred.shape) - y_pred) ** 2, sample_weight)


def r2_score(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
    """The coefficient of determination R^2 = 1 - SS_res / SS_tot, over every output at once.

    SS_res = sum_i w_i ||y_i - y_hat_i||^2 and SS_tot = sum_i w_i ||y_i - y_bar||^2 (w_i = 1
    without weights, y_bar the weighted mean of each output). A constant target (SS_tot = 0)
    gives 0.0. This is the one R^2 of retroprop: ``fit``'s "r2" metric and the command line's.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
    sample_weight : array-like of shape (n_samples,), optional

    Returns
    -------
    float

    Examples
    --------
    >>> r2_score(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0]))
    0.5
    """
    y_pred = np.asarray(y_pred, dtype=np.float64)
    y_true = np.asarray(y_true).reshape(y_pred.shape).astype(np.float64)
    if sample_weight is None:
        residual = np.sum((y_true - y_pred) ** 2)
        total = np.sum((y_true - y_true.mean(axis=0)) ** 2)
    else:
        w = np.asarray(sample_weight, dtype=np.float64).reshape((-1,) + (1,) * (y_true.ndim - 1))
        mean = np.sum(w * y_true, axis=0) / np.sum(w)
        residual = np.sum(w * (y_true - y_pred) ** 2)
        total = np.sum(w * (y_true - mean) ** 2)
    return float(1.0 - residual / total) if total > 0 else 0.0


METRICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "accuracy": _accuracy,
    "mae": _mae,
    "mse": _mse,
    "r2": r2_score,
}


def resolve_metric(metric: Any) -> tuple[str, Callable[[np.ndarray, np.ndarray], float]]:
    """(name, function(y_true, y_pred)) from a metric name or a callable."""
    if callable(metric):
        return getattr(metric, "__name__", type(metric).__name__), metric
    if metric not in METRICS:
        raise ValueError(
            f"unknown metric {metric!r}; choose one of {sorted(METRICS)} or a callable"
        )
    return metric, METRICS[metric]
