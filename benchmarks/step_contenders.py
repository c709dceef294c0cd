"""What bench_step.py times: the settings, and one epoch of training six ways.

Each ``time_*`` function takes (X, y, config), builds what it needs untimed, and returns the
seconds of one epoch. The settings are :data:`CONFIGS`; the data, :func:`make_data`, are
synthetic rows of MNIST's shape: an epoch's time depends on the shapes, not on the values.
"""

from __future__ import annotations

import functools
import importlib.util
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import retroprop as rp
from retroprop import nn, optim
from retroprop._blas import gemm_tn

MNIST = (784, 300, 100, 10)
ITEM = np.dtype(np.float32).itemsize


@dataclass(frozen=True)
class Config:
    """One measured setting: layer widths (input first), optimiser, learning rate, batch size."""

    key: str
    sizes: tuple[int, ...]
    optimizer: str
    lr: float
    batch_size: int

    @property
    def label(self) -> str:
        return f"{'-'.join(map(str, self.sizes))} {self.optimizer} b{self.batch_size}"


CONFIGS = (
    Config("sgd32", MNIST, "sgd", 0.01, 32),
    Config("sgd128", MNIST, "sgd", 0.01, 128),
    Config("sgd1024", MNIST, "sgd", 0.01, 1024),
    Config("adam128", MNIST, "adam", 0.001, 128),
    Config("deep128", (784, *(256,) * 8, 10), "sgd", 0.01, 128),
    Config("wide128", (784, 4096, 10), "sgd", 0.01, 128),
)
BY_KEY = {config.key: config for config in CONFIGS}
ADAM_BETAS, ADAM_EPS = (0.9, 0.999), 1e-8
Runner = Callable[[np.ndarray, np.ndarray, Config], float]  # (X, y, config) -> epoch seconds


def make_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic MNIST-shaped data: X (n, 784) float32 uniform in [0, 1), y (n,) labels 0-9."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, MNIST[0]), dtype=np.float32)
    y = rng.integers(0, MNIST[-1], size=n)
    return X, y


def initial_weights(sizes: tuple[int, ...]) -> list[tuple[np.ndarray, np.ndarray]]:
    """He-normal weights (in, out) and zero biases, float32, shared by the contenders (copies)."""
    return [(W.copy(), b.copy()) for W, b in _initial_weights(sizes)]


@functools.cache
def _initial_weights(sizes: tuple[int, ...]) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    rng = np.random.default_rng(0)
    return tuple(
        (
            (rng.standard_normal((a, b), dtype=np.float32) * np.float32(np.sqrt(2.0 / a))),
            np.zeros(b, np.float32),
        )
        for a, b in zip(sizes[:-1], sizes[1:], strict=True)
    )


# --- the contenders: each times one epoch, its setup untimed ---


def floor_step(
    batch: np.ndarray,
    weights: list[np.ndarray],
    outputs: list[np.ndarray],
    deltas: list[np.ndarray],
    grads: list[np.ndarray],
    update: float | None = None,
) -> None:
    """The matrix products of one training step, into preallocated arrays.

    With a_0 = ``batch`` (m rows) and W_k of shape (n_k, n_k+1), for every layer k:
    z_k = a_k @ W_k into ``outputs[k][:m]`` (forward; the next layer's input a_k+1 = z_k, no
    activation), dW_k = a_k^T @ delta_k into ``grads[k]`` (weight gradient) and, for k > 0,
    delta_k-1 = delta_k @ W_k^T into ``deltas[k - 1][:m]`` (input gradient); the output
    layer's ``deltas[-1]`` is given.

    ``update``: the weights are written, as a training step writes them. The weight gradient
    is not stored but made an update inside its product, W_k <- W_k - update * a_k^T @ delta_k
    (one BLAS gemm with beta = 1, ``grads`` unused), after the input gradient that reads W_k.
    """
    m = batch.shape[0]
    inputs = [batch] + [z[:m] for z in outputs[:-1]]
    for a, W, z in zip(inputs, weights, outputs, strict=True):
        np.matmul(a, W, out=z[:m])
    for k in range(len(weights) - 1, -1, -1):
        if k:
            np.matmul(deltas[k][:m], weights[k].T, out=deltas[k - 1][:m])
        if update is None:
            np.matmul(inputs[k].T, deltas[k][:m], out=grads[k])
        elif not gemm_tn(-update, inputs[k], deltas[k][:m], 1.0, weights[k]):
            weights[k] -= update * (inputs[k].T @ deltas[k][:m])  # without a BLAS gemm


