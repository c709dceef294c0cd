"""The divergence guard: stop at the first non-finite loss or gradient, say where, keep weights."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["DivergenceError", "arrays_finite", "gradients_finite", "describe_divergence"]


class DivergenceError(FloatingPointError):
    """Training produced NaN or inf; the message names the epoch, batch and first bad layer."""


def arrays_finite(arrays: list[np.ndarray]) -> bool:
    """Whether every value of every array is finite: one summed reduction per array (NaN and
    inf propagate to the sum; a sum that only overflows is looked at element by element)."""
    total = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        for array in arrays:
            total += float(np.add.reduce(array, None))  # array.sum(), less Python
    return math.isfinite(total) or all(bool(np.isfinite(array).all()) for array in arrays)


def gradients_finite(parameters: list[Any]) -> bool:
    """Whether every gradient is finite (parameters without one are skipped)."""
    return arrays_finite([p.grad for p in parameters if p.grad is not None])


def _layer_label(module: Any) -> str:
    if hasattr(module, "in_features") and hasattr(module, "out_features"):
        return f"{type(module).__name__} {module.in_features}->{module.out_features}"
    return type(module).__name__


_FINITE = "every layer's output is finite: "


def first_bad_layer(model: Any, batch: np.ndarray | None = None) -> str | None:
    """Where the first NaN or inf is: a layer's weights, its gradient, or its output on ``batch``.

    Layers are named by their index in the model (``model[i]``) when it is a ``Sequential``.
    """
    from retroprop.nn.inference import evaluating
    from retroprop.tensor import Tensor

    layers = list(model) if hasattr(model, "__iter__") else [model]
    for index, module in enumerate(layers):
        label = f"layer {index} ({_layer_label(module)})"
        own = list(module.parameters())
        if any(not np.isfinite(p.data).all() for p in own):
            return f"the weights of {label}"
        if any(p.grad is not None and not np.isfinite(p.grad).all() for p in own):
            return f"the gradient of {label}"
    if batch is None:
        return None
    largest, largest_label = 0.0, ""
    with evaluating(model):
        value = Tensor(batch)
        for index, module in enumerate(layers):
            value = module(value)
            label = f"layer {index} ({_layer_label(module)})"
            if not np.isfinite(value.data).all():
                return f"the output of {label}"
            magnitude = float(np.abs(value.data).max()) if value.data.size else 0.0
            if magnitude > largest:
                largest, largest_label = magnitude, label
    return f"{_FINITE}the largest, {largest:.3g}, comes from {largest_label}"


def describe_divergence(
    model: Any,
    what: str,
    value: float,
    epoch: int,
    batch: int,
    learning_rate: float | None,
    inputs: np.ndarray | None = None,
) -> str:
    """The divergence guard's message: what, where, and what to change."""
    where = first_bad_layer(model, inputs)
    if not where:
        located = ""
    elif where.startswith(_FINITE):
        located = f"; {where}, so the loss itself overflowed"
    else:
        located = f"; first non-finite value in {where}"
    rate = f" (now {learning_rate:g})" if learning_rate is not None else ""
    at = f"epoch {epoch}, batch {batch}" if batch else f"the end of epoch {epoch}"
    return (
        f"{what} became {value} at {at}{located}. Lower the learning "
        f"rate{rate}, clip gradients (clip_grad_norm=1.0), or use an initialisation matched to "
        "the activation (He for ReLU, Glorot for sigmoid/tanh). The model keeps its last "
        "finite weights."
    )
