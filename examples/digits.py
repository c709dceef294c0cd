"""Softmax and cross-entropy on scikit-learn's digits (8x8 images, 10 classes).

Run: python examples/digits.py
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import retroprop as rp
from retroprop import nn, optim


def main(verbose: int = 0, seed: int = 0, epochs: int = 30) -> dict[str, float]:
    """Train 64-64-10 (ReLU, softmax output through the fused cross-entropy)."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=seed, stratify=y
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    rp.manual_seed(seed)
    # The model outputs logits; cross_entropy applies the softmax (dJ/dz = softmax(z) - y).
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    history = rp.fit(
        model,
        X_train,
        y_train,
        loss="cross_entropy",
        optimizer=optim.Adam(model.parameters(), lr=1e-3),
        epochs=epochs,
        batch_size=32,
        validation_split=0.1,
        metrics=["accuracy"],
        verbose=verbose,
        seed=seed,
    )
    with rp.no_grad():
        logits = model(rp.tensor(X_test.astype(np.float32))).numpy()
    return {
        "test_accuracy": float(np.mean(logits.argmax(axis=1) == y_test)),
        "history": history,
    }


if __name__ == "__main__":
    result = main(verbose=1)
    print(f"test accuracy {result['test_accuracy']:.3f}")
