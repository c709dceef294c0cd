"""Layers against NumPy references (and PyTorch when installed): values, modes, errors, dtypes."""

from __future__ import annotations

import numpy as np
import pytest

import retroprop as rp
import retroprop.nn.functional as F
from retroprop import nn
from retroprop.function import ShapeError
from retroprop.random import using_generator

ALL_ACTIVATIONS = [
    (nn.Sigmoid(), F.sigmoid),
    (nn.Tanh(), F.tanh),
    (nn.ReLU(), F.relu),
    (nn.LeakyReLU(0.2), lambda x: F.leaky_relu(x, 0.2)),
    (nn.ELU(0.5), lambda x: F.elu(x, 0.5)),
    (nn.GELU(), F.gelu),
    (nn.GELU("tanh"), lambda x: F.gelu(x, "tanh")),
    (nn.SiLU(), F.silu),
    (nn.Mish(), F.mish),
    (nn.Softplus(), F.softplus),
    (nn.Softmax(), F.softmax),
    (nn.Softmax(axis=0), lambda x: F.softmax(x, 0)),
    (nn.LogSoftmax(), F.log_softmax),
    (nn.Identity(), F.identity),
]


# ------------------------------------------------------------------------ Linear
def test_linear_computes_x_at_w_plus_b_and_the_course_gradients(rng):
    layer = nn.Linear(3, 2, dtype=np.float64)
    layer.bias.data[...] = [0.5, -1.0]
    x = rp.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    z = layer(x)
    np.testing.assert_allclose(z.data, x.data @ layer.weight.data + layer.bias.data)
    delta = rng.standard_normal((4, 2))
    z.backward(delta)
    np.testing.assert_allclose(layer.weight.grad, x.data.T @ delta)  # dJ/dW = a^T delta
    np.testing.assert_allclose(layer.bias.grad, delta.sum(axis=0))  # dJ/db = sum of delta
    np.testing.assert_allclose(x.grad, delta @ layer.weight.data.T)  # passed back: delta W^T


def test_linear_input_width_error():
    with pytest.raises(ValueError, match=r"Linear\(2->4\) expects 2 input features, got 3"):
        nn.Linear(2, 4)(np.ones((5, 3)))
    with pytest.raises(ValueError, match="got a scalar"):
        nn.Linear(2, 4)(rp.tensor(1.0))


def test_linear_argument_errors():
    with pytest.raises(ValueError, match="out_features must be at least 1, got 0"):
        nn.Linear(2, 0)
    with pytest.raises(TypeError, match="in_features must be an int, got 2.5"):
        nn.Linear(2.5, 1)
    with pytest.raises(TypeError, match="dtype must be a floating type, got int32"):
        nn.Linear(2, 1, dtype=np.int32)
    with pytest.raises(TypeError, match="init must be a name, a callable or None, got int"):
        nn.Linear(2, 1, init=3)


def test_linear_dtype_mismatch_names_the_layer():
    layer = nn.Linear(2, 3)
    with pytest.raises(TypeError, match=r"Linear\(2->3\) holds float32 weights but got a float64"):
        layer(rp.tensor(np.ones((1, 2))))
    # A plain array is data: it is converted to the layer's dtype.
    assert layer(np.ones((1, 2))).dtype == np.float32


def test_linear_forward_makes_no_copy_of_the_weight():
    layer = nn.Linear(3, 2)
    z = layer(np.ones((2, 3), dtype=np.float32))
    saved = z.grad_fn.parents[0].grad_fn.saved_tensors
    assert saved[1] is layer.weight.data


# ------------------------------------------------------------------------ activations
@pytest.mark.parametrize(("module", "function"), ALL_ACTIVATIONS, ids=lambda m: repr(m))
def test_activation_modules_match_functional(rng, module, function):
    x = rp.tensor(rng.standard_normal((3, 4)).astype(np.float32))
    np.testing.assert_array_equal(module(x).data, function(x).data)
    assert module.get_config() == type(module)(**module.get_config()).get_config()
    assert list(module.parameters()) == []


