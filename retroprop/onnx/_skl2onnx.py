"""The estimators in skl2onnx: ``MLPClassifier`` and ``MLPRegressor`` inside a Pipeline.

:func:`register_skl2onnx` gives skl2onnx a shape calculator and a converter for each estimator
(``skl2onnx.update_registered_converter``), with skl2onnx's conventions for its own MLPs:

- a classifier has two outputs, ``label`` (int64, or strings for string classes; for
  multi-label targets an int64 0/1 matrix) and ``probabilities`` (n_samples, n_classes), in
  the order of ``classes_``; like skl2onnx's classifiers, the probabilities become a list of
  dictionaries (ZipMap) unless the option ``{"zipmap": False}`` is given;
- a regressor has one output, ``variable`` (n_samples, n_targets): the network's output, or
  its exponential for ``loss="poisson"``.

The network is :func:`~retroprop.onnx._modules.module_nodes`'s graph in the dtype of the input
(float32 for skl2onnx's ``FloatTensorType``, float64 for ``DoubleTensorType``), followed by the
estimator's own output step (softmax; sigmoid, with [1 - p, p] for one unit and normalised
one-vs-rest sigmoids for multi-class logistic outputs).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import helper

from retroprop.onnx._graph import ExportError, GraphBuilder
from retroprop.onnx._modules import convert_module

__all__ = ["register_skl2onnx", "estimator_nodes", "label_nodes"]

_ALIASES = {"MLPClassifier": "RetropropMLPClassifier", "MLPRegressor": "RetropropMLPRegressor"}
_registered = False


def register_skl2onnx() -> None:
    """Register ``MLPClassifier`` and ``MLPRegressor`` with skl2onnx (once; later calls do nothing).

    Call it before ``skl2onnx.to_onnx`` or ``convert_sklearn``. Classifiers take skl2onnx's
    options ``zipmap`` (True, False or "columns") and ``nocl``.

    Examples
    --------
    >>> import onnxruntime, skl2onnx
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from retroprop.sklearn import MLPClassifier
    >>> register_skl2onnx()
    >>> X = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
    >>> y = np.where(X[:, 0] > 0, "yes", "no")
    >>> pipe = make_pipeline(StandardScaler(), MLPClassifier((8,), solver="lbfgs")).fit(X, y)
    >>> proto = skl2onnx.to_onnx(pipe, X[:1], options={"zipmap": False})
    >>> session = onnxruntime.InferenceSession(proto.SerializeToString())
    >>> label, probabilities = session.run(None, {"X": X})
    >>> bool((label == pipe.predict(X)).all()), probabilities.shape
    (True, (40, 2))
    """
    global _registered
    if _registered:
        return
    from skl2onnx import update_registered_converter

    from retroprop.sklearn import MLPClassifier, MLPRegressor

    update_registered_converter(
        MLPClassifier,
        _ALIASES["MLPClassifier"],
        _classifier_shapes,
        _convert,
        options={"zipmap": [True, False, "columns"], "nocl": [True, False]},
    )
    update_registered_converter(MLPRegressor, _ALIASES["MLPRegressor"], _regressor_shapes, _convert)
    _registered = True


def estimator_nodes(
    estimator: Any, input_name: str, dtype: Any, prefix: str = "", opset: int = 21
) -> tuple[GraphBuilder, list[str]]:
    """The graph of a fitted estimator: the builder and its output names.

    ``[label, probabilities]`` for a classifier, ``[variable]`` for a regressor.

    Raises
    ------
    ExportError
        For classes that are neither integers nor strings.
    """
    builder = GraphBuilder(dtype, opset=opset, prefix=prefix)
    output = convert_module(estimator.model_, input_name, builder, "model_")
    if not hasattr(estimator, "classes_"):
        if estimator._output_kind == "poisson":
            output = builder.node("Exp", [output])
        return builder, [output]
    probabilities = _probabilities(estimator, output, builder)
    if estimator._label_binarizer.y_type_.startswith("multilabel"):
        positive = builder.node("Greater", [probabilities, builder.constant(0.5)])
        return builder, [builder.node("Cast", [positive], to=onnx.TensorProto.INT64), probabilities]
    return builder, [label_nodes(builder, probabilities, estimator.classes_), probabilities]


def label_nodes(builder: GraphBuilder, probabilities: str, classes: np.ndarray) -> str:
    """The label of each row: ``classes[argmax(probabilities, axis=1)]``, shape (n_samples,).

    The classes are written as int64, or as strings (skl2onnx's label types); a tie goes to
    the first class, as ``numpy.argmax``.

    Raises
    ------
    ExportError
        For classes that are neither integers nor strings.
    """
    index = builder.node("ArgMax", [probabilities], axis=1, keepdims=0)
    labels = _class_labels(np.asarray(classes))
    constant = builder.constant(labels, dtype=labels.dtype, hint="classes")
    return builder.node("Gather", [constant, index])


def _probabilities(estimator: Any, logits: str, builder: GraphBuilder) -> str:
    if estimator._output_kind == "softmax":
        return builder.node("Softmax", [logits], axis=1)
    if estimator.n_outputs_ == 1:  # two classes, one unit: [1 - p, p] as expit(-z), expit(z)
        negative = builder.node("Sigmoid", [builder.node("Neg", [logits])])
        return builder.node("Concat", [negative, builder.node("Sigmoid", [logits])], axis=1)
    proba = builder.node("Sigmoid", [logits])
    if estimator._label_binarizer.y_type_ != "multiclass":
        return proba
    axis = builder.constant([1], dtype=np.int64)
    return builder.node("Div", [proba, builder.node("ReduceSum", [proba, axis], keepdims=1)])


def _class_labels(classes: np.ndarray) -> np.ndarray:
    """The classes as int64, or as strings (an object array), as skl2onnx's labels are."""
    if classes.dtype.kind in "biu":
        return classes.astype(np.int64)
    if classes.dtype.kind == "f" and np.all(classes == np.round(classes)):
        return classes.astype(np.int64)
    if classes.dtype.kind in "OUS":
        return np.array([str(label) for label in classes], dtype=object)
    raise ExportError(
        f"the classifier's classes_ are {classes.dtype} values {classes[:5]!r}: ONNX labels "
        "are int64 or strings; fit it on integer or string labels"
    )


# -------------------------------------------------------------------- skl2onnx's side
def _input_dtype(operator: Any) -> Any:
    from skl2onnx.common.data_types import DoubleTensorType

    return np.float64 if isinstance(operator.inputs[0].type, DoubleTensorType) else np.float32


def _tensor_type(operator: Any) -> Any:
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    return DoubleTensorType if _input_dtype(operator) == np.float64 else FloatTensorType


def _classifier_shapes(operator: Any) -> None:
    from skl2onnx.common.data_types import Int64TensorType, StringTensorType

    estimator = operator.raw_operator
    n = operator.inputs[0].get_first_dimension()
    n_classes = len(estimator.classes_)
    if estimator._label_binarizer.y_type_.startswith("multilabel"):
        operator.outputs[0].type = Int64TensorType([n, n_classes])
    elif _class_labels(estimator.classes_).dtype == object:
        operator.outputs[0].type = StringTensorType([n])
    else:
        operator.outputs[0].type = Int64TensorType([n])
    operator.outputs[1].type = _tensor_type(operator)([n, n_classes])


def _regressor_shapes(operator: Any) -> None:
    n = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = _tensor_type(operator)([n, operator.raw_operator.n_outputs_])


def _convert(scope: Any, operator: Any, container: Any) -> None:
    """skl2onnx's converter: the estimator's nodes added to the container, outputs renamed."""
    prefix = scope.get_unique_variable_name("retroprop") + "_"
    builder, outputs = estimator_nodes(
        operator.raw_operator,
        operator.inputs[0].full_name,
        _input_dtype(operator),
        prefix,
        opset=container.target_opset,
    )
    for tensor in builder.initializers:
        content = (
            list(tensor.string_data) if tensor.data_type == onnx.TensorProto.STRING else tensor
        )
        container.add_initializer(tensor.name, tensor.data_type, list(tensor.dims), content)
    for node in builder.nodes:
        attributes = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        container.add_node(
            node.op_type, list(node.input), list(node.output), name=node.name, **attributes
        )
    for produced, variable in zip(outputs, operator.outputs, strict=False):
        container.add_node(
            "Identity", [produced], [variable.full_name], name=f"{variable.full_name}_identity"
        )
