"""Probes: hooks that record z, a and dJ/dz per Linear layer, and leave no trace when removed."""

from __future__ import annotations

import numpy as np
import pytest

import retroprop as rp
import retroprop.nn.functional as F
from retroprop import nn
from retroprop.diagnostics import Probe, linear_layers


def _model(dtype=np.float64) -> nn.Sequential:
    rp.manual_seed(3)
    return nn.Sequential(
        nn.Linear(3, 5, dtype=dtype),
        nn.Tanh(),
        nn.Linear(5, 4, dtype=dtype),
        nn.ReLU(),
        nn.Linear(4, 2, dtype=dtype),
    )


def _hooks(model: nn.Module) -> int:
    return sum(len(module._forward_hooks) for module in model.modules())


def test_probe_records_z_a_and_delta_as_the_chain_rule_gives_them(rng):
    model = _model()
    X = rng.normal(size=(6, 3))
    target = rng.normal(size=(6, 2))
    with Probe(model) as probe:
        F.mse_loss(model(X), target).backward()
    first, second, third = probe.captures()

    W1, b1 = model[0].weight.data, model[0].bias.data
    W2, b2 = model[2].weight.data, model[2].bias.data
    W3, b3 = model[4].weight.data, model[4].bias.data
    z1 = X @ W1 + b1
    a1 = np.tanh(z1)
    z2 = a1 @ W2 + b2
    a2 = np.maximum(z2, 0)
    z3 = a2 @ W3 + b3
    delta3 = 2 * (z3 - target) / target.size  # d mean((z3 - t)**2) / dz3
    delta2 = (delta3 @ W3.T) * (z2 > 0)
    delta1 = (delta2 @ W2.T) * (1 - a1**2)

    np.testing.assert_allclose(first.x, X)
    np.testing.assert_allclose(first.z, z1, rtol=1e-12)
    np.testing.assert_allclose(first.a, a1, rtol=1e-12)
    np.testing.assert_allclose(second.a, a2, rtol=1e-12)
    np.testing.assert_allclose(third.a, z3, rtol=1e-12)  # no activation after: a = z
    np.testing.assert_allclose(third.delta, delta3, rtol=1e-12)
    np.testing.assert_allclose(second.delta, delta2, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(first.delta, delta1, rtol=1e-12, atol=1e-15)
    # dJ/dW = a_{l-1}^T delta_l: the probe's arrays explain the parameters' gradients
    np.testing.assert_allclose(model[2].weight.grad, a1.T @ delta2, rtol=1e-12, atol=1e-15)
    assert [c.name for c in probe.captures()] == [
        "0: Linear 3->5",
        "2: Linear 5->4",
        "4: Linear 4->2",
    ]


def test_detached_probe_leaves_no_trace(rng):
    X = rng.normal(size=(6, 3))
    target = rng.normal(size=(6, 2))

    plain = _model()
    F.mse_loss(plain(X), target).backward()
    probed = _model()
    assert _hooks(probed) == 0
    probe = Probe(probed).attach()
    assert _hooks(probed) == 5  # three Linear layers, the two activations after them
    out = probed(X)
    F.mse_loss(out, target).backward()
    probe.detach()
    assert _hooks(probed) == 0
    assert not probe.attached

    for (name, p), q in zip(plain.named_parameters(), probed.parameters(), strict=True):
        np.testing.assert_array_equal(p.grad, q.grad, err_msg=name)
    # the gradient hook lived on z only: no .grad was retained on the non-leaf outputs
    assert out.grad is None
    # after detaching, forward passes are not recorded any more
    probe.clear()
    probed(X)
    assert probe.captures() == []


def test_probe_ignores_forward_passes_without_grad(rng):
    model = _model()
    with Probe(model) as probe:
        with rp.no_grad():
            model(rng.normal(size=(4, 3)))
        assert probe.captures() == []
        model(rng.normal(size=(2, 3)))
        assert [c.z.shape for c in probe.captures()] == [(2, 5), (2, 4), (2, 2)]


def test_shared_activation_module_gives_each_layer_its_own_output(rng):
    relu = nn.ReLU()
    rp.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), relu, nn.Linear(3, 3), relu, nn.Linear(3, 1))
    X = rng.normal(size=(5, 2)).astype(np.float32)
    with Probe(model) as probe:
        model(X)
    first, second, _ = probe.captures()
    np.testing.assert_array_equal(first.a, np.maximum(first.z, 0))
    np.testing.assert_array_equal(second.a, np.maximum(second.z, 0))


def test_linear_layers_find_the_activation_past_dropout_and_batchnorm():
    model = nn.mlp([2, 4, 4, 1], activation="sigmoid", dropout=0.2, batch_norm=True)
    layers = linear_layers(model)
    assert [(info.label, info.activation_name) for info in layers] == [
        ("0: Linear 2->4", "Sigmoid"),
        ("4: Linear 4->4", "Sigmoid"),
        ("8: Linear 4->1", "identity"),
    ]
    nested = nn.Sequential(nn.Residual(nn.Sequential(nn.Linear(3, 3), nn.Tanh())), nn.Linear(3, 1))
    assert [info.label for info in linear_layers(nested)] == [
        "0.block.0: Linear 3->3",
        "1: Linear 3->1",
    ]
    assert linear_layers(nested)[0].activation_name == "Tanh"


def test_probe_keeps_the_weights_seen_by_the_forward_pass(rng):
    model = _model(np.float32)
    optimizer = rp.optim.SGD(model.parameters(), lr=0.1)
    X = rng.normal(size=(8, 3)).astype(np.float32)
    with Probe(model, keep_weights=True) as probe:
        F.mse_loss(model(X), np.zeros((8, 2), dtype=np.float32)).backward()
    before = probe.captures()[0].weight_before.copy()
    grad = model[0].weight.grad.copy()
    optimizer.step()
    np.testing.assert_allclose(before - model[0].weight.data, 0.1 * grad, rtol=1e-5, atol=1e-7)


def test_probe_rejects_what_is_not_a_module():
    with pytest.raises(TypeError, match="expected a retroprop Module"):
        Probe(lambda x: x)