def test_activation_values():
    x = rp.tensor([-2.0, 0.0, 3.0])
    np.testing.assert_allclose(nn.ReLU()(x).data, [0, 0, 3])
    np.testing.assert_allclose(nn.LeakyReLU(0.1)(x).data, [-0.2, 0, 3])
    np.testing.assert_allclose(nn.Sigmoid()(x).data, 1 / (1 + np.exp([2.0, 0.0, -3.0])), 1e-6)
    np.testing.assert_allclose(nn.Softmax()(x).data.sum(), 1.0, 1e-6)
    assert nn.Identity()(x) is x
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'"):
        nn.GELU("erf")
    with pytest.raises(ValueError, match="unknown activation 'rellu'"):
        nn.get_activation("rellu")
    assert isinstance(nn.get_activation("Swish"), nn.SiLU)


# ------------------------------------------------------------------------ Dropout
def test_dropout_is_inverted_and_reproducible():
    x = rp.tensor(np.ones((200, 500), dtype=np.float32))
    drop = nn.Dropout(0.3)
    _ = rp.manual_seed(0)
    first = drop(x).data
    _ = rp.manual_seed(0)
    np.testing.assert_array_equal(first, drop(x).data)
    kept = first != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(first[kept], 1 / 0.7, rtol=1e-6)  # kept units scaled up
    assert abs(first.mean() - 1) < 0.02  # expectation preserved
    assert first.dtype == np.float32


def test_dropout_draws_from_the_default_generator():
    x = rp.tensor(np.ones((1, 50), dtype=np.float32))
    drop = nn.Dropout(0.5)
    with using_generator(np.random.default_rng(5)):
        a = drop(x).data
    expected_keep = np.random.default_rng(5).random((1, 50)) >= 0.5
    np.testing.assert_array_equal(a != 0, expected_keep)


def test_dropout_backward_uses_the_same_mask():
    x = rp.tensor(np.ones((4, 6), dtype=np.float32), requires_grad=True)
    _ = rp.manual_seed(1)
    y = nn.Dropout(0.5)(x)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, y.data)


def test_dropout_modes_and_edge_probabilities():
    x = rp.tensor(np.ones((3, 3), dtype=np.float32))
    assert nn.Dropout(0.5).eval()(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert np.all(nn.Dropout(1.0)(x).data == 0)
    for p in (-0.1, 1.5, "0.5"):
        with pytest.raises(ValueError, match="p must be a probability in \\[0, 1\\]"):
            nn.Dropout(p)


# ------------------------------------------------------------------------ BatchNorm1d
def numpy_batchnorm_reference(batches, gamma, beta, eps=1e-5, momentum=0.1):
    """The textbook formulas, step by step, for a list of (N, C) batches."""
    running_mean, running_var = np.zeros(gamma.shape), np.ones(gamma.shape)
    outputs = []
    for x in batches:
        n = x.shape[0]
        mu = x.sum(axis=0) / n
        var = ((x - mu) ** 2).sum(axis=0) / n  # biased: normalises the batch
        outputs.append(gamma * (x - mu) / np.sqrt(var + eps) + beta)
        unbiased = ((x - mu) ** 2).sum(axis=0) / (n - 1)  # unbiased: the running estimate
        running_mean = (1 - momentum) * running_mean + momentum * mu
        running_var = (1 - momentum) * running_var + momentum * unbiased
    return outputs, running_mean, running_var


def test_batchnorm_against_numpy_reference(rng):
    gamma, beta = np.array([1.0, 2.0, 0.5]), np.array([0.0, -1.0, 3.0])
    batches = [rng.standard_normal((8, 3)) * [1, 5, 0.1] + [0, 10, -2] for _ in range(3)]
    outputs, running_mean, running_var = numpy_batchnorm_reference(batches, gamma, beta)
    bn = nn.BatchNorm1d(3, dtype=np.float64)
    bn.weight.data[...], bn.bias.data[...] = gamma, beta
    for x, expected in zip(batches, outputs, strict=True):
        np.testing.assert_allclose(bn(x).data, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(bn.running_mean, running_mean, rtol=1e-12)
    np.testing.assert_allclose(bn.running_var, running_var, rtol=1e-12)
    assert int(bn.num_batches_tracked) == 3
    x = rng.standard_normal((2, 3))
    expected = gamma * (x - running_mean) / np.sqrt(running_var + 1e-5) + beta
    np.testing.assert_allclose(bn.eval()(x).data, expected, rtol=1e-12)
    np.testing.assert_allclose(bn(x[:1]).data, expected[:1], rtol=1e-12)  # one example works
    np.testing.assert_allclose(bn.running_mean, running_mean, rtol=1e-12)  # eval: unchanged


def test_batchnorm_cumulative_average_and_no_running_stats(rng):
    batches = [rng.standard_normal((5, 2)) for _ in range(4)]
    bn = nn.BatchNorm1d(2, momentum=None, dtype=np.float64)
    for x in batches:
        bn(x)
    np.testing.assert_allclose(bn.running_mean, np.mean([b.mean(axis=0) for b in batches], 0))
    free = nn.BatchNorm1d(2, track_running_stats=False, dtype=np.float64).eval()
    assert free.running_mean is None and "running_mean" not in free.state_dict()
    x = batches[0]
    np.testing.assert_allclose(free(x).data, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5))


def test_batchnorm_errors():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ShapeError, match=r"BatchNorm1d\(3\) expects input of shape \(N, 3\)"):
        bn(np.ones((4, 2), dtype=np.float32))
    with pytest.raises(ValueError, match="more than 1 value per feature"):
        bn(np.ones((1, 3), dtype=np.float32))
    with pytest.raises(TypeError, match="holds float32 parameters but got a float64 input"):
        bn(rp.tensor(np.ones((4, 3))))
    with pytest.raises(ValueError, match="momentum must be in \\[0, 1\\]"):
        nn.BatchNorm1d(3, momentum=2.0)