def time_floor(
    X: np.ndarray,
    y: np.ndarray,
    config: Config,
    forward_only: bool = False,
    written: bool = False,
) -> float:
    """:func:`floor_step` on every batch of X in order (no gather); the output layer's delta is
    fixed random values. ``forward_only``: the forward products alone (a profile's split).
    ``written``: the weights updated inside their gradient's product (``floor_step``'s
    ``update``), by a step of 1e-20: each weight is read, added a term far below its last bit
    and written back, so that the values stay those of the floor (no growth to inf through
    layers without activation) while every weight is written: the time depends on the bytes
    written, not on their values."""
    weights = [W for W, _ in initial_weights(config.sizes)]
    size = config.batch_size
    rng = np.random.default_rng(1)
    outputs = [np.empty((size, W.shape[1]), np.float32) for W in weights]
    deltas = [rng.standard_normal((size, W.shape[1]), dtype=np.float32) for W in weights]
    grads = [np.empty_like(W) for W in weights]
    update = 1e-20 if written else None
    start = time.perf_counter()
    for first in range(0, X.shape[0], size):
        if forward_only:
            a = X[first : first + size]
            for W, z in zip(weights, outputs, strict=True):
                a = np.matmul(a, W, out=z[: a.shape[0]])
            continue
        floor_step(X[first : first + size], weights, outputs, deltas, grads, update)
    return time.perf_counter() - start


def time_floor_written(X: np.ndarray, y: np.ndarray, config: Config) -> float:
    """:func:`time_floor` with the weights written every batch (``written=True``): the products
    of a step that updates its weights, and nothing else."""
    return time_floor(X, y, config, written=True)


def time_numpy(X: np.ndarray, y: np.ndarray, config: Config) -> float:
    """The course's vectorised loop (deck 03 SimpleMLP), written by hand in NumPy."""
    params = initial_weights(config.sizes)
    adam = [[np.zeros_like(p) for p in layer for _ in range(2)] for layer in params]
    lr, (beta1, beta2), step = config.lr, ADAM_BETAS, 0
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    order = rng.permutation(X.shape[0])
    Xs, ys = X[order], y[order]
    for s in range(0, X.shape[0], config.batch_size):
        a = Xs[s : s + config.batch_size]
        yb = ys[s : s + config.batch_size]
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
        step += 1
        for k in range(len(params) - 1, -1, -1):
            W, b = params[k]
            grad_W = activations[k].T @ delta
            grad_b = delta.sum(axis=0)
            if k:
                delta = (delta @ W.T) * (activations[k] > 0)
            if config.optimizer == "sgd":
                W -= lr * grad_W
                b -= lr * grad_b
                continue
            for p, g, m, v in ((W, grad_W, *adam[k][:2]), (b, grad_b, *adam[k][2:])):
                m[...] = beta1 * m + (1 - beta1) * g
                v[...] = beta2 * v + (1 - beta2) * g * g
                m_hat = m / (1 - beta1**step)
                v_hat = v / (1 - beta2**step)
                p -= lr * m_hat / (np.sqrt(v_hat) + ADAM_EPS)
    return time.perf_counter() - start


def layers(config: Config, linear: Callable, relu: Callable) -> list:
    """[linear(W_0, b_0), relu(), ..., linear(W_L, b_L)] from :func:`initial_weights`."""
    found = []
    for W, b in initial_weights(config.sizes):
        found += [linear(W, b), relu()]
    return found[:-1]  # no ReLU after the output layer


