"""The course's [2, 4, 4, 1] network on make_circles (deck 03, "Test").

ReLU hidden layers with He initialisation, a sigmoid output with binary cross-entropy, learning
rate 0.3, standardised features, a 70/30 split. The course reports 0.95 train / 0.92 test.
Run: python examples/circles.py
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import make_circles
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import retroprop as rp
from retroprop import nn, optim


def load_data(seed: int = 42):
    """make_circles(200, factor=0.5, noise=0.08, random_state=1), split 70/30, standardised."""
    X, y = make_circles(n_samples=200, factor=0.5, noise=0.08, random_state=1)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=seed, stratify=y
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def main(verbose: int = 0, seed: int = 42, epochs: int = 300) -> dict[str, float]:
    """Train the course's network; return train and test accuracy."""
    X_train, X_test, y_train, y_test = load_data(seed)
    rp.manual_seed(seed)
    # Linear layers followed by ReLU get He initialisation by default, the last one Glorot.
    model = nn.Sequential(
        nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 1), nn.Sigmoid()
    )
    rp.fit(
        model,
        X_train,
        y_train,
        loss="binary_cross_entropy",
        optimizer=optim.SGD(model.parameters(), lr=0.3),
        epochs=epochs,
        batch_size=16,
        metrics=["accuracy"],
        verbose=verbose,
        seed=seed,
    )
    with rp.no_grad():
        train_pred = model(rp.tensor(X_train.astype(np.float32))).numpy().ravel() > 0.5
        test_pred = model(rp.tensor(X_test.astype(np.float32))).numpy().ravel() > 0.5
    return {
        "train_accuracy": float(np.mean(train_pred == y_train)),
        "test_accuracy": float(np.mean(test_pred == y_test)),
        "model": model,
    }


if __name__ == "__main__":
    result = main(verbose=1)
    train, test = result["train_accuracy"], result["test_accuracy"]
    print(f"train accuracy {train:.3f}, test accuracy {test:.3f}")
