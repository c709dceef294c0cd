"""Regression: an identity output with MSE fits y = sin(2x) + x/2 on [-3, 3].

Run: python examples/regression.py
"""

from __future__ import annotations

import numpy as np

import retroprop as rp
from retroprop import nn, optim


def target_function(x: np.ndarray) -> np.ndarray:
    """The smooth 1-D function to learn."""
    return np.sin(2 * x) + 0.5 * x


def main(verbose: int = 0, seed: int = 0, epochs: int = 300) -> dict[str, float]:
    """Fit 1-32-32-1 (tanh) and return the R^2 on a held-out grid."""
    rng = np.random.default_rng(seed)
    x_train = rng.uniform(-3, 3, size=(512, 1))
    y_train = target_function(x_train) + rng.normal(0, 0.05, size=x_train.shape)
    x_test = np.linspace(-3, 3, 200).reshape(-1, 1)
    y_test = target_function(x_test)
    rp.manual_seed(seed)
    model = nn.Sequential(
        nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1)
    )
    rp.fit(
        model,
        x_train,
        y_train,
        loss="mse",
        optimizer=optim.Adam(model.parameters(), lr=1e-2),
        epochs=epochs,
        batch_size=64,
        verbose=verbose,
        seed=seed,
    )
    with rp.no_grad():
        prediction = model(rp.tensor(x_test.astype(np.float32))).numpy()
    residual = np.sum((prediction - y_test) ** 2)
    total = np.sum((y_test - y_test.mean()) ** 2)
    return {"r2": float(1 - residual / total)}


if __name__ == "__main__":
    print(f"R^2 on a held-out grid: {main(verbose=0)['r2']:.4f}")
