"""retroprop.onnx.export: every module type, run by onnxruntime, against retroprop's predict."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from retroprop import nn  # noqa: E402
from retroprop.nn.config import MODULE_TYPES, register_module  # noqa: E402
from retroprop.nn.inference import predict  # noqa: E402
from retroprop.onnx import CONVERTERS, ExportError, export, register_converter  # noqa: E402
from retroprop.onnx._modules import module_nodes  # noqa: E402

TOLERANCE = {np.float32: 1e-5, np.float64: 1e-10}
# 0, tiny, moderate, large and huge inputs: the tails where a naive formula overflows
BOUNDARY = np.array([-1e4, -100.0, -20.0, -6.0, -1.0, -1e-7, 0.0, 1e-7, 1.0, 6.0, 20.0, 1e4])
ACTIVATIONS = [
    nn.Sigmoid(),
    nn.Tanh(),
    nn.ReLU(),
    nn.LeakyReLU(0.2),
    nn.ELU(0.7),
    nn.GELU(),
    nn.GELU("tanh"),
    nn.SiLU(),
    nn.Mish(),
    nn.Softplus(),
    nn.Softmax(),
    nn.LogSoftmax(),
    nn.Identity(),
]


def run(proto, X):
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    (output,) = session.run(None, {session.get_inputs()[0].name: X})
    return output


def assert_matches(model, X, **options):
    proto = export(model, input_shape=X.shape[1:], dtype=X.dtype, **options)
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf in softmax: NaN
        expected = predict(model, X)
    got = run(proto, X)
    assert got.dtype == X.dtype and got.shape == expected.shape
    finite = np.isfinite(expected)
    np.testing.assert_array_equal(got[~finite], expected[~finite])  # the same infs and NaNs
    error = float(np.max(np.abs(got[finite] - expected[finite]), initial=0.0))
    assert error <= TOLERANCE[X.dtype.type], f"{model}: max abs difference {error:g}"
    return proto


def batch_norm(n, dtype, seed=0, **options):
    layer = nn.BatchNorm1d(n, dtype=dtype, **options)
    rng = np.random.default_rng(seed)
    if layer.track_running_stats:
        layer.running_mean[...] = rng.normal(size=n)
        layer.running_var[...] = rng.uniform(0.3, 3.0, size=n)
    if layer.affine:
        layer.weight.data[...] = rng.normal(size=n)
        layer.bias.data[...] = rng.normal(size=n)
    return layer


def models(dtype):
    """(name, model, one example's shape): together every registered module type."""
    shared = nn.Linear(4, 4, dtype=dtype)
    tied = nn.Linear(4, 4, dtype=dtype)
    tied.weight = shared.weight
    return [
        ("mlp", nn.mlp([5, 8, 3], activation="tanh", dtype=dtype), (5,)),
        (
            "batchnorm-dropout",
            nn.Sequential(
                nn.Linear(5, 6, dtype=dtype),
                batch_norm(6, dtype),
                nn.ReLU(),
                nn.Dropout(0.5),
                nn.Linear(6, 2, bias=False, dtype=dtype),
                nn.LogSoftmax(),
            ),
            (5,),
        ),
        (
            "batchnorm-batch-stats",
            nn.Sequential(batch_norm(3, dtype, track_running_stats=False)),
            (3,),
        ),
        ("batchnorm-3d", nn.Sequential(batch_norm(3, dtype), nn.Flatten()), (3, 4)),
        ("batchnorm-plain", nn.Sequential(batch_norm(3, dtype, affine=False)), (3,)),
        (
            "residual-shared-tied",
            nn.Sequential(shared, nn.GELU(), nn.Residual(nn.Sequential(shared, nn.ELU())), tied),
            (4,),
        ),
        (
            "flatten",
            nn.Sequential(nn.Flatten(), nn.Linear(12, 3, dtype=dtype), nn.Softmax()),
            (3, 4),
        ),
        ("flatten-axis", nn.Sequential(nn.Flatten(-2)), (2, 3, 4)),
        ("dropout-alone", nn.Dropout(0.3), (4,)),
    ]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("opset", [17, 21])
@pytest.mark.parametrize("activation", ACTIVATIONS, ids=repr)
def test_activation_on_random_and_boundary_values(activation, opset, dtype):
    rng = np.random.default_rng(1)
    rows = [rng.normal(0.0, 3.0, (20, BOUNDARY.size)), BOUNDARY, -BOUNDARY]
    if activation.elementwise:  # the limits at +-inf, and NaN in, NaN out
        rows.append(np.r_[-np.inf, np.inf, np.nan, BOUNDARY[3:]])
    X = np.vstack(rows).astype(dtype)
    assert_matches(nn.Sequential(activation), X, opset_version=opset)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "case", range(len(models(np.float32))), ids=[m[0] for m in models(np.float32)]
)
def test_module_matches_predict(case, dtype):
    name, model, shape = models(dtype)[case]
    X = np.random.default_rng(2).normal(0.0, 2.0, (9, *shape)).astype(dtype)
    proto = assert_matches(model, X)
    onnx.checker.check_model(proto, full_check=True)


