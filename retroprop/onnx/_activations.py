"""ONNX converters of the activation modules: ``convert(module, x, builder) -> output name``.

In float32 each activation is the ONNX operator of the same name where the opset has one
(Gelu from opset 20, Mish from 18, Softplus, Elu, LeakyRelu). onnxruntime's CPU kernels of
Erf, Gelu, Mish, Softplus, Elu and LeakyRelu take float32 only (1.32), so in float64 these are
written with the elementary operators it runs in double, in the stable forms retroprop computes:

    softplus(z) = relu(z) + log(1 + exp(-|z|))
    elu(z)      = z if z > 0 else alpha (exp(min(z, 0)) - 1)
    erf(z)      = 2 z / sqrt(pi) * integral_0^1 exp(-z**2 u**2) du   (|z| < 6; +-1 beyond)

the integral by 32-point Gauss-Legendre quadrature, exact to ~1e-14 on |z| < 6 (the
integrand is entire), where erf(6) = 1 - 2e-17 is 1 in float64.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from retroprop.nn import activation as act
from retroprop.onnx._graph import GraphBuilder

__all__ = ["ACTIVATION_CONVERTERS"]

_ERF_POINTS, _ERF_WEIGHTS = np.polynomial.legendre.leggauss(32)
_ERF_SATURATED = 6.0


def _native(builder: GraphBuilder, since: int) -> bool:
    """Whether to write the fused operator: float32 and an opset that has it."""
    return builder.dtype == np.float32 and builder.opset >= since


def _times(builder: GraphBuilder, x: str, factor: str) -> str:
    return builder.node("Mul", [x, factor])


def _limit_at_minus_infinity(builder: GraphBuilder, x: str, y: str) -> str:
    """y, with 0 where x = -inf: the limit of z g(z), as retroprop gives (IEEE: -inf * 0 = NaN)."""
    minus_infinity = builder.node("IsInf", [x], detect_positive=0)
    return builder.node("Where", [minus_infinity, builder.constant(0.0), y])


def _softplus(builder: GraphBuilder, x: str) -> str:
    if _native(builder, 1):
        return builder.node("Softplus", [x])
    decay = builder.node("Exp", [builder.node("Neg", [builder.node("Abs", [x])])])
    log1p = builder.node("Log", [builder.node("Add", [decay, builder.constant(1.0)])])
    return builder.node("Add", [builder.node("Relu", [x]), log1p])


def _erf(builder: GraphBuilder, z: str) -> str:
    """erf(z), elementwise: the Erf operator in float32, the quadrature above in float64."""
    if builder.dtype == np.float32:
        return builder.node("Erf", [z])
    limit = builder.constant(_ERF_SATURATED)
    clipped = builder.node("Clip", [z, builder.node("Neg", [limit]), limit])
    points = builder.constant((_ERF_POINTS + 1.0) / 2.0)  # u in (0, 1), shape (32,)
    weights = builder.constant(_ERF_WEIGHTS / 2.0)
    column = builder.node("Unsqueeze", [clipped, builder.constant([-1], dtype=np.int64)])
    scaled = builder.node("Mul", [column, points])  # z u, shape (..., 32)
    integrand = builder.node("Exp", [builder.node("Neg", [builder.node("Mul", [scaled, scaled])])])
    integral = builder.node("MatMul", [integrand, weights])
    value = builder.node(
        "Mul", [_times(builder, clipped, integral), builder.constant(2 / math.sqrt(math.pi))]
    )
    saturated = builder.node("GreaterOrEqual", [builder.node("Abs", [clipped]), limit])
    return builder.node("Where", [saturated, builder.node("Sign", [clipped]), value])


def convert_sigmoid(module: act.Sigmoid, x: str, builder: GraphBuilder) -> str:
    return builder.node("Sigmoid", [x])


def convert_tanh(module: act.Tanh, x: str, builder: GraphBuilder) -> str:
    return builder.node("Tanh", [x])


def convert_relu(module: act.ReLU, x: str, builder: GraphBuilder) -> str:
    return builder.node("Relu", [x])


def convert_leaky_relu(module: act.LeakyReLU, x: str, builder: GraphBuilder) -> str:
    if _native(builder, 16):
        return builder.node("LeakyRelu", [x], alpha=module.negative_slope)
    positive = builder.node("Greater", [x, builder.constant(0.0)])
    return builder.node(
        "Where", [positive, x, _times(builder, x, builder.constant(module.negative_slope))]
    )


def convert_elu(module: act.ELU, x: str, builder: GraphBuilder) -> str:
    if _native(builder, 6):
        return builder.node("Elu", [x], alpha=module.alpha)
    negative_part = builder.node("Min", [x, builder.constant(0.0)])
    expm1 = builder.node("Sub", [builder.node("Exp", [negative_part]), builder.constant(1.0)])
    positive = builder.node("Greater", [x, builder.constant(0.0)])
    return builder.node(
        "Where", [positive, x, _times(builder, expm1, builder.constant(module.alpha))]
    )


def convert_gelu(module: act.GELU, x: str, builder: GraphBuilder) -> str:
    if _native(builder, 20):
        gelu = builder.node("Gelu", [x], approximate=module.approximate)
        return _limit_at_minus_infinity(builder, x, gelu)
    if module.approximate == "tanh":
        cube = builder.node("Mul", [builder.node("Mul", [x, x]), x])
        inner = builder.node("Add", [x, _times(builder, cube, builder.constant(0.044715))])
        argument = _times(builder, inner, builder.constant(math.sqrt(2.0 / math.pi)))
        half_sum = builder.node("Tanh", [argument])
    else:
        half_sum = _erf(builder, _times(builder, x, builder.constant(1.0 / math.sqrt(2.0))))
    cdf = _times(
        builder, builder.node("Add", [half_sum, builder.constant(1.0)]), builder.constant(0.5)
    )
    return _limit_at_minus_infinity(builder, x, _times(builder, x, cdf))


def convert_silu(module: act.SiLU, x: str, builder: GraphBuilder) -> str:
    return _limit_at_minus_infinity(builder, x, _times(builder, x, builder.node("Sigmoid", [x])))


def convert_mish(module: act.Mish, x: str, builder: GraphBuilder) -> str:
    if _native(builder, 18):
        mish = builder.node("Mish", [x])
    else:
        mish = _times(builder, x, builder.node("Tanh", [_softplus(builder, x)]))
    return _limit_at_minus_infinity(builder, x, mish)


def convert_softplus(module: act.Softplus, x: str, builder: GraphBuilder) -> str:
    return _softplus(builder, x)


def convert_softmax(module: act.Softmax, x: str, builder: GraphBuilder) -> str:
    return builder.node("Softmax", [x], axis=module.axis)


def convert_log_softmax(module: act.LogSoftmax, x: str, builder: GraphBuilder) -> str:
    return builder.node("LogSoftmax", [x], axis=module.axis)


def convert_identity(module: act.Identity, x: str, builder: GraphBuilder) -> str:
    return x


#: Activation class -> its converter (a flat table; ``_modules.CONVERTERS`` holds them all).
ACTIVATION_CONVERTERS: dict[type, Callable[..., str]] = {
    act.Sigmoid: convert_sigmoid,
    act.Tanh: convert_tanh,
    act.ReLU: convert_relu,
    act.LeakyReLU: convert_leaky_relu,
    act.ELU: convert_elu,
    act.GELU: convert_gelu,
    act.SiLU: convert_silu,
    act.Mish: convert_mish,
    act.Softplus: convert_softplus,
    act.Softmax: convert_softmax,
    act.LogSoftmax: convert_log_softmax,
    act.Identity: convert_identity,
}