def _rp_linear(W: np.ndarray, b: np.ndarray) -> nn.Linear:
    linear = nn.Linear(*W.shape)
    linear.weight.data[...], linear.bias.data[...] = W, b
    return linear


def build_retroprop(config: Config) -> tuple[nn.Module, optim.Optimizer]:
    """nn.Sequential of Linear and ReLU with :func:`initial_weights`, and its optimiser."""
    model = nn.Sequential(*layers(config, _rp_linear, nn.ReLU))
    if config.optimizer == "sgd":
        return model, optim.SGD(model.parameters(), lr=config.lr)
    return model, optim.Adam(model.parameters(), lr=config.lr, betas=ADAM_BETAS, eps=ADAM_EPS)


def fit_epoch(model: nn.Module, optimizer: optim.Optimizer, X, y, config: Config) -> None:
    """One epoch of ``rp.fit`` with its defaults (shuffle=True), silent, seeded."""
    rp.fit(
        model,
        X,
        y,
        loss="cross_entropy",
        optimizer=optimizer,
        epochs=1,
        batch_size=config.batch_size,
        verbose=0,
        seed=0,
    )


def time_retroprop(X: np.ndarray, y: np.ndarray, config: Config) -> float:
    model, optimizer = build_retroprop(config)
    start = time.perf_counter()
    fit_epoch(model, optimizer, X, y, config)
    return time.perf_counter() - start


def time_torch(X: np.ndarray, y: np.ndarray, config: Config) -> float:
    """PyTorch CPU eager: the same network, initial weights and optimiser."""
    import torch

    model = torch.nn.Sequential(*layers(config, _torch_linear, torch.nn.ReLU))
    if config.optimizer == "sgd":
        optimizer = torch.optim.SGD(model.parameters(), lr=config.lr)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, betas=ADAM_BETAS)
    loss_fn = torch.nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    generator = torch.Generator().manual_seed(0)
    size = config.batch_size
    start = time.perf_counter()
    order = torch.randperm(X.shape[0], generator=generator)
    Xs, ys = Xt[order], yt[order]  # a shuffled copy of the data, as the numpy loop makes
    for s in range(0, X.shape[0], size):
        optimizer.zero_grad()
        loss = loss_fn(model(Xs[s : s + size]), ys[s : s + size])
        loss.backward()
        optimizer.step()
        loss.item()  # rp.fit reads every batch loss (history and divergence guard)
    return time.perf_counter() - start


def _torch_linear(W: np.ndarray, b: np.ndarray):
    import torch

    linear = torch.nn.utils.skip_init(torch.nn.Linear, *W.shape)  # its weights are (out, in)
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(W.T.copy()))
        linear.bias.copy_(torch.from_numpy(b))
    return linear


def time_sklearn(X: np.ndarray, y: np.ndarray, config: Config) -> float:
    """scikit-learn's MLPClassifier, one epoch (max_iter=1) at the same settings."""
    from sklearn.neural_network import MLPClassifier

    settings = {"momentum": 0.0, "nesterovs_momentum": False} if config.optimizer == "sgd" else {}
    estimator = MLPClassifier(
        hidden_layer_sizes=config.sizes[1:-1],
        activation="relu",
        solver=config.optimizer,
        alpha=0.0,
        batch_size=config.batch_size,
        learning_rate_init=config.lr,
        max_iter=1,
        shuffle=True,
        random_state=0,
        tol=0.0,
        early_stopping=False,
        **settings,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning, a batch larger than the data
        start = time.perf_counter()
        estimator.fit(X, y)
        return time.perf_counter() - start


def contenders() -> dict[str, Runner]:
    """The contenders this machine can run, in table order (torch only when importable)."""
    found: dict[str, Runner] = {"floor": time_floor, "floor, W written": time_floor_written}
    found["numpy loop"] = time_numpy
    found["rp.fit"] = time_retroprop
    if importlib.util.find_spec("torch") is not None:
        found["torch"] = time_torch
    return {**found, "sklearn": time_sklearn}