def test_batchnorm_under_no_grad_still_updates_running_stats(rng):
    bn = nn.BatchNorm1d(2)
    with rp.no_grad():
        bn(rng.standard_normal((4, 2)).astype(np.float32))
    assert int(bn.num_batches_tracked) == 1 and not np.all(bn.running_mean == 0)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5)])
def test_batchnorm_against_torch(rng, shape):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal(shape) * 3 + 1
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    grad_output = rng.standard_normal(shape)

    ours = nn.BatchNorm1d(3, momentum=0.3, dtype=np.float64)
    ours.weight.data[...], ours.bias.data[...] = gamma, beta
    theirs = torch.nn.BatchNorm1d(3, momentum=0.3, dtype=torch.float64)
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(gamma))
        theirs.bias.copy_(torch.from_numpy(beta))

    x_ours = rp.tensor(x, requires_grad=True)
    x_theirs = torch.tensor(x, requires_grad=True)
    for _ in range(2):
        ours.weight.grad = ours.bias.grad = x_ours.grad = None
        theirs.zero_grad()
        x_theirs.grad = None
        y_ours, y_theirs = ours(x_ours), theirs(x_theirs)
        y_ours.backward(grad_output)
        y_theirs.backward(torch.from_numpy(grad_output))
    np.testing.assert_allclose(y_ours.data, y_theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(x_ours.grad, x_theirs.grad.numpy(), rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ours.bias.grad, theirs.bias.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ours.running_mean, theirs.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), rtol=1e-12)
    assert int(ours.num_batches_tracked) == int(theirs.num_batches_tracked) == 2
    ours.eval(), theirs.eval()
    np.testing.assert_allclose(
        ours(x).data, theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-10, atol=1e-12
    )


# ------------------------------------------------------------------------ Residual, Flatten
def test_residual_adds_the_input_and_checks_the_shape():
    layer = nn.Linear(3, 3)
    skip = nn.Residual(layer)
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_allclose(skip(x).data, x + layer(x).data, rtol=1e-6)
    with pytest.raises(ValueError, match=r"block maps shape \(2, 3\) to \(2, 2\)"):
        nn.Residual(nn.Linear(3, 2))(x)
    with pytest.raises(TypeError, match="block must be a Module"):
        nn.Residual(F.relu)


