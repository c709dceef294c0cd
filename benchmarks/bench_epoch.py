"""One epoch of 784-300-100-10 (ReLU, softmax cross-entropy, SGD, float32) on 60,000 synthetic
MNIST-shaped samples, timed side by side: ``rp.fit``, PyTorch CPU eager (when installed), and a
plain NumPy loop of the same algorithm. Prints each time as a ratio to PyTorch (or to NumPy).

Run: ``make bench`` or ``python benchmarks/bench_epoch.py [--batch-sizes 32,128,1024]``.
BLAS threads are whatever the machine gives every library (2 cores here).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import retroprop as rp
from retroprop import nn, optim

SIZES = (784, 300, 100, 10)
LEARNING_RATE = 0.01


def make_data(n: int = 60_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic MNIST-shaped data: pixels in [0, 1), labels 0-9, float32."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], size=n)
    return X, y


def initial_weights(seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """He-normal weights (in, out) and zero biases, shared by every contender."""
    rng = np.random.default_rng(seed)
    return [
        (
            (rng.standard_normal((a, b)) * np.sqrt(2.0 / a)).astype(np.float32),
            np.zeros(b, np.float32),
        )
        for a, b in zip(SIZES[:-1], SIZES[1:], strict=True)
    ]


def time_retroprop(X: np.ndarray, y: np.ndarray, batch_size: int) -> float:
    layers: list[nn.Module] = []
    for k, (W, b) in enumerate(initial_weights()):
        linear = nn.Linear(*W.shape)
        linear.weight.data[...] = W
        linear.bias.data[...] = b
        layers.append(linear)
        if k < len(SIZES) - 2:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    optimizer = optim.SGD(model.parameters(), lr=LEARNING_RATE)
    start = time.perf_counter()
    rp.fit(
        model,
        X,
        y,
        loss="cross_entropy",
        optimizer=optimizer,
        epochs=1,
        batch_size=batch_size,
        shuffle=True,
        verbose=0,
        seed=0,
    )
    return time.perf_counter() - start


def time_numpy(X: np.ndarray, y: np.ndarray, batch_size: int) -> float:
    """The course's vectorised loop (deck 03 SimpleMLP), written by hand in NumPy."""
    params = [(W.copy(), b.copy()) for W, b in initial_weights()]
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    order = rng.permutation(X.shape[0])
    Xs, ys = X[order], y[order]
    for s in range(0, X.shape[0], batch_size):
        a = Xs[s : s + batch_size]
        yb = ys[s : s + batch_size]
        activations = [a]
        for k, (W, b) in enumerate(params):
            z = a @ W + b
            a = np.maximum(z, 0) if k < len(params) - 1 else z
            activations.append(a)
        z = activations[-1]
        e = np.exp(z - z.max(axis=1, keepdims=True))
        delta = e / e.sum(axis=1, keepdims=True)
        delta[np.arange(len(yb)), yb] -= 1
        delta /= len(yb)
        for k in range(len(params) - 1, -1, -1):
            W, b = params[k]
            grad_W = activations[k].T @ delta
            grad_b = delta.sum(axis=0)
            if k:
                delta = (delta @ W.T) * (activations[k] > 0)
            W -= LEARNING_RATE * grad_W
            b -= LEARNING_RATE * grad_b
    return time.perf_counter() - start


def time_torch(X: np.ndarray, y: np.ndarray, batch_size: int) -> float | None:
    try:
        import torch
    except ImportError:
        return None
    layers: list = []
    for k, (W, b) in enumerate(initial_weights()):
        linear = torch.nn.Linear(*W.shape)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W.T.copy()))
            linear.bias.copy_(torch.from_numpy(b))
        layers.append(linear)
        if k < len(SIZES) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    loss_fn = torch.nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    generator = torch.Generator().manual_seed(0)
    start = time.perf_counter()
    order = torch.randperm(X.shape[0], generator=generator)
    Xs, ys = Xt[order], yt[order]
    for s in range(0, X.shape[0], batch_size):
        optimizer.zero_grad()
        loss = loss_fn(model(Xs[s : s + batch_size]), ys[s : s + batch_size])
        loss.backward()
        optimizer.step()
        loss.item()  # rp.fit reads every batch loss (history and divergence guard)
    return time.perf_counter() - start


def best_of(function, *args, repeats: int = 3) -> float | None:
    times = [function(*args) for _ in range(repeats)]
    return None if times[0] is None else min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-sizes", default="32,128,1024")
    parser.add_argument("--samples", type=int, default=60_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    X, y = make_data(args.samples)
    print(
        f"one epoch, {args.samples} samples, 784-300-100-10 ReLU, softmax CE, SGD, float32; "
        f"best of {args.repeats}"
    )
    print(f"{'batch':>6} | {'rp.fit / torch':>14} | {'numpy / torch':>13} | {'rp.fit / numpy':>14}")
    for batch_size in (int(b) for b in args.batch_sizes.split(",")):
        t_rp = best_of(time_retroprop, X, y, batch_size, repeats=args.repeats)
        t_np = best_of(time_numpy, X, y, batch_size, repeats=args.repeats)
        t_torch = best_of(time_torch, X, y, batch_size, repeats=args.repeats)
        vs_rp = f"{t_rp / t_torch:.2f}x" if t_torch else "n/a"
        vs_np = f"{t_np / t_torch:.2f}x" if t_torch else "n/a"
        print(f"{batch_size:>6} | {vs_rp:>14} | {vs_np:>13} | {t_rp / t_np:>13.2f}x")


if __name__ == "__main__":
    main()
