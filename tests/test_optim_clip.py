"""Gradient clipping by global norm and by value, by hand and against PyTorch."""

import math

import numpy as np
import pytest

import retroprop as rp
from retroprop.optim import clip_grad_norm_, clip_grad_value_


def params_with_grads(*grads: list[float], dtype: type = np.float64) -> list[rp.Tensor]:
    params = []
    for grad in grads:
        param = rp.tensor(np.zeros(len(grad), dtype=dtype), requires_grad=True)
        param.grad = np.array(grad, dtype=dtype)
        params.append(param)
    return params


def test_global_norm_by_hand():
    # ||(1, 2, 2)|| = 3 and ||(4,)|| = 4: global norm sqrt(9 + 16) = 5
    w, b = params_with_grads([1.0, 2.0, 2.0], [4.0])
    total = clip_grad_norm_([w, b], max_norm=2.5)
    assert total == 5.0
    coef = 2.5 / (5.0 + 1e-6)
    np.testing.assert_allclose(w.grad, [coef, 2 * coef, 2 * coef], rtol=1e-15)
    np.testing.assert_allclose(b.grad, [4 * coef], rtol=1e-15)
    assert math.sqrt((w.grad**2).sum() + (b.grad**2).sum()) == pytest.approx(2.5, abs=1e-6)


def test_short_gradients_are_left_alone():
    w, b = params_with_grads([0.3, 0.4], [0.0])
    grad = w.grad
    assert clip_grad_norm_([w, b], max_norm=1.0) == pytest.approx(0.5, rel=1e-15)
    assert w.grad is grad
    np.testing.assert_array_equal(w.grad, [0.3, 0.4])


def test_other_norms_and_missing_grads():
    w, b = params_with_grads([3.0, -7.0], [5.0])
    frozen = rp.tensor(np.zeros(2), requires_grad=True)
    assert clip_grad_norm_([w, frozen, b], 1.0, norm_type=math.inf) == 7.0
    np.testing.assert_allclose(w.grad, np.array([3.0, -7.0]) / (7.0 + 1e-6), rtol=1e-15)
    assert frozen.grad is None
    (v,) = params_with_grads([3.0, -4.0])
    assert clip_grad_norm_(v, 100.0, norm_type=1) == 7.0  # a single tensor is accepted
    assert clip_grad_norm_([frozen], 1.0) == 0.0


def test_float32_gradients_stay_float32():
    (w,) = params_with_grads([30.0, 40.0], dtype=np.float32)
    assert clip_grad_norm_([w], 5.0) == pytest.approx(50.0)
    assert w.grad.dtype == np.float32
    np.testing.assert_allclose(w.grad, [3.0, 4.0], rtol=1e-6)


def test_nonfinite_norm():
    (w,) = params_with_grads([math.inf, 1.0])
    with pytest.raises(FloatingPointError, match="error_if_nonfinite=False"):
        clip_grad_norm_([w], 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(w.grad, [math.inf, 1.0])  # untouched
    assert clip_grad_norm_([w], 1.0) == math.inf
    assert np.isnan(w.grad[0]) and w.grad[1] == 0.0  # inf * 0 and 1 * 0, as PyTorch


def test_clip_by_value():
    w, b = params_with_grads([-3.0, 0.2, 0.7], [1.5])
    grad = w.grad
    clip_grad_value_([w, b], 0.5)
    assert w.grad is grad
    np.testing.assert_array_equal(w.grad, [-0.5, 0.2, 0.5])
    np.testing.assert_array_equal(b.grad, [0.5])


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1000.0])
def test_same_as_torch(norm_type: float, max_norm: float):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    grads = [rng.normal(size=(4, 3)), rng.normal(size=(3,)), rng.normal(size=(2, 2, 2))]
    ours = params_with_grads(*(g.ravel().tolist() for g in grads))
    theirs = [torch.zeros(g.size, dtype=torch.float64, requires_grad=True) for g in grads]
    for param, grad in zip(theirs, grads, strict=True):
        param.grad = torch.tensor(grad.ravel())
    total = clip_grad_norm_(ours, max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert total == pytest.approx(float(expected), rel=1e-12)
    for param, torch_param in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(param.grad, torch_param.grad.numpy(), rtol=1e-12)
    clip_grad_value_(ours, 0.1)
    torch.nn.utils.clip_grad_value_(theirs, 0.1)
    for param, torch_param in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(param.grad, torch_param.grad.numpy(), rtol=1e-12)
        assert np.abs(param.grad).max() <= 0.1
