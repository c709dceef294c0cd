"""Checking and splitting the data ``fit`` is given: clear errors before any training.

Data are checked once, where they enter (``fit`` for a script, the estimators, the command
line); what comes out is a :class:`Dataset`, which the :class:`~retroprop.training.Trainer`
trusts without checking again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from retroprop.nn.inference import evaluating

__all__ = [
    "Dataset",
    "as_features",
    "as_targets",
    "check_data",
    "check_finite",
    "check_sample_weight",
    "split_dataset",
    "validation_split_indices",
]


@dataclass(frozen=True)
class Dataset:
    """Rows ready for training: checked, in the model's dtype, targets shaped for the loss.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features)
        C-contiguous, in the model's dtype.
    y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        As the loss takes them (class indices, or 2-D targets in the model's dtype).
    weights : ndarray of shape (n_samples,) or None
        Non-negative sample weights (None: every row weighs 1).
    """

    X: np.ndarray
    y: np.ndarray
    weights: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.X.shape[0])

    def take(self, rows: np.ndarray) -> Dataset:
        """The rows ``rows`` (an index array) of every array."""
        weights = None if self.weights is None else self.weights[rows]
        return Dataset(self.X[rows], self.y[rows], weights)


def _positions(mask: np.ndarray, limit: int = 10) -> str:
    """The first row (and column) indices where ``mask`` holds, for error messages."""
    if mask.ndim == 1:
        rows = np.flatnonzero(mask)
        more = f" and {rows.size - limit} more" if rows.size > limit else ""
        return f"rows {rows[:limit].tolist()}{more}"
    rows = np.flatnonzero(mask.any(axis=1))
    columns = np.flatnonzero(mask.any(axis=0))
    more = f" and {rows.size - limit} more" if rows.size > limit else ""
    return f"rows {rows[:limit].tolist()}{more} (columns {columns[:limit].tolist()})"


def _total(array: np.ndarray) -> float:
    """The sum of every value, NaN or inf if one is: a matrix's row sums by BLAS (a product
    with ones, faster than NumPy's pairwise sum over a large X), then their sum."""
    if array.ndim == 2 and array.dtype in (np.float32, np.float64) and array.shape[1] > 1:
        return float((array @ np.ones(array.shape[1], dtype=array.dtype)).sum())
    return float(array.sum())


def check_finite(array: np.ndarray, name: str) -> None:
    """Raise ValueError naming the rows and columns holding NaN or inf."""
    if array.dtype.kind != "f":
        return
    if np.isfinite(_total(array)):  # fast path: one pass, no boolean copy (NaN/inf propagate)
        return
    bad = ~np.isfinite(array)  # a NaN or inf, or only an overflowing sum
    if bad.any():
        kind = "NaN" if np.isnan(array).any() else "inf"
        if np.isnan(array).any() and np.isinf(array).any():
            kind = "NaN and inf"
        raise ValueError(f"{name} contains {kind} at {_positions(bad)}")


def as_features(X: Any, dtype: np.dtype, name: str = "X") -> np.ndarray:
    """X as a 2-D array of the model's dtype, checked for NaN/inf."""
    try:
        array = np.asarray(X)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} is not a numeric array: {error}") from error
    if array.dtype.kind not in "biuf":
        try:
            array = array.astype(dtype)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"{name} must be numeric, got dtype {array.dtype} ({error}); encode "
                "categorical columns first"
            ) from error
    if array.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (n_samples, n_features), got shape {array.shape}"
            + ("; use X.reshape(-1, 1) for a single feature" if array.ndim == 1 else "")
        )
    check_finite(array, name)
    if array.dtype == dtype:
        return np.ascontiguousarray(array)
    array = np.ascontiguousarray(array, dtype=dtype)
    check_finite(array, f"{name} (after conversion to {np.dtype(dtype)})")  # overflow
    return array


def as_targets(y: Any, n_samples: int, name: str = "y") -> np.ndarray:
    """y as an array with one row per sample, checked for NaN/inf."""
    array = np.asarray(y)
    if array.ndim == 0:
        raise ValueError(f"{name} must have one entry per sample, got a scalar")
    if array.shape[0] != n_samples:
        raise ValueError(f"X has {n_samples} rows but {name} has {array.shape[0]}")
    if array.dtype.kind not in "biuf":
        raise ValueError(
            f"{name} must be numeric, got dtype {array.dtype}; encode class names as "
            "integers (e.g. with sklearn.preprocessing.LabelEncoder)"
        )
    check_finite(array, name)
    return array


def check_sample_weight(sample_weight: Any, n_samples: int, dtype: np.dtype, name: str) -> Any:
    """``sample_weight`` as a 1-D non-negative array of the model's dtype (None stays None)."""
    if sample_weight is None:
        return None
    weights = as_targets(sample_weight, n_samples, name).astype(dtype)
    if weights.ndim != 1 or (weights < 0).any():
        raise ValueError(f"{name} must be a 1-D array of non-negative weights")
    return weights


def _first_linear(model: Any) -> Any:
    for module in model.modules():
        if hasattr(module, "in_features"):
            return module
    return None


