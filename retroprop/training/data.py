"""Checking and splitting the data ``fit`` is given: clear errors before any training."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["as_features", "as_targets", "check_finite", "validation_split_indices"]


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


def check_finite(array: np.ndarray, name: str) -> None:
    """Raise ValueError naming the rows and columns holding NaN or inf."""
    if array.dtype.kind != "f":
        return
    if np.isfinite(array.sum()):  # fast path: one pass, no boolean copy (NaN/inf propagate)
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


def validation_split_indices(
    n_samples: int,
    fraction: float,
    rng: np.random.Generator,
    labels: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A random (stratified when ``labels`` are given) split into training and validation rows.

    Each class keeps about ``fraction`` of its rows for validation (at least one row of a class
    with two or more), so the class balance of both parts matches the whole.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation_split must be in (0, 1), got {fraction}")
    if labels is None:
        order = rng.permutation(n_samples)
        n_val = max(1, round(n_samples * fraction))
        if n_val >= n_samples:
            raise ValueError(f"validation_split={fraction} leaves no training rows of {n_samples}")
        return np.sort(order[n_val:]), np.sort(order[:n_val])
    train_parts, val_parts = [], []
    for value in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == value))
        n_val = round(rows.size * fraction)
        if rows.size >= 2:
            n_val = min(max(n_val, 1), rows.size - 1)
        val_parts.append(rows[:n_val])
        train_parts.append(rows[n_val:])
    return np.sort(np.concatenate(train_parts)), np.sort(np.concatenate(val_parts))
