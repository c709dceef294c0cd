"""gradcheck_model(): every parameter against finite differences, on a float64 copy."""

from __future__ import annotations

import numpy as np
import pytest

import retroprop as rp
from retroprop import nn
from retroprop.diagnostics import gradcheck_model
from retroprop.ops import activation as activation_ops
from retroprop.ops import matmul as matmul_ops


@pytest.fixture
def problem(rng):
    X = rng.normal(size=(12, 3)).astype(np.float32)
    y = rng.integers(0, 2, size=12)
    rp.manual_seed(1)
    model = nn.mlp([3, 6, 5, 2], activation="tanh")
    return model, X, y


def test_healthy_mlp_passes_with_tiny_errors(problem):
    model, X, y = problem
    result = gradcheck_model(model, X, y, loss="cross_entropy")
    assert result.ok
    assert [row.parameter for row in result.rows] == [
        "0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias",
    ]  # fmt: skip
    assert [row.layer for row in result.rows[::2]] == [
        "0: Linear 3->6",
        "2: Linear 6->5",
        "4: Linear 5->2",
    ]
    assert all(row.checked == int(np.prod(row.shape)) for row in result.rows)
    assert max(row.max_rel_error for row in result.rows) < 1e-5  # measured 1.0e-6
    text = str(result)
    assert "All 6 parameters agree" in text and "0: Linear 3->6" in text
    # the model itself is untouched: still float32, no gradient left on it
    assert all(p.dtype == np.float32 and p.grad is None for p in model.parameters())


def test_broken_backward_is_caught_and_located(problem, monkeypatch):
    model, X, y = problem

    def wrong_tanh_backward(ctx, grad_output):
        (a,) = ctx.saved_tensors
        return grad_output * (1 - a)  # should be 1 - a**2

    monkeypatch.setattr(activation_ops.Tanh, "backward", staticmethod(wrong_tanh_backward))
    result = gradcheck_model(model, X, y, loss="cross_entropy")
    assert not result.ok
    failing = [row.parameter for row in result.rows if not row.ok]
    # the output layer's gradient does not pass through a tanh; every earlier one does
    assert failing == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert all(row.max_rel_error > 0.01 for row in result.rows if not row.ok)
    assert "MISMATCH in 0.weight, 0.bias, 2.weight, 2.bias" in str(result)


def test_gradient_sent_to_the_wrong_input_is_caught(problem, monkeypatch):
    model, X, y = problem
    original = matmul_ops.MatMul.backward

    def doubled_weight_gradient(ctx, grad_output):
        grad_x, grad_w = original(ctx, grad_output)
        return grad_x, None if grad_w is None else 2 * grad_w

    monkeypatch.setattr(matmul_ops.MatMul, "backward", staticmethod(doubled_weight_gradient))
    result = gradcheck_model(model, X, y, loss="cross_entropy")
    assert [row.ok for row in result.rows] == [False, True] * 3  # weights wrong, biases right


def test_large_parameters_and_batches_are_sampled(rng):
    X = rng.normal(size=(500, 20))
    rp.manual_seed(0)
    model = nn.mlp([20, 30, 1], dropout=0.3, batch_norm=True)
    result = gradcheck_model(model, X, X[:, 0], loss="mse", max_elements=40, max_samples=64)
    assert result.ok
    checked = {row.parameter: row.checked for row in result.rows}
    assert checked["0.weight"] == 40 and checked["0.bias"] == 30 and checked["1.weight"] == 30
    assert any(row.layer == "1: BatchNorm1d" for row in result.rows)


def test_errors(problem):
    model, X, y = problem
    with pytest.raises(ValueError, match="eps must be positive"):
        gradcheck_model(model, X, y, loss="cross_entropy", eps=0.0)
    with pytest.raises(ValueError, match="no parameter to check"):
        gradcheck_model(nn.Sequential(nn.ReLU()), X, y, loss="mse")


class _Quadratic(nn.Module):
    """A user-defined module: y = (x @ W) ** 2 summed per row, outside the config allowlist."""

    def __init__(self) -> None:
        super().__init__()
        self.W = nn.Parameter(np.array([[0.5], [-1.5]], dtype=np.float32))

    def forward(self, x):
        return (x @ self.W) ** 2


def test_custom_modules_are_copied_and_cast(rng):
    X = rng.normal(size=(6, 2)).astype(np.float32)
    model = _Quadratic()
    result = gradcheck_model(model, X, rng.normal(size=6), loss="mse")
    assert result.ok and [row.parameter for row in result.rows] == ["W"]
    assert model.W.dtype == np.float32