def model_dtype(model: Any) -> np.dtype:
    """The dtype of the model's first parameter (float32 for a model without any)."""
    for p in model.parameters():
        return p.dtype
    return np.dtype(np.float32)


def output_width(model: Any, X: np.ndarray) -> int:
    """The number of outputs the model gives for a row of ``X`` (one forward pass, no graph)."""
    from retroprop.tensor import Tensor

    with evaluating(model), np.errstate(all="ignore"):  # overflow is the guard's to report
        out = model(Tensor(X[:1]))
    return 1 if out.ndim == 1 else out.shape[1]


def check_data(
    model: Any, objective: Any, X: Any, y: Any, sample_weight: Any = None, prefix: str = ""
) -> Dataset:
    """Check (X, y, sample_weight) for ``model`` and ``objective``, once, at the door.

    Parameters
    ----------
    model : Module
    objective : Objective
        Shapes and checks the targets (``prepare_targets``).
    X, y, sample_weight : array-like
        As ``fit`` takes them.
    prefix : str
        Prepended to the names in error messages ("" or "validation_data: ").

    Returns
    -------
    Dataset

    Raises
    ------
    ValueError
        X not 2-D or not numeric, lengths that differ, NaN or inf, a width that does not match
        the first Linear layer, targets the loss cannot take, negative weights.
    """
    dtype = model_dtype(model)
    X = as_features(X, dtype, prefix + "X")
    y = as_targets(y, X.shape[0], prefix + "y")
    first = _first_linear(model)
    if first is not None and X.shape[1] != first.in_features:
        raise ValueError(
            f"{prefix}X has {X.shape[1]} columns but the first Linear layer expects "
            f"in_features={first.in_features}"
        )
    y = objective.prepare_targets(y, output_width(model, X), dtype)
    weights = check_sample_weight(sample_weight, X.shape[0], dtype, prefix + "sample_weight")
    return Dataset(X, y, weights)


def _split_error(fraction: float, n_train: int, n_val: int, detail: str) -> ValueError:
    return ValueError(
        f"validation_split={fraction:g} of {n_train + n_val} rows would keep {n_train} rows for "
        f"training and {n_val} for validation{detail}; pass more rows, a validation_split "
        "that leaves rows on both sides, or explicit validation_data=(X_val, y_val)"
    )


def validation_split_indices(
    n_samples: int,
    fraction: float,
    rng: np.random.Generator,
    labels: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A random (stratified when ``labels`` are given) split into training and validation rows.

    Each class keeps about ``fraction`` of its rows for validation (at least one row, and at
    least one for training), so the class balance of both parts matches the whole.

    Raises
    ------
    ValueError
        Before any training, when a side would be left without rows, or (stratified) a class
        has too few rows to appear on both sides; the message gives the count of each side.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> validation_split_indices(3, 0.2, rng, labels=np.array([0, 1, 2]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: validation_split=0.2 of 3 rows would keep 3 rows for training and 0 for ...
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation_split must be in (0, 1), got {fraction}")
    if labels is None:
        n_val = min(max(1, round(n_samples * fraction)), n_samples)
        if n_val >= n_samples:
            raise _split_error(fraction, n_samples - n_val, n_val, "")
        order = rng.permutation(n_samples)
        return np.sort(order[n_val:]), np.sort(order[:n_val])
    classes, counts = np.unique(labels, return_counts=True)
    if (counts < 2).any():
        n_val = int(sum(min(max(round(c * fraction), 1), c - 1) for c in counts[counts >= 2]))
        single = classes[counts < 2].tolist()
        raise _split_error(
            fraction,
            n_samples - n_val,
            n_val,
            f" (stratified by class: classes {single} have a single row, which cannot be on "
            "both sides)",
        )
    train_parts, val_parts = [], []
    for value in classes:
        rows = rng.permutation(np.flatnonzero(labels == value))
        n_val = min(max(round(rows.size * fraction), 1), rows.size - 1)
        val_parts.append(rows[:n_val])
        train_parts.append(rows[n_val:])
    return np.sort(np.concatenate(train_parts)), np.sort(np.concatenate(val_parts))


def split_labels(objective: Any, y: np.ndarray) -> np.ndarray | None:
    """The classes to stratify a validation split by, or None for a random split.

    Class indices for a multi-class loss; the 0/1 targets of a single-output binary loss
    (soft targets, between 0 and 1, are split at random).
    """
    if objective.kind == "multiclass":
        return y
    if objective.kind == "binary" and y.shape[1] == 1 and np.isin(y, (0, 1)).all():
        return y[:, 0]
    return None


def split_dataset(
    data: Dataset, objective: Any, fraction: float, rng: np.random.Generator
) -> tuple[Dataset, Dataset, str]:
    """(training rows, validation rows, "stratified random" or "random"): weights go along."""
    labels = split_labels(objective, data.y)
    train_rows, val_rows = validation_split_indices(len(data), fraction, rng, labels)
    kind = "stratified random" if labels is not None else "random"
    return data.take(train_rows), data.take(val_rows), kind
