"""The course's 4-parameter worked example (deck 03): its gradients are the course's backprop.

The notebook examples/worked_example.ipynb trains it; tests/test_notebooks.py checks the numbers
the course prints (before y_hat = 0.51, J = 0.68; after 500 steps y_hat = 0.99, J = 0.01).
"""

from __future__ import annotations

import numpy as np

import retroprop as rp
import retroprop.nn.functional as F


def forward(x, w1, b1, w2, b2):
    """z1 = w1 x + b1, a1 = sigma(z1), z2 = w2 a1 + b2, y_hat = sigma(z2)."""
    a1 = F.sigmoid(w1 * x + b1)
    return F.sigmoid(w2 * a1 + b2)


def test_first_step_gradients_are_the_course_backprop():
    """dJ/dz2 = y_hat - y;  dJ/dw2 = (y_hat - y) a1;  dJ/dz1 = (y_hat - y) w2 a1 (1 - a1)."""
    x, y = 3.14, 1.0
    w1_0, w2_0 = 0.6394267984578837, 0.025010755222666936
    w1, b1, w2, b2 = (rp.tensor(np.array(v), requires_grad=True) for v in (w1_0, 0.0, w2_0, 0.0))
    y_hat = forward(np.float64(x), w1, b1, w2, b2)
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


def test_example_network_passes_gradcheck():
    def loss(w1, b1, w2, b2):
        return F.binary_cross_entropy(forward(np.float64(3.14), w1, b1, w2, b2), 1.0)

    parameters = [np.array(0.6394267984578837), np.array(0.0), np.array(0.025), np.array(0.0)]
    assert rp.gradcheck(loss, parameters)


def test_trained_parameters_are_float64():
    """The example runs in float64 end to end: the exact numbers above depend on it."""
    x = np.float64(3.14)
    w = [rp.tensor(np.array(0.1), requires_grad=True) for _ in range(4)]
    y_hat = forward(x, *w)
    assert y_hat.dtype == np.float64
    F.binary_cross_entropy(y_hat, np.array(1.0)).backward()
    assert all(p.grad.dtype == np.float64 for p in w)
