"""``export``: a retroprop model as one ONNX graph, checked, with a dynamic batch axis."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from onnx import helper

from retroprop.io import atomic_write
from retroprop.nn import BatchNorm1d, Flatten, Linear, Module
from retroprop.nn.inference import predict
from retroprop.onnx._graph import DEFAULT_OPSET, ExportError, GraphBuilder
from retroprop.onnx._modules import convert_module

__all__ = ["export"]

BATCH = "batch"


def export(
    model: Module,
    path: str | os.PathLike[str] | None = None,
    *,
    input_shape: tuple[int, ...] | None = None,
    n_features: int | None = None,
    dtype: npt.DTypeLike | None = None,
    opset_version: int = DEFAULT_OPSET,
    input_name: str = "input",
    output_name: str = "output",
) -> onnx.ModelProto:
    """Write ``model`` as an ONNX graph: its inference form, any number of rows.

    Like ``torch.onnx.export`` in evaluation mode: Dropout is the identity and BatchNorm1d
    uses its running statistics. The first axis of the input and the output is dynamic
    (``"batch"``); the graph passes ``onnx.checker.check_model(full_check=True)``.

    Parameters
    ----------
    model : Module
        Built from retroprop's modules (every registered module type has a converter).
    path : path-like, optional
        Where to write the ``.onnx`` file; nothing is written when None.
    input_shape : tuple of int, optional
        The shape of one example, without the batch axis (``(8, 8)`` for 8x8 images before
        a Flatten). Default: ``(n_features,)``.
    n_features : int, optional
        The width of a table's rows. Default: read from the first Linear (or BatchNorm1d).
    dtype : {float32, float64}, optional
        The dtype of the input, the weights and the output. Default: the model's.
    opset_version : int, default 21
        The ai.onnx opset (17 or newer).
    input_name, output_name : str
        The names of the graph's input and output.

    Returns
    -------
    onnx.ModelProto

    Raises
    ------
    ExportError
        (a ValueError) For a module without a converter (named, with its place in the model),
        an input shape that cannot be inferred, an unsupported dtype or opset, or an input or
        output name that is empty, the same for both, or an internal value's.
    retroprop.io.SaveError
        (an OSError) ``path`` cannot be written; a previous file there is left whole.

    Examples
    --------
    >>> import onnxruntime
    >>> model = nn.Sequential(nn.Linear(3, 4), nn.GELU(), nn.Linear(4, 2), nn.Softmax())
    >>> proto = export(model)
    >>> session = onnxruntime.InferenceSession(proto.SerializeToString())
    >>> X = np.ones((5, 3), np.float32)
    >>> (probabilities,) = session.run(None, {"input": X})
    >>> probabilities.shape, bool(np.allclose(probabilities, model.eval()(X).data, atol=1e-6))
    ((5, 2), True)
    """
    example_shape = _input_shape(model, input_shape, n_features)
    dtype = np.dtype(dtype) if dtype is not None else _model_dtype(model)
    output_shape = _output_shape(model, example_shape)
    builder = GraphBuilder(dtype, opset=opset_version, rank=1 + len(example_shape))
    output = convert_module(model, input_name, builder)
    _check_names(builder, output, input_name, output_name)
    nodes = _named_output(builder, output, input_name, output_name)
    graph = helper.make_graph(
        nodes,
        "retroprop",
        [helper.make_tensor_value_info(input_name, builder.element_type, [BATCH, *example_shape])],
        [helper.make_tensor_value_info(output_name, builder.element_type, [BATCH, *output_shape])],
        initializer=builder.initializers,
    )
    opsets = [helper.make_opsetid("", opset_version)]
    proto = helper.make_model(
        graph,
        opset_imports=opsets,
        producer_name="retroprop",
        ir_version=helper.find_min_ir_version_for(opsets),
        doc_string=f"{type(model).__name__} exported by retroprop.onnx.export",
    )
    onnx.checker.check_model(proto, full_check=True)
    if path is not None:  # through a temporary file: a kill never leaves half a file
        atomic_write(os.fspath(path), proto.SerializeToString())
    return proto


def _check_names(builder: GraphBuilder, output: str, input_name: str, output_name: str) -> None:
    """The graph's input and output names are non-empty, distinct, and no internal value's."""
    if not (isinstance(input_name, str) and isinstance(output_name, str)):
        raise ExportError("export: input_name and output_name must be strings")
    if not input_name or not output_name or input_name == output_name:
        raise ExportError(
            f"export: input_name {input_name!r} and output_name {output_name!r} must be "
            "non-empty and different"
        )
    internal = {i.name for i in builder.initializers}
    internal |= {name for node in builder.nodes for name in node.output if name != output}
    taken = [name for name in (input_name, output_name) if name in internal]
    if taken:
        raise ExportError(
            f"export: the name {taken[0]!r} is one of the graph's internal values; "
            "choose another input_name / output_name"
        )


def _named_output(builder: GraphBuilder, output: str, input_name: str, output_name: str) -> list:
    """The nodes with the output renamed ``output_name`` (an Identity when it is the input)."""
    if output == input_name:
        return [*builder.nodes, helper.make_node("Identity", [input_name], [output_name])]
    for node in builder.nodes:
        for names in (node.input, node.output):
            for index, name in enumerate(names):
                if name == output:
                    names[index] = output_name
    return builder.nodes


def _input_shape(model: Module, input_shape: Any, n_features: int | None) -> tuple[int, ...]:
    if input_shape is not None and n_features is not None:
        raise ExportError("export: give input_shape or n_features, not both")
    if input_shape is not None:
        shape = tuple(int(size) for size in np.atleast_1d(input_shape))
        if any(size < 1 for size in shape):
            raise ExportError(f"export: input_shape must hold positive sizes, got {input_shape!r}")
        return shape
    if n_features is not None:
        return _input_shape(model, (n_features,), None)
    for module in model.modules():
        if isinstance(module, Flatten):
            break
        if isinstance(module, Linear):
            return (module.in_features,)
        if isinstance(module, BatchNorm1d):
            return (module.num_features,)
    raise ExportError(
        f"export: cannot tell the input shape of {type(model).__name__} from its first layer; "
        "give input_shape=(...) (one example, without the batch axis) or n_features="
    )


def _model_dtype(model: Module) -> np.dtype:
    """The dtype of the first floating parameter or buffer (float32 when there is none)."""
    for array in (*model.parameters(), *model.buffers()):
        if np.dtype(array.dtype).kind == "f":
            return np.dtype(array.dtype)
    return np.dtype(np.float32)


def _output_shape(model: Module, example_shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape of one example's output, from a pass on two rows of zeros (checks shapes)."""
    probe = np.zeros((2, *example_shape), dtype=_model_dtype(model))
    try:
        return tuple(predict(model, probe).shape[1:])
    except ValueError as error:
        raise ExportError(
            f"export: the model does not take inputs of shape {example_shape}: {error}"
        ) from error
