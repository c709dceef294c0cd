"""Elementwise ops: the course's table of derivatives, one small Function each.

Binary ops broadcast like NumPy; the engine sums each gradient back to its operand's shape.
"""

from __future__ import annotations

import math

import numpy as np

from retroprop.backend import array_module
from retroprop.function import Function

__all__ = [
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Neg",
    "Pow",
    "Exp",
    "Log",
    "Sqrt",
    "Abs",
    "Clip",
    "Maximum",
    "Minimum",
    "Where",
    "Cast",
]


class Add(Function):
    """c = a + b;  dc/da = 1, dc/db = 1."""

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, grad_output


class Sub(Function):
    """c = a - b;  dc/da = 1, dc/db = -1."""

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, (-grad_output if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """c = a * b;  dc/da = b, dc/db = a."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        needs_a, needs_b = ctx.needs_input_grad
        return (grad_output * b if needs_a else None, grad_output * a if needs_b else None)


class Div(Function):
    """c = a / b;  dc/da = 1 / b, dc/db = -a / b**2 = -c / b."""

    @staticmethod
    def forward(ctx, a, b):
        c = a / b
        ctx.save_for_backward(b, c)
        return c

    @staticmethod
    def backward(ctx, grad_output):
        b, c = ctx.saved_tensors
        grad_a = grad_output / b
        grad_b = -grad_a * c if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Neg(Function):
    """c = -a;  dc/da = -1."""

    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, grad_output):
        return -grad_output


class Pow(Function):
    """c = a ** p;  dc/da = p * a ** (p - 1), dc/dp = c * log(a)."""

    @staticmethod
    def forward(ctx, a, p):
        c = a**p
        ctx.save_for_backward(a, p, c)
        return c

    @staticmethod
    def backward(ctx, grad_output):
        a, p, c = ctx.saved_tensors
        needs_a, needs_p = ctx.needs_input_grad
        grad_a = grad_p = None
        if needs_a:
            if isinstance(p, int | float) and p == 2:
                grad_a = grad_output * (a + a)
            else:
                grad_a = grad_output * p * a ** (p - 1)
        if needs_p:
            log_a = math.log(a) if isinstance(a, int | float) else np.log(a)
            grad_p = grad_output * c * log_a
        return grad_a, grad_p


class Exp(Function):
    """a = exp(z);  da/dz = a."""

    @staticmethod
    def forward(ctx, z):
        a = np.exp(z)
        ctx.save_for_backward(a)
        return a

    @staticmethod
    def backward(ctx, grad_output):
        (a,) = ctx.saved_tensors
        return grad_output * a


class Log(Function):
    """a = log(z);  da/dz = 1 / z."""

    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return np.log(z)

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        return grad_output / z


class Sqrt(Function):
    """a = sqrt(z);  da/dz = 1 / (2 a)."""

    @staticmethod
    def forward(ctx, z):
        a = np.sqrt(z)
        ctx.save_for_backward(a)
        return a

    @staticmethod
    def backward(ctx, grad_output):
        (a,) = ctx.saved_tensors
        return grad_output / (a + a)


class Abs(Function):
    """a = |z|;  da/dz = sign(z) (0 at 0, as in PyTorch)."""

    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return np.abs(z)

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        return grad_output * np.sign(z)


class Clip(Function):
    """a = min(max(z, low), high);  da/dz = 1 where low <= z <= high, else 0."""

    @staticmethod
    def forward(ctx, z, *, low=None, high=None):
        if low is None and high is None:
            raise ValueError("clip needs min or max (or both)")
        ctx.save_for_backward(z)
        ctx.low, ctx.high = low, high
        return np.clip(z, low, high)

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        inside = np.ones(z.shape, dtype=bool) if ctx.low is None else z >= ctx.low
        if ctx.high is not None:
            inside &= z <= ctx.high
        return grad_output * inside


class Maximum(Function):
    """c = max(a, b);  the gradient goes to the larger operand, half to each at a tie."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        grad_a = np.where(a > b, grad_output, (a == b) * (0.5 * grad_output))
        grad_b = grad_output - grad_a if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Minimum(Function):
    """c = min(a, b);  the gradient goes to the smaller operand, half to each at a tie."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        grad_a = np.where(a < b, grad_output, (a == b) * (0.5 * grad_output))
        grad_b = grad_output - grad_a if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Where(Function):
    """c = a where condition else b;  the gradient follows the branch that was taken."""

    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.save_for_backward(condition)
        return np.where(condition, a, b)

    @staticmethod
    def backward(ctx, grad_output):
        (condition,) = ctx.saved_tensors
        _, needs_a, needs_b = ctx.needs_input_grad
        zero = array_module(grad_output).zeros((), dtype=grad_output.dtype)
        return (
            None,
            np.where(condition, grad_output, zero) if needs_a else None,
            np.where(condition, zero, grad_output) if needs_b else None,
        )


class Cast(Function):
    """c = a converted to another dtype;  the gradient is converted back."""

    @staticmethod
    def forward(ctx, a, *, dtype):
        ctx.input_dtype = a.dtype
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.astype(ctx.input_dtype)
