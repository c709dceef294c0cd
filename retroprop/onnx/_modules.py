"""Each module type's ONNX converter, and :func:`module_nodes`: a model as nodes + initializers.

``CONVERTERS`` maps a registered module type (:data:`retroprop.nn.config.MODULE_TYPES`, by
class name) to ``convert(module, x, builder) -> output name``; a module type without one is
refused with its name and place in the model. A new module type gets its converter with
:func:`register_converter`, next to its definition or in user code::

    @register_converter(Cube)
    def convert_cube(module, x, builder):
        return builder.node("Mul", [builder.node("Mul", [x, x]), x])

Every module is written in its inference form, whatever its mode: Dropout is the identity,
BatchNorm1d normalises with its running statistics (the batch's own when it tracks none).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx

from retroprop.nn import BatchNorm1d, Dropout, Flatten, Linear, Module, Residual, Sequential
from retroprop.nn.config import MODULE_TYPES
from retroprop.onnx._activations import ACTIVATION_CONVERTERS
from retroprop.onnx._graph import DEFAULT_OPSET, ExportError, GraphBuilder
from retroprop.registry import Registry

__all__ = ["CONVERTERS", "register_converter", "module_nodes", "convert_module"]

Converter = Callable[[Any, str, GraphBuilder], str]

#: Module type name (as in MODULE_TYPES) -> converter.
CONVERTERS: Registry[Converter] = Registry("ONNX converter")


def register_converter(module_type: type[Module]) -> Callable[[Converter], Converter]:
    """Decorator: ``convert(module, x, builder)`` writes ``module_type`` (a registered type).

    Raises
    ------
    ExportError
        When ``module_type`` is not a registered module type.
    """
    if MODULE_TYPES.get(module_type.__name__) is not module_type:
        raise ExportError(
            f"{module_type.__qualname__} is not a registered module type "
            "(retroprop.nn.register_module): register it first"
        )

    def register(convert: Converter) -> Converter:
        CONVERTERS.register(module_type.__name__, convert)
        return convert

    return register


def convert_module(module: Module, x: str, builder: GraphBuilder, where: str = "model") -> str:
    """Append the nodes of ``module`` applied to the tensor named ``x``; returns the output name.

    Raises
    ------
    ExportError
        When a module (``where`` names its place) has no converter.
    """
    cls = type(module)
    name = cls.__name__
    if MODULE_TYPES.get(name) is not cls or name not in CONVERTERS:
        supported = ", ".join(sorted(n for n in CONVERTERS if MODULE_TYPES.get(n) is not None))
        raise ExportError(
            f"cannot export {where} ({cls.__module__}.{cls.__qualname__}) to ONNX: no converter "
            f"is registered for it (retroprop.onnx.register_converter); supported: {supported}"
        )
    builder.where = where
    return CONVERTERS[name](module, x, builder)


def module_nodes(
    model: Module,
    input_name: str,
    dtype: npt.DTypeLike,
    prefix: str = "",
    *,
    opset: int = DEFAULT_OPSET,
    input_rank: int = 2,
) -> tuple[list[onnx.NodeProto], list[onnx.TensorProto], str]:
    """The nodes and initializers computing ``model`` on the tensor ``input_name``.

    Parameters
    ----------
    model : Module
    input_name : str
        The name of the input tensor (a graph input, or another node's output).
    dtype : numpy dtype
        float32 or float64, the dtype of the input; the weights are cast to it.
    prefix : str
        Put before every new name (to join several graphs).
    opset : int
        The ai.onnx opset the nodes are written for.
    input_rank : int
        Axes of the input, the batch axis included (2 for a table).

    Returns
    -------
    nodes : list of onnx.NodeProto
    initializers : list of onnx.TensorProto
        One per distinct Parameter (tied weights are one initializer) and constant.
    output_name : str
        The tensor holding the model's output (``input_name`` itself when the model is an
        identity, such as Dropout alone).

    Raises
    ------
    ExportError
        For a module without a converter, or a dtype other than float32 and float64.

    Examples
    --------
    >>> nodes, inits, out = module_nodes(nn.Sequential(nn.Linear(2, 3), nn.ReLU()), "x", np.float32)
    >>> [node.op_type for node in nodes], [init.name for init in inits], out
    (['MatMul', 'Add', 'Relu'], ['weight_0', 'bias_2'], 'Relu_4')
    """
    builder = GraphBuilder(dtype, opset=opset, prefix=prefix, rank=input_rank)
    output = convert_module(model, input_name, builder)
    return builder.nodes, builder.initializers, output


# -------------------------------------------------------------------- the converters
@register_converter(Linear)
def convert_linear(module: Linear, x: str, builder: GraphBuilder) -> str:
    """z = x @ W + b: MatMul (any leading axes) and Add."""
    z = builder.node("MatMul", [x, builder.parameter(module._parameters["weight"], "weight")])
    if module.bias is None:
        return z
    return builder.node("Add", [z, builder.parameter(module.bias, "bias")])


@register_converter(Sequential)
def convert_sequential(module: Sequential, x: str, builder: GraphBuilder) -> str:
    """Each module's output is the next one's input."""
    where = builder.where
    for index, child in enumerate(module):
        x = convert_module(child, x, builder, f"{where}.{index}")
    return x


@register_converter(Residual)
def convert_residual(module: Residual, x: str, builder: GraphBuilder) -> str:
    """y = block(x) + x."""
    return builder.node(
        "Add", [convert_module(module.block, x, builder, f"{builder.where}.block"), x]
    )


@register_converter(Dropout)
def convert_dropout(module: Dropout, x: str, builder: GraphBuilder) -> str:
    """Inverted dropout is the identity at inference: no node."""
    return x


@register_converter(Flatten)
def convert_flatten(module: Flatten, x: str, builder: GraphBuilder) -> str:
    """Reshape to (kept axes..., -1): 0 in the target shape keeps that axis."""
    start = module.start_axis
    if not -builder.rank <= start < builder.rank:
        raise ExportError(
            f"{builder.where} (Flatten(start_axis={start})) needs an input with more than "
            f"{start} axes; the exported input has {builder.rank}"
        )
    start %= builder.rank
    builder.rank = start + 1
    shape = builder.constant([0] * start + [-1], dtype=np.int64)
    return builder.node("Reshape", [x, shape])


@register_converter(BatchNorm1d)
def convert_batch_norm(module: BatchNorm1d, x: str, builder: GraphBuilder) -> str:
    """BatchNormalization (inference form) with the running statistics, or the batch's own."""
    n = module.num_features
    scale = (
        builder.parameter(module.weight, "bn_weight")
        if module.affine
        else builder.constant(np.ones(n))
    )
    shift = (
        builder.parameter(module.bias, "bn_bias")
        if module.affine
        else builder.constant(np.zeros(n))
    )
    if module.track_running_stats:
        mean = builder.parameter(module.running_mean, "running_mean")
        var = builder.parameter(module.running_var, "running_var")
    else:
        mean, var = _batch_statistics(x, builder)
    return builder.node("BatchNormalization", [x, scale, shift, mean, var], epsilon=module.eps)


def _batch_statistics(x: str, builder: GraphBuilder) -> tuple[str, str]:
    """Mean and biased variance per feature over the batch (and length) axes, shape (C,)."""
    axes = [0, *range(2, builder.rank)]

    def reduce_mean(tensor: str, keepdims: int) -> str:
        if builder.opset >= 18:
            return builder.node(
                "ReduceMean", [tensor, builder.constant(axes, dtype=np.int64)], keepdims=keepdims
            )
        return builder.node("ReduceMean", [tensor], axes=axes, keepdims=keepdims)

    centred = builder.node("Sub", [x, reduce_mean(x, 1)])
    variance = reduce_mean(builder.node("Mul", [centred, centred]), 0)
    return reduce_mean(x, 0), variance


for _cls, _convert in ACTIVATION_CONVERTERS.items():
    register_converter(_cls)(_convert)
