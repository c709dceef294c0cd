"""Reductions: sum, mean and max over axes, with NumPy's ``axis`` and ``keepdims``.

float16 sums, means and counts are accumulated in float32 and cast back (as PyTorch does on the
CPU), so the mean of 100,000 float16 ones is 1.0 and its gradient 1e-05, not 0.
"""

from __future__ import annotations

import numpy as np

from retroprop.function import Function
from retroprop.ops._numerics import accumulation_dtype, divide_by_count, wide_sum

__all__ = ["Sum", "Mean", "Max"]


def _normalize_axes(axis, ndim):
    """``axis`` as a sorted tuple of non-negative axes (all axes when None)."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int | np.integer):
        axis = (axis,)
    axes = []
    for item in axis:
        if not -ndim <= item < max(ndim, 1):
            raise ValueError(f"axis {item} is out of bounds for an array of dimension {ndim}")
        axes.append(int(item) % max(ndim, 1))
    return tuple(sorted(axes))


def _expand(grad_output, shape, axes, keepdims):
    """View ``grad_output`` with the reduced axes restored as size 1, ready to broadcast."""
    if keepdims or not axes:
        return grad_output
    kept_shape = tuple(1 if i in axes else n for i, n in enumerate(shape))
    return grad_output.reshape(kept_shape)


class Sum(Function):
    """s = sum_i x_i;  ds/dx_i = 1 (the gradient is broadcast back, not copied).

    A float16 total beyond 65504 is inf, as in PyTorch, without a warning.
    """

    @staticmethod
    def forward(ctx, x, *, axis=None, keepdims=False):
        ctx.shape = x.shape
        ctx.axes = _normalize_axes(axis, x.ndim)
        ctx.keepdims = keepdims
        if x.dtype.char != "e":  # not float16: NumPy's sum, the hot path
            return x.sum(axis=axis, keepdims=keepdims)
        return wide_sum(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad_output):
        grad = _expand(grad_output, ctx.shape, ctx.axes, ctx.keepdims)
        return np.broadcast_to(grad, ctx.shape)


class Mean(Function):
    """m = (1/n) sum_i x_i;  dm/dx_i = 1/n."""

    @staticmethod
    def forward(ctx, x, *, axis=None, keepdims=False):
        ctx.shape = x.shape
        ctx.axes = _normalize_axes(axis, x.ndim)
        ctx.keepdims = keepdims
        ctx.count = int(np.prod([x.shape[i] for i in ctx.axes])) if x.ndim else 1
        return x.mean(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad_output):
        grad = divide_by_count(_expand(grad_output, ctx.shape, ctx.axes, ctx.keepdims), ctx.count)
        return np.broadcast_to(grad, ctx.shape)


class Max(Function):
    """m = max_i x_i;  dm/dx_i = 1 / (number of maxima) where x_i = m, else 0.

    Ties share the gradient evenly, as ``torch.amax`` (and ``torch.max`` without ``dim``) do.
    A NaN is the maximum, as in NumPy and PyTorch: the gradient goes to the NaN entries of its
    slice (PyTorch's ``amax`` would give NaN to every entry of the slice).
    """

    @staticmethod
    def forward(ctx, x, *, axis=None, keepdims=False):
        if x.size == 0:
            raise ValueError("max of an empty array")
        ctx.axes = _normalize_axes(axis, x.ndim)
        ctx.keepdims = keepdims
        m = x.max(axis=axis, keepdims=True)
        ctx.save_for_backward(x, m)
        return m if keepdims else m.reshape([n for i, n in enumerate(x.shape) if i not in ctx.axes])

    @staticmethod
    def backward(ctx, grad_output):
        x, m = ctx.saved_tensors
        is_max = x == m
        if np.isnan(m).any():  # NaN == NaN is False: the NaN entries are the maxima
            is_max |= np.isnan(x)
        count = is_max.sum(axis=ctx.axes, keepdims=True, dtype=accumulation_dtype(x.dtype))
        grad = _expand(grad_output, x.shape, ctx.axes, ctx.keepdims)
        return is_max * divide_by_count(grad, count)
