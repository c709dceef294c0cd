"""XOR learned by sigmoid units with per-example updates (the course's BACK-PROP-LEARNING).

AIMA's algorithm (deck 01) updates the weights after every example: ``batch_size=1``.
Run: python examples/xor.py
"""

from __future__ import annotations

import numpy as np

import retroprop as rp
from retroprop import nn, optim
from retroprop.callbacks import StopAtLoss

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
y = np.array([0, 1, 1, 0], dtype=np.float32)


def main(verbose: int = 0, seed: int = 0) -> dict[str, float]:
    """Train a 2-4-1 sigmoid network on XOR; return its final loss and predictions."""
    rp.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1), nn.Sigmoid())
    history = rp.fit(
        model,
        X,
        y,
        loss="binary_cross_entropy",
        optimizer=optim.SGD(model.parameters(), lr=0.5),
        epochs=5000,
        batch_size=1,  # stochastic: one example per update
        callbacks=[StopAtLoss(0.02)],
        verbose=verbose,
        seed=seed,
    )
    with rp.no_grad():
        probabilities = model(rp.tensor(X)).numpy().ravel()
    return {
        "loss": history["loss"][-1],
        "epochs": len(history),
        "probabilities": probabilities,
        "accuracy": float(np.mean((probabilities > 0.5) == y)),
    }


if __name__ == "__main__":
    result = main(verbose=0)
    print(f"XOR after {result['epochs']} epochs: loss {result['loss']:.4f}")
    for row, p in zip(X, result["probabilities"], strict=True):
        print(f"  {row.astype(int).tolist()} -> {p:.3f}")
