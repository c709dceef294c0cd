"""The course's 4-parameter worked example, written with retroprop's public API.

One input x = 3.14, target y = 1; a hidden sigmoid unit (w1, b1) and a sigmoid output
(w2, b2); binary cross-entropy; 500 steps of gradient descent with learning rate 0.1
(deck 03, "Exploration"). The course prints: before y_hat = 0.51, loss = 0.68;
after y_hat = 0.99, loss = 0.01.

Run: python examples/worked_example.py
"""

from __future__ import annotations

import numpy as np

import retroprop as rp
import retroprop.nn.functional as F


def forward(x, w1, b1, w2, b2):
    """z1 = w1 x + b1, a1 = sigma(z1), z2 = w2 a1 + b2, y_hat = sigma(z2)."""
    a1 = F.sigmoid(w1 * x + b1)
    return F.sigmoid(w2 * a1 + b2)


def train(steps: int = 500, learning_rate: float = 0.1) -> dict[str, float]:
    """Run the example; return y_hat and the loss before and after training."""
    x, y = np.float64(3.14), np.array(1.0)
    w1 = rp.tensor(np.array(0.6394267984578837), requires_grad=True)
    w2 = rp.tensor(np.array(0.025010755222666936), requires_grad=True)
    b1 = rp.tensor(np.array(0.0), requires_grad=True)
    b2 = rp.tensor(np.array(0.0), requires_grad=True)
    parameters = [w1, b1, w2, b2]

    with rp.no_grad():
        y_hat = forward(x, w1, b1, w2, b2)
        before = (y_hat.item(), F.binary_cross_entropy(y_hat, y).item())

    for _ in range(steps):
        y_hat = forward(x, w1, b1, w2, b2)
        loss = F.binary_cross_entropy(y_hat, y)  # J = -(y log y_hat + (1 - y) log(1 - y_hat))
        loss.backward()  # dJ/dw2 = (y_hat - y) a1, dJ/dw1 = (y_hat - y) w2 a1 (1 - a1) x, ...
        with rp.no_grad():
            for p in parameters:
                p.data -= learning_rate * p.grad  # w <- w - alpha dJ/dw
                p.grad = None

    with rp.no_grad():
        y_hat = forward(x, w1, b1, w2, b2)
        after = (y_hat.item(), F.binary_cross_entropy(y_hat, y).item())
    return {
        "y_hat_before": before[0],
        "loss_before": before[1],
        "y_hat_after": after[0],
        "loss_after": after[1],
    }


if __name__ == "__main__":
    result = train()
    print(f"Before: y_hat = {result['y_hat_before']:.4f}, loss = {result['loss_before']:.4f}")
    print(f"After:  y_hat = {result['y_hat_after']:.6f}, loss = {result['loss_after']:.6f}")
