"""explain(): the backward pass of one example in the course's notation, checked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

import retroprop as rp
from retroprop import nn
from retroprop.diagnostics import explain


def sigma(h: float) -> float:
    return 1.0 / (1.0 + math.exp(-h))


def _one_neuron_chain(weights, biases, activations) -> nn.Sequential:
    """Linear(1, 1) layers in float64 with the given w_l, b_l, each followed by its activation."""
    modules = []
    for w, b, activation in zip(weights, biases, activations, strict=True):
        layer = nn.Linear(1, 1, dtype=np.float64)
        layer.weight.data[...] = w
        layer.bias.data[...] = b
        modules.append(layer)
        if activation is not None:
            modules.append(activation)
    return nn.Sequential(*modules)


def test_three_layer_one_neuron_regression_matches_the_course_epsilons():
    """Deck 05: h_l = w_l a_{l-1} + b_l; sigmoid, sigmoid, identity; pseudo-MSE."""
    x, y = 0.5, 0.8
    w1, w2, w3 = 0.3, -0.7, 1.5
    b1, b2, b3 = 0.1, 0.2, -0.3
    model = _one_neuron_chain([w1, w2, w3], [b1, b2, b3], [nn.Sigmoid(), nn.Sigmoid(), None])

    # forward pass, written out
    h1 = w1 * x + b1
    a1 = sigma(h1)
    h2 = w2 * a1 + b2
    a2 = sigma(h2)
    h3 = w3 * a2 + b3
    y_hat = h3
    # backward pass, the course's epsilons
    epsilon3 = y_hat - y
    epsilon2 = epsilon3 * w3 * a2 * (1 - a2)
    epsilon1 = epsilon2 * w2 * a1 * (1 - a1)  # the slide writes w_1: a typo, it is w_2
    expected = [
        (h1, a1, epsilon1, epsilon1 * x),
        (h2, a2, epsilon2, epsilon2 * a1),
        (h3, y_hat, epsilon3, epsilon3 * a2),
    ]

    trace = explain(model, [x], y, loss="pseudo_mse")
    assert trace.loss == pytest.approx(0.5 * (y_hat - y) ** 2, abs=1e-15)
    assert len(trace.layers) == 3
    for layer, (h, a, epsilon, grad_w) in zip(trace.layers, expected, strict=True):
        assert layer.z.dtype == np.float64
        np.testing.assert_allclose(layer.z, [h], rtol=0, atol=1e-12)
        np.testing.assert_allclose(layer.a, [a], rtol=0, atol=1e-12)
        np.testing.assert_allclose(layer.delta, [epsilon], rtol=0, atol=1e-12)
        np.testing.assert_allclose(
            layer.grad_weight, [[grad_w]], rtol=0, atol=1e-12
        )  # eps_l a_{l-1}
        np.testing.assert_allclose(layer.grad_bias, [epsilon], rtol=0, atol=1e-12)  # eps_l
    np.testing.assert_allclose(trace.layers[1].a_prev, [a1], atol=1e-15)
    # the typo is not harmless: with w_1 the first epsilon would be wrong
    assert abs(epsilon2 * w1 * a1 * (1 - a1) - trace.layers[0].delta[0]) > 1e-2
    text = str(trace)
    assert "loss pseudo_mse" in text and "delta_l = (delta_{l+1} W_{l+1}^T) * g_l'(z_l)" in text
    assert f"{epsilon3:.6g}" in text and f"{epsilon1:.6g}" in text


def test_four_parameter_example_matches_deck_03():
    """x = 3.14, y = 1, sigmoid hidden and output units, binary cross-entropy, b = 0."""
    x, y = 3.14, 1.0
    w1, w2 = 0.6394267984578837, 0.025010755222666936
    model = _one_neuron_chain([w1, w2], [0.0, 0.0], [nn.Sigmoid(), nn.Sigmoid()])
    a1 = sigma(w1 * x)
    y_hat = sigma(w2 * a1)

    trace = explain(model, np.array([x]), np.array([y]), loss="binary_cross_entropy")
    hidden, output = trace.layers
    assert round(y_hat, 2) == 0.51 and round(trace.loss, 2) == 0.68  # "Avant : y_hat = 0.51"
    assert trace.loss == pytest.approx(-math.log(y_hat), abs=1e-12)
    np.testing.assert_allclose(trace.output, [y_hat], atol=1e-12)
    # (1) dJ/dw2 = (y_hat - y) a1        (2) dJ/db2 = y_hat - y
    np.testing.assert_allclose(output.grad_weight, [[(y_hat - y) * a1]], rtol=0, atol=1e-12)
    np.testing.assert_allclose(output.grad_bias, [y_hat - y], rtol=0, atol=1e-12)
    # (3) dJ/dw1 = (y_hat - y) w2 a1 (1 - a1) x   (4) dJ/db1 = (y_hat - y) w2 a1 (1 - a1)
    delta1 = (y_hat - y) * w2 * a1 * (1 - a1)
    np.testing.assert_allclose(hidden.grad_weight, [[delta1 * x]], rtol=0, atol=1e-12)
    np.testing.assert_allclose(hidden.grad_bias, [delta1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(hidden.delta, [delta1], rtol=0, atol=1e-12)


def test_explain_a_wider_network_shows_arrays_and_matches_the_engine(rng):
    rp.manual_seed(0)
    model = nn.mlp([3, 4, 2], activation="tanh", dtype=np.float64)
    x = rng.normal(size=3)
    trace = explain(model, x, 1, loss="cross_entropy")
    first, last = trace.layers
    assert first.z.shape == (4,) and first.grad_weight.shape == (3, 4)
    # softmax(z) - y for cross-entropy on logits
    z = last.z
    softmax = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    np.testing.assert_allclose(last.delta, softmax - [0.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(
        first.delta, (last.delta @ model[2].weight.data.T) * (1 - first.a**2)
    )
    np.testing.assert_allclose(first.grad_weight, np.outer(x, first.delta), atol=1e-14)
    text = str(trace)
    assert "layer 1: 0: Linear 3->4, g_1 = Tanh" in text and "dJ/dW_1" in text


def test_explain_leaves_gradients_and_mode_untouched():
    rp.manual_seed(0)
    model = nn.mlp([2, 3, 1], dropout=0.5)
    for p in model.parameters():
        p.grad = np.ones_like(p.data)
    explain(model, [0.5, -1.0], 0.3, loss="mse")
    assert model.training
    assert all((p.grad == 1).all() for p in model.parameters())
    assert all(not m._forward_hooks for m in model.modules())


def test_explain_errors_name_the_problem():
    model = nn.mlp([2, 3, 1])
    with pytest.raises(ValueError, match="x must be one example"):
        explain(model, np.ones((4, 2)), np.ones(4), loss="mse")
    with pytest.raises(ValueError, match="x has 3 features but the first Linear layer expects"):
        explain(model, [1.0, 2.0, 3.0], 1.0, loss="mse")
    with pytest.raises(ValueError, match="holds no Linear layer"):
        explain(nn.Sequential(nn.Tanh()), [1.0], 1.0, loss="mse")
