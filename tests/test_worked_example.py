"""The course's 4-parameter worked example (deck 03), with the numbers the course prints."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import retroprop as rp
import retroprop.nn.functional as F

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "worked_example.py"


def load_example():
    spec = importlib.util.spec_from_file_location("worked_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def example():
    return load_example()


@pytest.fixture(scope="module")
def result(example):
    return example.train()


def test_before_training(result):
    assert result["y_hat_before"] == pytest.approx(0.5055, abs=1e-4)
    assert result["loss_before"] == pytest.approx(0.6822, abs=1e-4)


def test_after_500_steps(result):
    assert result["y_hat_after"] == pytest.approx(0.989572, abs=1e-6)
    assert result["loss_after"] == pytest.approx(0.010483, abs=1e-6)


def test_loss_is_the_bce_of_the_prediction(result):
    for stage in ("before", "after"):
        assert result[f"loss_{stage}"] == pytest.approx(-np.log(result[f"y_hat_{stage}"]), 1e-12)


def test_first_step_gradients_are_the_course_backprop(example):
    """dJ/dz2 = y_hat - y;  dJ/dw2 = (y_hat - y) a1;  dJ/dz1 = (y_hat - y) w2 a1 (1 - a1)."""
    x, y = 3.14, 1.0
    w1_0, w2_0 = 0.6394267984578837, 0.025010755222666936
    w1, b1, w2, b2 = (rp.tensor(np.array(v), requires_grad=True) for v in (w1_0, 0.0, w2_0, 0.0))
    y_hat = example.forward(np.float64(x), w1, b1, w2, b2)
    F.binary_cross_entropy(y_hat, np.array(y)).backward()

    a1 = 1 / (1 + np.exp(-(w1_0 * x)))
    y_hat_ref = 1 / (1 + np.exp(-(w2_0 * a1)))
    delta2 = y_hat_ref - y
    delta1 = delta2 * w2_0 * a1 * (1 - a1)
    np.testing.assert_allclose(y_hat.item(), y_hat_ref, rtol=1e-14)
    np.testing.assert_allclose(w2.grad, delta2 * a1, rtol=1e-12)
    np.testing.assert_allclose(b2.grad, delta2, rtol=1e-12)
    np.testing.assert_allclose(w1.grad, delta1 * x, rtol=1e-12)
    np.testing.assert_allclose(b1.grad, delta1, rtol=1e-12)


def test_example_network_passes_gradcheck(example):
    def loss(w1, b1, w2, b2):
        return F.binary_cross_entropy(example.forward(np.float64(3.14), w1, b1, w2, b2), 1.0)

    parameters = [np.array(0.6394267984578837), np.array(0.0), np.array(0.025), np.array(0.0)]
    assert rp.gradcheck(loss, parameters)


def test_trained_parameters_are_float64(example):
    """The example runs in float64 end to end: the exact numbers above depend on it."""
    x = np.float64(3.14)
    w = [rp.tensor(np.array(0.1), requires_grad=True) for _ in range(4)]
    y_hat = example.forward(x, *w)
    assert y_hat.dtype == np.float64
    F.binary_cross_entropy(y_hat, np.array(1.0)).backward()
    assert all(p.grad.dtype == np.float64 for p in w)
