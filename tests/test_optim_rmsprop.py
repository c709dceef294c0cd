"""RMSprop's first steps on J(w) = (w - 3)**2, computed by hand (dJ/dw = 2 (w - 3), w0 = 1)."""

import numpy as np
import pytest

import retroprop as rp
from retroprop.optim import RMSprop


def descend(steps: int, **options: object) -> list[float]:
    w = rp.tensor(np.array([1.0]), requires_grad=True)
    optimizer = RMSprop([w], **options)
    trajectory = []
    for _ in range(steps):
        w.grad = 2.0 * (w.data - 3.0)
        optimizer.step()
        trajectory.append(float(w.data[0]))
    return trajectory


def test_first_step_moves_lr_over_sqrt_one_minus_alpha():
    # v1 = 0.01 * 16 = 0.16, step = 0.01 * 4 / (0.4 + 1e-8) ~ 0.1
    # g2 = -3.8, v2 = 0.99 * 0.16 + 0.01 * 14.44 = 0.3028, w2 = w1 + 0.01 * 3.8 / sqrt(0.3028)
    w1, w2 = descend(2)
    assert w1 == pytest.approx(1.0999999975, abs=1e-13)
    assert w2 == pytest.approx(1.1690566708901362, abs=1e-13)
    assert w2 - w1 == pytest.approx(0.01 * 3.8 / (np.sqrt(0.3028) + 1e-8), rel=1e-7)


def test_centered_divides_by_a_variance():
    # g_avg = 0.01 * (-4) = -0.04, v - g_avg**2 = 0.1584, step = 0.01 * 4 / sqrt(0.1584)
    (w1,) = descend(1, centered=True)
    assert w1 == pytest.approx(1.1005037790006686, abs=1e-13)


def test_momentum_on_the_scaled_gradient():
    # b1 = -4 / 0.4 = -10; b2 = -9 - 3.8 / sqrt(0.3028) = -15.906, w2 = w1 + 0.01 * 15.906
    w1, w2 = descend(2, momentum=0.9)
    assert w1 == pytest.approx(1.0999999975, abs=1e-13)
    assert w2 == pytest.approx(1.2590566686401363, abs=1e-13)


def test_weight_decay_adds_l2_gradient():
    # g = -4 + 0.5 = -3.5, v = 0.01 * 12.25, step = 0.01 * 3.5 / 0.35 = 0.1 (up to eps)
    (w1,) = descend(1, weight_decay=0.5)
    assert w1 == pytest.approx(1.1, abs=1e-7)
    assert w1 == pytest.approx(1.0 + 0.01 * 3.5 / (0.35 + 1e-8), abs=1e-15)


def test_defaults_are_pytorchs():
    optimizer = RMSprop([rp.tensor([1.0], requires_grad=True)])
    assert {k: optimizer.defaults[k] for k in ("lr", "alpha", "eps", "momentum", "centered")} == {
        "lr": 0.01,
        "alpha": 0.99,
        "eps": 1e-8,
        "momentum": 0,
        "centered": False,
    }
