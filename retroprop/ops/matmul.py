"""The matrix product, the heart of a layer: z = a @ W."""

from __future__ import annotations

import numpy as np

from retroprop.function import Function, ShapeError

__all__ = ["MatMul"]


class MatMul(Function):
    """c = a @ b;  dJ/da = dJ/dc @ b^T,  dJ/db = a^T @ dJ/dc.

    For a layer, z = a @ W gives the course's dJ/dW = a^T @ delta and passes delta @ W^T back.
    The transposes are views: BLAS reads them in place, nothing is copied. Follows
    ``numpy.matmul`` for 1-D operands and stacks of matrices (batch axes broadcast).
    """

    @staticmethod
    def forward(ctx, a, b):
        if getattr(a, "ndim", 0) == 0 or getattr(b, "ndim", 0) == 0:  # 2.0 @ x: a Python number
            raise ShapeError(
                "MatMul: operands must have at least 1 dimension, got "
                f"{np.shape(a)} @ {np.shape(b)}; multiply by a number with *"
            )
        inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if a.shape[-1] != inner_b:
            raise ShapeError(
                f"MatMul: shapes {a.shape} and {b.shape} are not aligned: a has {a.shape[-1]} "
                f"columns but b has {inner_b} rows"
            )
        if a.dtype != b.dtype:
            raise TypeError(
                f"MatMul: cannot multiply {a.dtype} {a.shape} by {b.dtype} {b.shape}; convert one "
                "so both have the same dtype"
            )
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        grad_a = grad_b = None
        if a.ndim == 1 and b.ndim == 1:  # inner product: grad_output is a scalar
            return (grad_output * b if needs_a else None, grad_output * a if needs_b else None)
        if needs_a:
            if b.ndim == 1:
                grad_a = grad_output[..., None] * b
            elif a.ndim == 1:
                grad_a = (b @ grad_output[..., None])[..., 0]
            else:
                grad_a = grad_output @ np.swapaxes(b, -1, -2)
        if needs_b:
            if a.ndim == 1:
                grad_b = a[:, None] * grad_output[..., None, :]
            elif b.ndim == 1:
                grad_b = (np.swapaxes(a, -1, -2) @ grad_output[..., None])[..., 0]
            else:
                grad_b = np.swapaxes(a, -1, -2) @ grad_output
        return grad_a, grad_b
