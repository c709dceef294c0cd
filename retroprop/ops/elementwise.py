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
    """c = a / b;  dc/da = 1 / b, dc/db = -a / b**2 = -c / b.

    A division by zero gives the IEEE limit (+-inf, and +-inf gradients) without a warning,
    as in PyTorch; 0 / 0 has no value: NaN, with NumPy's invalid-value warning.
    """

    @staticmethod
    def forward(ctx, a, b):
        if isinstance(b, int | float) and b != 0:
            c = a / b  # the common x / 2: nothing to guard
        else:
            with np.errstate(divide="ignore", over="ignore"):
                c = a / b
        ctx.save_for_backward(b, c)
        return c

    @staticmethod
    def backward(ctx, grad_output):
        b, c = ctx.saved_tensors
        with np.errstate(divide="ignore", over="ignore"):
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
    """c = a ** p;  dc/da = p * a ** (p - 1), dc/dp = c * log(a).

    The base may be a Python number (``0.0 ** b``). At the boundaries retroprop follows
    PyTorch's ``pow_backward_self`` and ``pow_backward_exponent``
    (torch/csrc/autograd/FunctionsManual.cpp):

    - dc/da = 0 where p = 0: x ** 0 is the constant 1, also at a = 0, where p a ** (p - 1)
      would be 0 * inf;
    - dc/dp = 0 where a = 0 and p >= 0: 0 ** p is the constant 0 for p > 0 (PyTorch takes 0 at
      p = 0 too), where c log(a) would be 0 * (-inf);
    - a = 0 with p < 0 gives c = inf and dc/dp = -inf; a = 0 with 0 < p < 1 gives dc/da = inf;
      a power too large for the dtype is inf. These IEEE limits come without a warning.

    A negative base with a non-integer exponent has no real power, and a negative base no
    log: NaN, with NumPy's invalid-value warning.
    """

    @staticmethod
    def forward(ctx, a, p):
        with np.errstate(divide="ignore", over="ignore"):
            c = a**p
        ctx.save_for_backward(a, p, c)
        return c

    @staticmethod
    def backward(ctx, grad_output):
        a, p, c = ctx.saved_tensors
        needs_a, needs_p = ctx.needs_input_grad
        grad_a = _pow_grad_base(grad_output, a, p) if needs_a else None
        grad_p = _pow_grad_exponent(grad_output, a, p, c) if needs_p else None
        return grad_a, grad_p


def _pow_grad_base(grad_output, a, p):
    """dJ/da = g p a ** (p - 1), and 0 where p = 0 (PyTorch's rule)."""
    if isinstance(p, int | float):
        if p == 0:
            return np.zeros_like(grad_output)
        with np.errstate(divide="ignore", over="ignore"):
            if p == 2:
                return grad_output * (a + a)
            return grad_output * p * a ** (p - 1)
    # 0 * inf at p = 0 is replaced; an invalid power was already reported by the forward pass.
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        grad = grad_output * p * a ** (p - 1)
    return np.where(p == 0, 0, grad)


def _pow_grad_exponent(grad_output, a, p, c):
    """dJ/dp = g c log(a), and 0 where a = 0 and p >= 0 (PyTorch's rule).

    The log of a positive Python base is taken in double precision, as PyTorch does.
    """
    if isinstance(a, int | float) and a > 0:
        return grad_output * c * math.log(a)
    zero_base = (a == 0) & (p >= 0)
    with np.errstate(divide="ignore"):  # log(0) = -inf, for 0 ** p = inf with p < 0
        log_a = np.log(np.where(zero_base, 1, a))
    return grad_output * c * log_a


class Exp(Function):
    """a = exp(z);  da/dz = a.  Beyond the dtype's range exp(z) is inf, without a warning."""

    @staticmethod
    def forward(ctx, z):
        with np.errstate(over="ignore"):
            a = np.exp(z)
        ctx.save_for_backward(a)
        return a

    @staticmethod
    def backward(ctx, grad_output):
        (a,) = ctx.saved_tensors
        return grad_output * a


class Log(Function):
    """a = log(z);  da/dz = 1 / z.

    At z = 0: log(0) = -inf and da/dz = inf (at -0.0: -inf), as in PyTorch, without a warning.
    A negative z has no log: NaN, with NumPy's invalid-value warning.
    """

    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        with np.errstate(divide="ignore"):
            return np.log(z)

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        with np.errstate(divide="ignore", over="ignore"):
            return grad_output / z


class Sqrt(Function):
    """a = sqrt(z);  da/dz = 1 / (2 a).

    At z = 0 da/dz = inf (at -0.0: -inf, since sqrt(-0.0) = -0.0), as in PyTorch, without a
    warning. A negative z has no square root: NaN, with NumPy's invalid-value warning.
    """

    @staticmethod
    def forward(ctx, z):
        a = np.sqrt(z)
        ctx.save_for_backward(a)
        return a

    @staticmethod
    def backward(ctx, grad_output):
        (a,) = ctx.saved_tensors
        with np.errstate(divide="ignore", over="ignore"):
            return grad_output / (a + a)


class Abs(Function):
    """a = |z|;  da/dz = sign(z): 0 at 0 and -0.0, and 0 at NaN, as PyTorch's ``sgn``."""

    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return np.abs(z)

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        return grad_output * np.where(np.isnan(z), 0, np.sign(z))


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
    """c = max(a, b);  the gradient goes to the larger operand, half to each at a tie.

    As PyTorch's ``maximum`` backward: ``where(a == b, g / 2, g)`` masked to 0 where the operand
    is the smaller one. A NaN operand makes c NaN, and both operands then receive g.
    """

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        ties = a == b
        grad_b = _tie_split(grad_output, a > b, ties) if ctx.needs_input_grad[1] else None
        return _tie_split(grad_output, a < b, ties), grad_b


class Minimum(Function):
    """c = min(a, b);  the gradient goes to the smaller operand, half to each at a tie.

    As PyTorch's ``minimum`` backward; a NaN operand makes c NaN, and both operands receive g.
    """

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        ties = a == b
        grad_b = _tie_split(grad_output, a < b, ties) if ctx.needs_input_grad[1] else None
        return _tie_split(grad_output, a > b, ties), grad_b


def _tie_split(grad_output, loses, ties):
    """g where the operand was chosen, g / 2 at a tie, 0 where the other operand was chosen."""
    return np.where(loses, 0, np.where(ties, 0.5 * grad_output, grad_output))


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
    """c = a converted to another dtype;  the gradient is converted back.

    A value beyond the narrower dtype's range becomes +-inf, as in PyTorch, without a warning.
    """

    @staticmethod
    def forward(ctx, a, *, dtype):
        ctx.input_dtype = a.dtype
        return _cast(a, dtype)

    @staticmethod
    def backward(ctx, grad_output):
        return _cast(grad_output, ctx.input_dtype)


def _cast(array, dtype):
    if np.dtype(dtype).itemsize >= array.dtype.itemsize:
        return array.astype(dtype)
    with np.errstate(over="ignore"):
        return array.astype(dtype)
