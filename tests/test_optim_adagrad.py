"""Adagrad's first steps on J(w) = (w - 3)**2, computed by hand (dJ/dw = 2 (w - 3), w0 = 1)."""

import numpy as np
import pytest

import retroprop as rp
from retroprop.optim import Adagrad


def descend(steps: int, **options: object) -> list[float]:
    w = rp.tensor(np.array([1.0]), requires_grad=True)
    optimizer = Adagrad([w], **options)
    trajectory = []
    for _ in range(steps):
        w.grad = 2.0 * (w.data - 3.0)
        optimizer.step()
        trajectory.append(float(w.data[0]))
    return trajectory


def test_first_steps():
    # s1 = 16, w1 = 1 + 0.1 * 4 / 4 = 1.1;  g2 = -3.8, s2 = 30.44, w2 = 1.1 + 0.1 * 3.8 / 5.5173
    w1, w2 = descend(2, lr=0.1)
    assert w1 == pytest.approx(1.1, abs=1e-11)
    assert w2 == pytest.approx(1.1688749461877688, abs=1e-13)


def test_lr_decay_divides_by_one_plus_step_count():
    # second step uses lr / (1 + 1 * 0.5)
    w1, w2 = descend(2, lr=0.1, lr_decay=0.5)
    assert w1 == pytest.approx(1.1, abs=1e-11)
    assert w2 == pytest.approx(1.1459166307910125, abs=1e-13)


def test_initial_accumulator_value():
    # s1 = 9 + 16 = 25, w1 = 1 + 0.1 * 4 / 5 = 1.08
    assert descend(1, lr=0.1, initial_accumulator_value=9.0) == pytest.approx([1.08], abs=1e-11)


def test_weight_decay_adds_l2_gradient():
    # g = -4 + 2 * 1 = -2, s = 4, w1 = 1 + 0.1 * 2 / 2 = 1.1; then g = -3.8 + 2.2 = -1.6
    w1, w2 = descend(2, lr=0.1, weight_decay=2.0)
    assert w1 == pytest.approx(1.1, abs=1e-11)
    assert w2 == pytest.approx(1.1 + 0.1 * 1.6 / np.sqrt(4 + 1.6**2), abs=1e-11)


def test_defaults_are_pytorchs():
    defaults = Adagrad([rp.tensor([1.0], requires_grad=True)]).defaults
    assert (defaults["lr"], defaults["lr_decay"], defaults["eps"]) == (0.01, 0, 1e-10)
    assert defaults["initial_accumulator_value"] == 0
