"""Adam's and AdamW's first steps, computed by hand."""

import numpy as np
import pytest

import retroprop as rp
from retroprop.optim import Adam, AdamW


def descend(cls: type, steps: int, **options: object) -> list[float]:
    """Minimise J(w) = (w - 3)**2 from w = 1 (dJ/dw = 2 (w - 3))."""
    w = rp.tensor(np.array([1.0]), requires_grad=True)
    optimizer = cls([w], **options)
    trajectory = []
    for _ in range(steps):
        w.grad = 2.0 * (w.data - 3.0)
        optimizer.step()
        trajectory.append(float(w.data[0]))
    return trajectory


def test_adam_first_steps():
    # step 1: m = -0.4, v = 0.016, m_hat = -4, v_hat = 16: w1 = 1 + 0.1 * 4 / (4 + 1e-8)
    # step 2: g = -3.8, m = -0.74, v = 0.030424, m_hat = -0.74 / 0.19, v_hat = 0.030424 / 0.001999
    w1, w2 = descend(Adam, 2, lr=0.1)
    assert w1 == pytest.approx(1.09999999975, abs=1e-14)
    assert w2 == pytest.approx(1.199833513884299, abs=1e-13)
    m_hat, v_hat = -0.74 / 0.19, 0.030424 / (1 - 0.999**2)
    assert w2 - w1 == pytest.approx(-0.1 * m_hat / (np.sqrt(v_hat) + 1e-8), rel=1e-9)


def test_amsgrad_keeps_the_largest_second_moment():
    # betas (0.5, 0.5), lr 1, gradients 10 then 1:
    # step 1: m = 5, v = 50, w1 = -10 / (10 + 1e-8) ~ -1
    # step 2: m = 3, m_hat = 4; v = 25.5 but v_max = 50: w2 = w1 - 4 / sqrt(50 / 0.75)
    results = {}
    for amsgrad in (False, True):
        w = rp.tensor(np.array([0.0]), requires_grad=True)
        optimizer = Adam([w], lr=1.0, betas=(0.5, 0.5), amsgrad=amsgrad)
        for grad in (10.0, 1.0):
            w.grad = np.array([grad])
            optimizer.step()
        results[amsgrad] = float(w.data[0])
    assert results[True] == pytest.approx(-1.4898979469566354, abs=1e-13)
    assert results[False] == pytest.approx(-1.6859943383935647, abs=1e-13)  # sqrt(25.5 / 0.75)


def test_adam_weight_decay_is_l2_in_the_gradient():
    # g = -4 + 0.1 = -3.9: the first step is still lr * sign(g)
    assert descend(Adam, 1, lr=0.1, weight_decay=0.1) == pytest.approx([1.1], abs=1e-8)


def test_adamw_weight_decay_shrinks_the_weights():
    # w = 1 * (1 - 0.1 * 0.1) = 0.99, then the Adam step + 0.1: 1.09
    assert descend(AdamW, 1, lr=0.1, weight_decay=0.1) == pytest.approx([1.09], abs=1e-8)


def test_adamw_without_decay_is_adam():
    assert descend(AdamW, 5, lr=0.1, weight_decay=0.0) == descend(Adam, 5, lr=0.1)


def test_defaults_are_pytorchs():
    w = rp.tensor([1.0], requires_grad=True)
    adam, adamw = Adam([w]).defaults, AdamW([w]).defaults
    assert (adam["lr"], adam["betas"], adam["eps"], adam["weight_decay"]) == (
        1e-3,
        (0.9, 0.999),
        1e-8,
        0,
    )
    assert (adamw["lr"], adamw["weight_decay"], adamw["amsgrad"]) == (1e-3, 1e-2, False)


def test_adam_converges_with_backward():
    w = rp.tensor(np.array([1.0, -2.0]), requires_grad=True)
    optimizer = Adam([w], lr=0.1)
    for _ in range(300):
        optimizer.zero_grad()
        ((w - 3.0) * (w - 3.0)).sum().backward()
        optimizer.step()
    np.testing.assert_allclose(w.data, [3.0, 3.0], atol=1e-3)