def test_residual_gradient_reaches_the_input_through_both_paths():
    x = rp.tensor([[1.0, -2.0]], requires_grad=True)
    block = nn.Sequential(nn.Linear(2, 2, bias=False), nn.Tanh())
    block[0].weight.data[...] = [[0.5, 0.0], [0.0, 0.5]]
    nn.Residual(block)(x).sum().backward()
    # d/dx (x + tanh(0.5 x)) = 1 + 0.5 (1 - tanh(0.5 x)^2)
    np.testing.assert_allclose(x.grad, 1 + 0.5 * (1 - np.tanh(0.5 * x.data) ** 2), rtol=1e-6)


def test_flatten():
    x = np.zeros((4, 2, 3, 5), dtype=np.float32)
    assert nn.Flatten()(x).shape == (4, 30)
    assert nn.Flatten(2)(x).shape == (4, 2, 15)
    assert nn.Flatten(-1)(x).shape == (4, 2, 3, 5)
    assert nn.Flatten()(np.zeros((0, 2, 2))).shape == (0, 4)
    with pytest.raises(ShapeError, match=r"Flatten\(start_axis=1\) needs an input with more"):
        nn.Flatten()(np.zeros(3))


# ------------------------------------------------------------------------ Sequential, mlp
def test_sequential_indexing_slicing_iteration_append():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    model = nn.Sequential(a, b)
    assert model.append(c) is model
    assert len(model) == 3 and list(model) == [a, b, c]
    assert model[0] is a and model[-1] is c
    head = model[:2]
    assert isinstance(head, nn.Sequential) and list(head) == [a, b] and head[0] is a
    assert len(model[1:]) == 2
    with pytest.raises(IndexError, match="index 3 is out of range for 3 modules"):
        model[3]
    with pytest.raises(TypeError, match="indices are ints or slices, got str"):
        model["0"]
    with pytest.raises(TypeError, match="item 0 is a function, not a Module"):
        nn.Sequential(F.relu)
    x = np.ones((4, 2), dtype=np.float32)
    np.testing.assert_array_equal(model(x).data, c(b(a(x))).data)


def test_mlp_layers():
    model = nn.mlp([4, 8, 6, 2], activation="tanh", dropout=0.25, batch_norm=True)
    assert [type(m).__name__ for m in model] == [
        "Linear",
        "BatchNorm1d",
        "Tanh",
        "Dropout",
        "Linear",
        "BatchNorm1d",
        "Tanh",
        "Dropout",
        "Linear",
    ]
    assert nn.mlp([2, 3, 1], activation=nn.LeakyReLU(0.3))[1].negative_slope == 0.3
    assert isinstance(nn.mlp([2, 3, 1], activation=nn.ELU)[1], nn.ELU)
    assert len(nn.mlp([2, 3, 1], activation=None)) == 2
    assert isinstance(nn.mlp([2, 1], output_activation="softmax")[-1], nn.Softmax)
    with pytest.raises(ValueError, match="sizes needs at least an input and an output"):
        nn.mlp([3])


# ------------------------------------------------------------------------ float32
def every_module() -> list[nn.Module]:
    return [
        nn.Linear(4, 4),
        nn.Linear(4, 4, bias=False),
        *[module for module, _ in ALL_ACTIVATIONS],
        nn.Dropout(0.5),
        nn.BatchNorm1d(4),
        nn.Residual(nn.Linear(4, 4)),
        nn.Flatten(),
        nn.mlp([4, 5, 4], batch_norm=True, dropout=0.1, output_activation="sigmoid"),
    ]


@pytest.mark.parametrize("module", every_module(), ids=lambda m: type(m).__name__)
def test_float32_stays_float32_forward_and_backward(rng, module):
    x = rp.tensor(rng.standard_normal((6, 4)).astype(np.float32), requires_grad=True)
    y = module(x)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32
    for name, param in module.named_parameters():
        assert param.dtype == np.float32 and param.grad.dtype == np.float32, name
    for name, buffer in module.named_buffers():
        assert buffer.dtype in (np.float32, np.int64), name
