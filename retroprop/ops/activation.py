"""Activation functions g(z) and their derivatives, as in the course's table.

Each derivative is written through the output where the course does so (sigmoid:
a (1 - a), tanh: 1 - a**2), so the backward pass reuses what the forward pass computed.
"""

from __future__ import annotations

import math

import numpy as np

from retroprop.function import Function

__all__ = [
    "Sigmoid",
    "Tanh",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "GELU",
    "SiLU",
    "Mish",
    "Softplus",
    "Softmax",
    "LogSoftmax",
    "sigmoid_array",
    "softplus_array",
    "erf_array",
    "times_nonzero",
]

_SQRT_2 = math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
# u(10) = 43.7, where tanh(u) = 1 exactly in every dtype from float16 to longdouble
_GELU_TANH_SATURATED = 10.0


def sigmoid_array(z: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-z)) computed without overflow for any z (no warnings, full precision)."""
    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
    numerator = np.where(z >= 0, 1, e)
    e += 1
    numerator /= e
    return numerator


def softplus_array(z: np.ndarray) -> np.ndarray:
    """log(1 + exp(z)) = max(z, 0) + log1p(exp(-|z|)), stable for any z."""
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def times_nonzero(z: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """z * factor, and 0 where factor is 0: the limit of z g(z) for a g that vanishes faster
    than 1/|z| (sigmoid at -inf, the normal density), where IEEE's +-inf * 0 would be NaN.

    Examples
    --------
    >>> times_nonzero(np.array([-np.inf, 2.0]), np.array([0.0, 3.0]))
    array([0., 6.])
    """
    product = np.zeros(np.broadcast_shapes(z.shape, factor.shape), dtype=np.result_type(z, factor))
    return np.multiply(z, factor, out=product, where=factor != 0)


def erf_array(x: np.ndarray) -> np.ndarray:
    """The error function to float64 precision with NumPy alone.

    |x| < 3: erf(x) = (2/sqrt(pi)) exp(-x^2) sum_n 2^n x^(2n+1) / (1*3*...*(2n+1)), a series of
    positive terms (no cancellation). |x| >= 3: erfc from its continued fraction
    erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))).
    """
    with np.errstate(over="ignore"):  # a longdouble beyond float64: +-inf, erf = +-1
        x64 = np.asarray(x, dtype=np.float64)
    ax = np.abs(x64)
    small = np.minimum(ax, 3.0)
    two_x2 = 2.0 * small * small
    term = small.copy()
    total = small.copy()
    for n in range(1, 80):
        term *= two_x2 / (2 * n + 1)
        total += term
    series = (2.0 / math.sqrt(math.pi)) * np.exp(-small * small) * total
    large = np.maximum(ax, 3.0)
    fraction = large.copy()
    for k in range(60, 0, -1):
        fraction = large + (k / 2.0) / fraction
    with np.errstate(over="ignore"):  # x**2 beyond float64: exp(-inf) = 0, erf = +-1
        tail = 1.0 - np.exp(-large * large) / (math.sqrt(math.pi) * fraction)
    result = np.where(ax < 3.0, series, tail)
    return np.copysign(result, x64).astype(np.result_type(x), copy=False)


class Sigmoid(Function):
    """a = 1 / (1 + exp(-z));  da/dz = a * (1 - a)."""

    @staticmethod
    def forward(ctx, z):
        a = sigmoid_array(z)
        ctx.save_for_backward(a)
        return a

    @staticmethod
    def backward(ctx, grad_output):
        (a,) = ctx.saved_tensors
        return grad_output * a * (1 - a)


class Tanh(Function):
    """a = tanh(z);  da/dz = 1 - a**2."""

    @staticmethod
    def forward(ctx, z):
        a = np.tanh(z)
        ctx.save_for_backward(a)
        return a

    @staticmethod
    def backward(ctx, grad_output):
        (a,) = ctx.saved_tensors
        return grad_output * (1 - a * a)


class ReLU(Function):
    """a = max(z, 0);  da/dz = 1 if z > 0 else 0."""

    @staticmethod
    def forward(ctx, z):
        a = np.maximum(z, 0)
        ctx.save_for_backward(a)
        return a

    @staticmethod
    def backward(ctx, grad_output):
        (a,) = ctx.saved_tensors
        return grad_output * (a > 0)


class LeakyReLU(Function):
    """a = z if z > 0 else slope * z;  da/dz = 1 if z > 0 else slope."""

    @staticmethod
    def forward(ctx, z, *, negative_slope=0.01):
        ctx.save_for_backward(z)
        ctx.negative_slope = negative_slope
        return np.where(z > 0, z, z * negative_slope)

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        return np.where(z > 0, grad_output, grad_output * ctx.negative_slope)


class ELU(Function):
    """a = z if z > 0 else alpha (exp(z) - 1);  da/dz = 1 if z > 0 else a + alpha.

    da/dz at z = NaN is 1, as PyTorch's ``elu_backward`` (its test is ``z <= 0``).
    """

    @staticmethod
    def forward(ctx, z, *, alpha=1.0):
        a = np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0)))
        ctx.save_for_backward(z, a)
        ctx.alpha = alpha
        return a

    @staticmethod
    def backward(ctx, grad_output):
        z, a = ctx.saved_tensors
        return np.where(z <= 0, grad_output * (a + ctx.alpha), grad_output)


class GELU(Function):
    """a = z Phi(z), Phi the standard normal CDF;  da/dz = Phi(z) + z phi(z).

    ``approximate="tanh"``: a = z/2 (1 + tanh(u)), u = sqrt(2/pi) (z + 0.044715 z^3).
    At z = -inf a = 0, and da/dz = 1 at +inf, 0 at -inf: the limits (PyTorch gives NaN there).
    Where z^3 or z^2 would overflow (|z| > 40 in float16) the tanh has long saturated: u is
    computed from z clipped to [-10, 10], which leaves every result unchanged.
    """

    @staticmethod
    def forward(ctx, z, *, approximate="none"):
        ctx.approximate = approximate
        if approximate == "tanh":
            clipped = np.clip(z, -_GELU_TANH_SATURATED, _GELU_TANH_SATURATED)
            t = np.tanh(_SQRT_2_OVER_PI * (clipped + 0.044715 * clipped * clipped * clipped))
            ctx.save_for_backward(z, t)
            return times_nonzero(z, 0.5 * (1 + t))
        if approximate != "none":
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        cdf = 0.5 * (1 + erf_array(z / _SQRT_2))
        ctx.save_for_backward(z, cdf)
        return times_nonzero(z, cdf)

    @staticmethod
    def backward(ctx, grad_output):
        z, saved = ctx.saved_tensors
        if ctx.approximate == "tanh":
            t = saved
            clipped = np.clip(z, -_GELU_TANH_SATURATED, _GELU_TANH_SATURATED)
            du_dz = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * clipped * clipped)
            return grad_output * (0.5 * (1 + t) + 0.5 * clipped * (1 - t * t) * du_dz)
        with np.errstate(over="ignore"):  # z**2 beyond the dtype: the density is 0
            pdf = _INV_SQRT_2PI * np.exp(-0.5 * z * z)
        return grad_output * (saved + times_nonzero(z, pdf))


class SiLU(Function):
    """Swish: a = z sigmoid(z);  da/dz = s (1 + z (1 - s)), s = sigmoid(z).

    At z = -inf a = 0, and da/dz = 1 at +inf, 0 at -inf: the limits (PyTorch gives NaN there).
    """

    @staticmethod
    def forward(ctx, z):
        s = sigmoid_array(z)
        ctx.save_for_backward(z, s)
        return times_nonzero(z, s)

    @staticmethod
    def backward(ctx, grad_output):
        z, s = ctx.saved_tensors
        return grad_output * times_nonzero(1 + times_nonzero(z, 1 - s), s)


class Mish(Function):
    """a = z tanh(softplus(z));  da/dz = t + z (1 - t**2) sigmoid(z), t = tanh(softplus(z)).

    At z = -inf a = 0, and da/dz = 1 at +inf, 0 at -inf: the limits (PyTorch gives NaN there).
    """

    @staticmethod
    def forward(ctx, z):
        t = np.tanh(softplus_array(z))
        ctx.save_for_backward(z, t)
        return times_nonzero(z, t)

    @staticmethod
    def backward(ctx, grad_output):
        z, t = ctx.saved_tensors
        return grad_output * (t + times_nonzero(z, (1 - t * t) * sigmoid_array(z)))


class Softplus(Function):
    """a = log(1 + exp(z));  da/dz = sigmoid(z)."""

    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return softplus_array(z)

    @staticmethod
    def backward(ctx, grad_output):
        (z,) = ctx.saved_tensors
        return grad_output * sigmoid_array(z)


class Softmax(Function):
    """a_i = exp(z_i - max z) / sum_j exp(z_j - max z);  dJ/dz = a * (g - sum(g * a)).

    Logits whose difference exceeds the dtype's range give exact 0s (no warning); an infinite
    logit gives NaN (inf - inf), as in PyTorch.
    """

    @staticmethod
    def forward(ctx, z, *, axis=-1):
        with np.errstate(over="ignore"):  # z_i - max z below -max_float: exp(-inf) = 0
            shifted = z - z.max(axis=axis, keepdims=True)
        a = np.exp(shifted, out=shifted)
        a /= a.sum(axis=axis, keepdims=True)
        ctx.save_for_backward(a)
        ctx.axis = axis
        return a

    @staticmethod
    def backward(ctx, grad_output):
        (a,) = ctx.saved_tensors
        weighted = grad_output * a
        weighted -= a * weighted.sum(axis=ctx.axis, keepdims=True)
        return weighted


class LogSoftmax(Function):
    """a_i = z_i - log sum_j exp(z_j) (stable: max subtracted);  dJ/dz = g - softmax * sum(g).

    A difference of logits beyond the dtype's range gives -inf (no warning), as in PyTorch; an
    infinite logit gives NaN (inf - inf).
    """

    @staticmethod
    def forward(ctx, z, *, axis=-1):
        with np.errstate(over="ignore"):  # z_i - max z below -max_float: -inf
            shifted = z - z.max(axis=axis, keepdims=True)
        log_sum = np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        shifted -= log_sum
        ctx.save_for_backward(shifted)
        ctx.axis = axis
        return shifted

    @staticmethod
    def backward(ctx, grad_output):
        (log_a,) = ctx.saved_tensors
        return grad_output - np.exp(log_a) * grad_output.sum(axis=ctx.axis, keepdims=True)
