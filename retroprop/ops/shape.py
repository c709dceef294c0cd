"""Movement ops: reshape, transpose, indexing, concatenate, stack (no arithmetic)."""

from __future__ import annotations

import numpy as np

from retroprop.backend import array_module
from retroprop.function import Function

__all__ = ["Reshape", "Transpose", "GetItem", "Concatenate", "Stack"]


class Reshape(Function):
    """y = x viewed with a new shape;  dJ/dx = dJ/dy viewed with x's shape."""

    @staticmethod
    def forward(ctx, x, *, shape):
        ctx.input_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.reshape(ctx.input_shape)


class Transpose(Function):
    """y = x with its axes permuted;  dJ/dx = dJ/dy with the inverse permutation.

    Negative axes are made non-negative first: the inverse permutation is argsort(axes) only
    for a permutation of 0..ndim-1.
    """

    @staticmethod
    def forward(ctx, x, *, axes=None):
        y = x.transpose(axes)
        ctx.axes = None if axes is None else tuple(int(axis) % x.ndim for axis in axes)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        if ctx.axes is None:
            return grad_output.transpose()
        return grad_output.transpose(np.argsort(ctx.axes))


def _is_basic(index) -> bool:
    """Basic indexing (ints, slices, None, Ellipsis) never repeats an element."""
    items = index if isinstance(index, tuple) else (index,)
    return all(
        isinstance(item, int | slice | np.integer) or item is None or item is Ellipsis
        for item in items
    )


class GetItem(Function):
    """y = x[index];  dJ/dx is dJ/dy scattered back to the indexed places (summed if repeated)."""

    @staticmethod
    def forward(ctx, x, *, index):
        ctx.input_shape = x.shape
        ctx.index = index
        return x[index]

    @staticmethod
    def backward(ctx, grad_output):
        grad = array_module(grad_output).zeros(ctx.input_shape, dtype=grad_output.dtype)
        if _is_basic(ctx.index):
            grad[ctx.index] = grad_output
        else:
            np.add.at(grad, ctx.index, grad_output)
        return grad


class Concatenate(Function):
    """y = [x_1, x_2, ...] joined along ``axis``;  dJ/dx_k is dJ/dy's slice for x_k."""

    @staticmethod
    def forward(ctx, *arrays, axis=0):
        ctx.axis = axis
        ctx.bounds = np.cumsum([a.shape[axis] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad_output):
        return tuple(np.split(grad_output, ctx.bounds, axis=ctx.axis))


class Stack(Function):
    """y = [x_1, x_2, ...] stacked on a new ``axis``;  dJ/dx_k = dJ/dy[..., k, ...]."""

    @staticmethod
    def forward(ctx, *arrays, axis=0):
        ctx.axis = axis
        return np.stack(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad_output):
        return tuple(np.moveaxis(grad_output, ctx.axis, 0))
