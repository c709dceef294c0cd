"""``GraphBuilder``: the nodes and initializers of one exported graph, with unique names.

A converter asks the builder for a node (``builder.node("Relu", [x])`` returns the new output's
name), a constant (``builder.constant(0.5)``) or a parameter (``builder.parameter(p)``: one
initializer per Parameter object, so tied weights stay tied in the file). Names carry the
builder's ``prefix``, so graphs built apart can be joined into one without clashes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from onnx import helper, numpy_helper

__all__ = ["GraphBuilder", "ExportError", "DEFAULT_OPSET", "MIN_OPSET", "FLOAT_DTYPES"]

#: The ai.onnx opset written by default (onnxruntime 1.17+ runs it; Gelu needs 20).
DEFAULT_OPSET = 21
#: The oldest opset the converters can write (Softmax on any axis, ReduceMean as in 13-17).
MIN_OPSET = 17
#: The dtypes a graph can compute in, and their ONNX element types.
FLOAT_DTYPES = {
    np.dtype(np.float32): onnx.TensorProto.FLOAT,
    np.dtype(np.float64): onnx.TensorProto.DOUBLE,
}


class ExportError(ValueError):
    """A model (or an option) that cannot be written as an ONNX graph; the message says which."""


class GraphBuilder:
    """Collects the nodes and initializers of a graph in one dtype, under one opset.

    Parameters
    ----------
    dtype : numpy dtype
        float32 or float64: every constant and parameter is cast to it.
    opset : int
        The ai.onnx opset the graph is written for (converters choose their ops by it).
    prefix : str
        Put before every name the builder makes.
    rank : int
        The number of axes of the tensor being converted (the batch axis included), for the
        converters that need it (Flatten with a negative axis, BatchNorm1d on batch statistics).

    Examples
    --------
    >>> builder = GraphBuilder(np.float32, prefix="net_")
    >>> builder.node("Relu", ["x"])
    'net_Relu_0'
    >>> [init.name for init in builder.initializers], builder.constant(2.0)
    ([], 'net_const_1')
    """

    def __init__(
        self, dtype: npt.DTypeLike, opset: int = DEFAULT_OPSET, prefix: str = "", rank: int = 2
    ):
        self.dtype = np.dtype(dtype)
        if self.dtype not in FLOAT_DTYPES:
            raise ExportError(f"ONNX export computes in float32 or float64, got dtype {self.dtype}")
        if not isinstance(opset, int) or opset < MIN_OPSET:
            raise ExportError(
                f"opset {opset!r} is too old: the export writes opset {MIN_OPSET} or newer"
            )
        self.opset = opset
        self.prefix = prefix
        self.rank = rank
        self.where = "model"  # the place of the module being converted, for error messages
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0
        self._parameters: dict[int, str] = {}  # id(Parameter) -> initializer name

    @property
    def element_type(self) -> int:
        """The ONNX element type of the graph's dtype (TensorProto.FLOAT or DOUBLE)."""
        return FLOAT_DTYPES[self.dtype]

    def fresh(self, hint: str) -> str:
        """A new unique name built from ``hint``."""
        name = f"{self.prefix}{hint}_{self._count}"
        self._count += 1
        return name

    def node(self, op_type: str, inputs: list[str], *, domain: str = "", **attributes: Any) -> str:
        """Append one node with a single new output; returns that output's name."""
        output = self.fresh(op_type)
        self.nodes.append(
            helper.make_node(
                op_type,
                inputs,
                [output],
                name=f"{output}_node",
                domain=domain or None,
                **attributes,
            )
        )
        return output

    def constant(self, value: Any, dtype: npt.DTypeLike | None = None, hint: str = "const") -> str:
        """An initializer holding ``value`` (in the graph's dtype unless ``dtype`` is given)."""
        array = np.asarray(value, dtype=self.dtype if dtype is None else dtype)
        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def parameter(self, param: Any, hint: str) -> str:
        """The initializer of a Parameter (or array), one per object: tied weights share it."""
        key = id(param)
        if key not in self._parameters:
            data = getattr(param, "data", param)
            self._parameters[key] = self.constant(data, hint=hint)
        return self._parameters[key]
