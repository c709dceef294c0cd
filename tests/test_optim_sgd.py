"""SGD's first steps on J(w) = (w - 3)**2, computed by hand (dJ/dw = 2 (w - 3), w0 = 1)."""

import numpy as np
import pytest

import retroprop as rp
from retroprop.optim import SGD


def descend(steps: int, **options: object) -> list[float]:
    """Run SGD on J(w) = (w - 3)**2 from w = 1; return w after each step."""
    w = rp.tensor(np.array([1.0]), requires_grad=True)
    optimizer = SGD([w], **options)
    trajectory = []
    for _ in range(steps):
        w.grad = 2.0 * (w.data - 3.0)
        optimizer.step()
        trajectory.append(float(w.data[0]))
    return trajectory


def test_plain_sgd_is_the_course_update():
    # w1 = 1 - 0.1 * (-4) = 1.4;  w2 = 1.4 - 0.1 * (-3.2) = 1.72
    assert descend(2, lr=0.1) == pytest.approx([1.4, 1.72], abs=1e-15)


def test_momentum_accumulates_a_velocity():
    # b1 = -4, w1 = 1.4;  b2 = 0.9 * (-4) + (-3.2) = -6.8, w2 = 1.4 + 0.68 = 2.08
    assert descend(2, lr=0.1, momentum=0.9) == pytest.approx([1.4, 2.08], abs=1e-15)


def test_dampening_scales_new_gradients_but_not_the_first():
    # b1 = -4 (undamped), w1 = 1.4;  b2 = -3.6 + 0.5 * (-3.2) = -5.2, w2 = 1.92
    assert descend(2, lr=0.1, momentum=0.9, dampening=0.5) == pytest.approx([1.4, 1.92], abs=1e-15)


def test_nesterov_looks_ahead():
    # b1 = -4, step -4 + 0.9 * (-4) = -7.6, w1 = 1.76
    # g2 = -2.48, b2 = -3.6 - 2.48 = -6.08, step = -2.48 + 0.9 * (-6.08) = -7.952, w2 = 2.5552
    got = descend(2, lr=0.1, momentum=0.9, nesterov=True)
    assert got == pytest.approx([1.76, 2.5552], abs=1e-15)


def test_weight_decay_adds_l2_gradient():
    # g = -4 + 0.1 * 1 = -3.9, w1 = 1.39
    assert descend(1, lr=0.1, weight_decay=0.1) == pytest.approx([1.39], abs=1e-15)


def test_maximize_climbs():
    # g = +4, w1 = 0.6;  with weight decay the decay still pulls towards 0: g = 4 + 0.1, w1 = 0.59
    assert descend(1, lr=0.1, maximize=True) == pytest.approx([0.6], abs=1e-15)
    assert descend(1, lr=0.1, maximize=True, weight_decay=0.1) == pytest.approx([0.59], abs=1e-15)


def test_default_learning_rate_is_pytorchs():
    assert SGD([rp.tensor([1.0], requires_grad=True)]).defaults["lr"] == 1e-3


def test_converges_with_backward():
    w = rp.tensor(np.array([1.0, -2.0]), requires_grad=True)
    optimizer = SGD([w], lr=0.1, momentum=0.5)
    for _ in range(100):
        optimizer.zero_grad()
        ((w - 3.0) * (w - 3.0)).sum().backward()
        optimizer.step()
    np.testing.assert_allclose(w.data, [3.0, 3.0], atol=1e-8)