def test_cases_cover_every_registered_module_type():
    used = {type(m).__name__ for _, model, _ in models(np.float32) for m in model.modules()}
    used |= {type(activation).__name__ for activation in ACTIVATIONS}
    registered = {MODULE_TYPES.canonical(name) for name in MODULE_TYPES}
    assert registered <= set(CONVERTERS), "a registered module type has no ONNX converter"
    assert registered <= used, f"not tested: {sorted(registered - used)}"


@pytest.mark.parametrize("rows", [1, 7, 100])
def test_dynamic_batch(rows, tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    path = tmp_path / "model.onnx"
    export(model, path)
    proto = onnx.load(str(path))
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    X = np.random.default_rng(rows).normal(size=(rows, 3)).astype(np.float32)
    np.testing.assert_allclose(run(proto, X), predict(model, X), atol=1e-5, rtol=0)


def test_tied_weights_are_one_initializer():
    first = nn.Linear(3, 3)
    second = nn.Linear(3, 3)
    second.weight = first.weight
    proto = export(nn.Sequential(first, nn.Tanh(), second, nn.Tanh(), first))
    sizes = sorted(int(np.prod(init.dims)) for init in proto.graph.initializer)
    assert sizes == [3, 3, 9]  # one W for three uses, two biases


def test_names_dtype_opset_and_training_mode():
    model = nn.Sequential(
        nn.Linear(2, 3, dtype=np.float64), nn.Dropout(0.9), nn.Linear(3, 1, dtype=np.float64)
    )
    model.train()
    proto = export(model, input_name="x", output_name="y", opset_version=18)
    assert [i.name for i in proto.graph.input] == ["x"] and proto.graph.output[0].name == "y"
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    assert proto.opset_import[0].version == 18
    assert model.training and model[1].training  # modes left as they were
    X = np.ones((4, 2))
    with nn.inference.evaluating(model):
        expected = model(X).data
    np.testing.assert_allclose(run(proto, X), expected, atol=1e-10, rtol=0)


def test_module_nodes_joins_a_graph_after_other_nodes():
    from onnx import helper

    model = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid())
    nodes, initializers, output = module_nodes(model, "scaled", np.float32, prefix="net_")
    assert all(init.name.startswith("net_") for init in initializers)
    scale = onnx.numpy_helper.from_array(np.array([2.0, 3.0], np.float32), "scale")
    graph = helper.make_graph(
        [helper.make_node("Mul", ["raw", "scale"], ["scaled"]), *nodes],
        "joined",
        [helper.make_tensor_value_info("raw", onnx.TensorProto.FLOAT, ["n", 2])],
        [helper.make_tensor_value_info(output, onnx.TensorProto.FLOAT, ["n", 2])],
        initializer=[scale, *initializers],
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    X = np.array([[1.0, 1.0], [0.5, -2.0]], np.float32)
    expected = predict(model, X * np.array([2.0, 3.0], np.float32))
    np.testing.assert_allclose(run(proto, X), expected, atol=1e-6, rtol=0)


def test_unsupported_module_is_named():
    @register_module
    class Cube(nn.Module):
        def forward(self, x):
            return x * x * x

    try:
        with pytest.raises(ExportError, match=r"model\.1 \(.*Cube\).*register_converter"):
            export(nn.Sequential(nn.Linear(2, 2), Cube()))

        @register_converter(Cube)
        def convert_cube(module, x, builder):
            return builder.node("Mul", [builder.node("Mul", [x, x]), x])

        model = nn.Sequential(nn.Linear(2, 2), Cube())
        assert_matches(model, np.array([[1.0, -2.0], [0.5, 3.0]], np.float32))
    finally:
        MODULE_TYPES.unregister("Cube")
        if "Cube" in CONVERTERS:
            CONVERTERS.unregister("Cube")


def test_unregistered_module_and_bad_options():
    class Unknown(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(ExportError, match="Unknown"):
        export(Unknown(), n_features=2)
    with pytest.raises(ExportError, match="input_shape"):
        export(nn.Sequential(nn.Flatten(), nn.Linear(4, 1)))
    with pytest.raises(ExportError, match="float32 or float64"):
        export(nn.Linear(2, 1), dtype=np.float16)
    with pytest.raises(ExportError, match="opset"):
        export(nn.Linear(2, 1), opset_version=13)
    with pytest.raises(ExportError, match=r"shape \(3,\)"):
        export(nn.Linear(2, 1), n_features=3)


def test_import_retroprop_does_not_import_onnx():
    code = "import sys, retroprop; print([m for m in ('onnx', 'onnxruntime') if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr
