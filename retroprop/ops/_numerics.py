"""Numerics shared by the ops: wide accumulation for float16, divisions by a count.

NumPy sums float16 pairwise in float32 only along a contiguous axis; along any other axis it
accumulates in float16, where 256 + 0.1 rounds back to 256. And a Python count divides a float16
array as a float16 scalar, so 100,000 becomes inf. Both are fixed here, as PyTorch does on the
CPU, by accumulating in float32 and casting the result back to the input's dtype; every other
dtype takes the unchanged, fast path.
"""

from __future__ import annotations

import numpy as np

__all__ = ["accumulation_dtype", "is_narrow", "wide_sum", "divide_by_count"]

_NARROW = np.dtype(np.float16)


def is_narrow(dtype) -> bool:
    """Whether ``dtype`` is float16 (the test the hot path pays: one attribute, one compare)."""
    return dtype.char == "e"


def accumulation_dtype(dtype):
    """The dtype to count or sum in: float32 for float16, the dtype itself otherwise."""
    return np.dtype(np.float32) if is_narrow(dtype) else dtype


def wide_sum(x, axis=None, keepdims=False):
    """``x.sum(axis, keepdims)`` with float16 accumulated in float32, in ``x``'s dtype.

    A float16 total beyond 65504 is inf, as in PyTorch, without NumPy's overflow warning.

    Examples
    --------
    >>> wide_sum(np.full((4000, 2), 0.1, np.float16), axis=0)
    array([400., 400.], dtype=float16)
    """
    if x.dtype.char != "e":  # not float16: NumPy's own sum
        return x.sum(axis=axis, keepdims=keepdims)
    total = x.sum(axis=axis, keepdims=keepdims, dtype=np.float32)
    with np.errstate(over="ignore"):
        return np.asarray(total).astype(_NARROW)


def divide_by_count(x, count):
    """``x / count`` for a count of elements (an int, or a float array of summed weights).

    float16 divides in float32 (100,000 has no float16 value) and casts back.

    Examples
    --------
    >>> divide_by_count(np.ones(2, np.float16), 100_000)
    array([1.e-05, 1.e-05], dtype=float16)
    """
    if x.dtype.char != "e":
        return x / count
    return (x.astype(np.float32) / count).astype(_NARROW)
