"""Export to ONNX: serve a trained network where retroprop is not installed.

Needs the ``onnx`` extra (``pip install "retroprop[onnx]"``: onnx, onnxruntime, skl2onnx);
``import retroprop`` does not import it.

- :func:`export` writes a model (every module type retroprop has) as one ONNX graph, in its
  inference form, with a dynamic batch axis, checked by ``onnx.checker``.
- :func:`register_skl2onnx` teaches skl2onnx the estimators ``MLPClassifier`` and
  ``MLPRegressor``, so ``skl2onnx.to_onnx(pipeline, X[:1])`` converts a scikit-learn Pipeline
  that ends with one, with skl2onnx's outputs (``label`` and ``probabilities``, or
  ``variable``).
- :func:`register_converter` gives a module type of your own its converter.

Examples
--------
>>> import onnxruntime
>>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
>>> proto = rp.onnx.export(model)  # or export(model, "model.onnx") to write the file
>>> session = onnxruntime.InferenceSession(proto.SerializeToString())
>>> session.run(None, {"input": np.zeros((2, 4), np.float32)})[0].shape
(2, 3)
"""

try:
    import onnx  # noqa: F401
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        'retroprop.onnx needs the "onnx" extra: pip install "retroprop[onnx]"'
    ) from error

from retroprop.onnx._export import export  # noqa: E402
from retroprop.onnx._graph import DEFAULT_OPSET, ExportError, GraphBuilder  # noqa: E402
from retroprop.onnx._modules import CONVERTERS, register_converter  # noqa: E402
from retroprop.onnx._skl2onnx import register_skl2onnx  # noqa: E402

__all__ = [
    "export",
    "register_skl2onnx",
    "register_converter",
    "ExportError",
    "GraphBuilder",
    "CONVERTERS",
    "DEFAULT_OPSET",
]
