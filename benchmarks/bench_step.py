"""A training epoch against the machine's limit: its matrix products alone.

The physical limit of a training step of an MLP on CPU is the time of its matrix products: the
forward product and the weight gradient of every layer, and the input gradient of every layer
but the first. This script times one epoch of each configuration below five ways, side by side:

- ``floor``: those products alone, with the same shapes, into preallocated arrays
  (``np.matmul(..., out=)``): no bias, no activation, no loss, no update, no shuffle;
- ``numpy loop``: the plain NumPy loop a student writes (forward, softmax cross-entropy,
  backward, update; a shuffled copy of the data per epoch);
- ``rp.fit``: the library's face with its defaults (``shuffle=True``), ``verbose=0``, ``seed=0``;
- ``torch``: PyTorch CPU eager, when importable (``torch.set_num_threads`` as for the BLAS);
- ``sklearn``: scikit-learn's ``MLPClassifier`` (same layers, ``alpha=0``, ``max_iter=1``, no
  early stopping, ``tol=0``, warnings silenced; its own initialisation).

Configurations (``CONFIGS``): 784-300-100-10 ReLU, softmax cross-entropy, float32, SGD lr 0.01
without momentum at batch 32, 128 and 1024, Adam (lr 0.001) at batch 128, a deeper network
(8 hidden layers of 256) and a wider one (one hidden layer of 4096) with SGD at batch 128. The
data are 60,000 synthetic rows of MNIST's shape (pixels uniform in [0, 1), labels 0-9): an
epoch's time does not depend on the values, only on the shapes.

Timing: interleaved rounds (each round runs every contender once, in an order rotated by one
each round), so a slow moment of a shared machine falls on all of them; the minimum and the
median over rounds are reported, the ratios are of minima. BLAS threads are limited to the same
number for every contender (threadpoolctl; torch's own pool by ``torch.set_num_threads``).

Memory: the peak that ``tracemalloc`` sees (NumPy reports its buffers to it) during one epoch of
``rp.fit``, in a fresh subprocess per configuration, above the training data (X and y are made
before tracing starts), against the arrays a step must hold, summed from the shapes
(:func:`required_bytes`).

Run: ``make bench``, or ``python benchmarks/bench_step.py [--rounds 7] [--configs sgd128,adam128]
[--json FILE] [--quick]``. ``--profile --configs sgd128`` prints where an ``rp.fit`` epoch at batch
128 spends its time (cProfile, sorted by tottime) instead of the table.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import platform
import pstats
import statistics
import subprocess
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

import retroprop as rp
from retroprop import nn, optim

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


def make_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic MNIST-shaped data: X (n, 784) float32 uniform in [0, 1), y (n,) labels 0-9."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, MNIST[0]), dtype=np.float32)
    y = rng.integers(0, MNIST[-1], size=n)
    return X, y


def initial_weights(sizes: tuple[int, ...], seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """He-normal weights (in, out) and zero biases, float32, shared by the contenders."""
    rng = np.random.default_rng(seed)
    return [
        (
            (rng.standard_normal((a, b)) * np.sqrt(2.0 / a)).astype(np.float32),
            np.zeros(b, np.float32),
        )
        for a, b in zip(sizes[:-1], sizes[1:], strict=True)
    ]


# --- the contenders: each times one epoch and returns its seconds (setup untimed) ---


def floor_step(
    batch: np.ndarray,
    weights: list[np.ndarray],
    outputs: list[np.ndarray],
    deltas: list[np.ndarray],
    grads: list[np.ndarray],
) -> None:
    """The matrix products of one training step, into preallocated arrays.

    With a_0 = ``batch`` (m rows) and W_k of shape (n_k, n_k+1), for every layer k:
    z_k = a_k @ W_k into ``outputs[k][:m]`` (forward; the next layer's input a_k+1 = z_k, no
    activation), dW_k = a_k^T @ delta_k into ``grads[k]`` (weight gradient) and, for k > 0,
    delta_k-1 = delta_k @ W_k^T into ``deltas[k - 1][:m]`` (input gradient); the output
    layer's ``deltas[-1]`` is given.
    """
    m = batch.shape[0]
    inputs = [batch] + [z[:m] for z in outputs[:-1]]
    for a, W, z in zip(inputs, weights, outputs, strict=True):
        np.matmul(a, W, out=z[:m])
    for k in range(len(weights) - 1, -1, -1):
        np.matmul(inputs[k].T, deltas[k][:m], out=grads[k])
        if k:
            np.matmul(deltas[k][:m], weights[k].T, out=deltas[k - 1][:m])


def time_floor(X: np.ndarray, y: np.ndarray, config: Config) -> float:
    """:func:`floor_step` on every batch of X in order (no gather); the output layer's delta is
    fixed random values."""
    weights = [W for W, _ in initial_weights(config.sizes)]
    size = config.batch_size
    rng = np.random.default_rng(1)
    outputs = [np.empty((size, W.shape[1]), np.float32) for W in weights]
    deltas = [rng.standard_normal((size, W.shape[1]), dtype=np.float32) for W in weights]
    grads = [np.empty_like(W) for W in weights]
    start = time.perf_counter()
    for first in range(0, X.shape[0], size):
        floor_step(X[first : first + size], weights, outputs, deltas, grads)
    return time.perf_counter() - start


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
            m_W, v_W, m_b, v_b = adam[k]
            for p, g, m, v in ((W, grad_W, m_W, v_W), (b, grad_b, m_b, v_b)):
                m[...] = beta1 * m + (1 - beta1) * g
                v[...] = beta2 * v + (1 - beta2) * g * g
                m_hat = m / (1 - beta1**step)
                v_hat = v / (1 - beta2**step)
                p -= lr * m_hat / (np.sqrt(v_hat) + ADAM_EPS)
    return time.perf_counter() - start


def build_retroprop(config: Config) -> tuple[nn.Module, optim.Optimizer]:
    """nn.Sequential of Linear and ReLU with :func:`initial_weights`, and its optimiser."""
    layers: list[nn.Module] = []
    weights = initial_weights(config.sizes)
    for k, (W, b) in enumerate(weights):
        linear = nn.Linear(*W.shape)
        linear.weight.data[...] = W
        linear.bias.data[...] = b
        layers.append(linear)
        if k < len(weights) - 1:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
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

    layers: list = []
    weights = initial_weights(config.sizes)
    for k, (W, b) in enumerate(weights):
        linear = torch.nn.Linear(*W.shape)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W.T.copy()))
            linear.bias.copy_(torch.from_numpy(b))
        layers.append(linear)
        if k < len(weights) - 1:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
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
    Xs, ys = Xt[order], yt[order]
    for s in range(0, X.shape[0], size):
        optimizer.zero_grad()
        loss = loss_fn(model(Xs[s : s + size]), ys[s : s + size])
        loss.backward()
        optimizer.step()
        loss.item()  # rp.fit reads every batch loss (history and divergence guard)
    return time.perf_counter() - start


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


def contenders() -> dict[str, Callable[[np.ndarray, np.ndarray, Config], float]]:
    """The contenders this machine can run, in table order (torch only when importable)."""
    found: dict[str, Callable[[np.ndarray, np.ndarray, Config], float]] = {
        "floor": time_floor,
        "numpy loop": time_numpy,
        "rp.fit": time_retroprop,
    }
    try:
        import torch  # noqa: F401
    except ImportError:
        pass
    else:
        found["torch"] = time_torch
    found["sklearn"] = time_sklearn
    return found


# --- interleaved rounds ---


def measure(
    X: np.ndarray,
    y: np.ndarray,
    config: Config,
    runners: dict[str, Callable[[np.ndarray, np.ndarray, Config], float]],
    rounds: int,
) -> dict[str, list[float]]:
    """Seconds of every contender in every round; round r starts at the r-th contender."""
    names = list(runners)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    gc.collect()
    for round_index in range(rounds):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            seconds[name].append(runners[name](X, y, config))
    return seconds


def summarise(seconds: dict[str, list[float]]) -> dict[str, object]:
    """Minimum and median per contender, and rp.fit's ratios (of minima) to the others."""
    times = {
        name: {"min": min(values), "median": statistics.median(values), "all": values}
        for name, values in seconds.items()
    }
    fit = times["rp.fit"]["min"]
    ratios = {
        f"rp/{short}": fit / times[name]["min"]
        for short, name in (("floor", "floor"), ("torch", "torch"), ("numpy", "numpy loop"))
        if name in times
    }
    return {"seconds": times, "ratios": ratios}


# --- peak memory of an rp.fit epoch ---


def required_bytes(config: Config, rows: int | None = None) -> dict[str, int]:
    """Bytes of the float32 arrays one training step must hold, from the shapes alone.

    With P the number of parameters (weights and biases) and m the batch size (at most
    ``rows``, the rows of data, when given): the weights (P),
    their gradients (P), the optimiser's state (0 for SGD without momentum, 2P for Adam's two
    moments), the batch's activations (the input batch, every Linear's output and every ReLU's
    output: m * (n_0 + sum of the layer widths + sum of the hidden widths)) and their gradients
    (every output but the input: m * (sum of the layer widths + sum of the hidden widths)).

    >>> required_bytes(Config("tiny", (2, 3, 1), "sgd", 0.1, 4))["total"]
    360
    """
    sizes, m = config.sizes, min(config.batch_size, rows or config.batch_size)
    params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    outputs = sum(sizes[1:]) + sum(sizes[1:-1])
    parts = {
        "weights": params,
        "gradients": params,
        "optimizer_state": 2 * params if config.optimizer == "adam" else 0,
        "activations": m * (sizes[0] + outputs),
        "activation_gradients": m * outputs,
    }
    parts = {name: count * ITEM for name, count in parts.items()}
    return {**parts, "total": sum(parts.values())}


def memory_probe(config: Config, rows: int) -> dict[str, int]:
    """Peak bytes tracemalloc sees while building the model and fitting one epoch (this process).

    X and y are made before tracing starts: the peak is above the training data.
    """
    X, y = make_data(rows)
    gc.collect()
    tracemalloc.start()
    model, optimizer = build_retroprop(config)
    fit_epoch(model, optimizer, X, y, config)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"peak": peak}


def measure_memory(config: Config, rows: int) -> dict[str, object]:
    """:func:`memory_probe` in a fresh subprocess, against :func:`required_bytes`."""
    command = [sys.executable, __file__, "--memory-probe", config.key, "--rows", str(rows)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    peak = json.loads(done.stdout.strip().splitlines()[-1])["peak"]
    required = required_bytes(config, rows)
    return {"peak": peak, "required": required, "ratio": peak / required["total"]}


# --- the machine, the table, the profile ---


def machine(threads: int) -> dict[str, object]:
    """Date, load, versions, and the BLAS and OpenMP pools threadpoolctl sees (with threads)."""
    from threadpoolctl import threadpool_info

    info: dict[str, object] = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "load_average": [round(load, 2) for load in os.getloadavg()],
        "cpus": os.cpu_count(),
        "threads": threads,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "retroprop": rp.__version__,
        "pools": [
            f"{pool['internal_api']} {pool.get('version') or ''} ({pool['user_api']}, "
            f"{pool['num_threads']} threads)"
            for pool in threadpool_info()
        ],
    }
    import sklearn

    info["sklearn"] = sklearn.__version__
    try:
        import torch
    except ImportError:
        info["torch"] = None
    else:
        info["torch"] = f"{torch.__version__} ({torch.get_num_threads()} threads)"
    return info


def table(results: list[dict], rounds: int) -> str:
    """The Markdown table: minimum (median) seconds per contender, rp.fit's ratios of minima."""
    names = list(results[0]["seconds"])
    ratios = ["rp/floor", "rp/torch", "rp/numpy"]
    lines = [
        f"One epoch, seconds: minimum (median) of {rounds} interleaved rounds",
        "",
        "| configuration | " + " | ".join(names + ratios) + " |",
        "| --- |" + " ---: |" * (len(names) + len(ratios)),
    ]
    for row in results:
        cells = [
            f"{row['seconds'][name]['min']:.3f} ({row['seconds'][name]['median']:.3f})"
            for name in names
        ]
        cells += [f"{row['ratios'][r]:.2f}" if r in row["ratios"] else "n/a" for r in ratios]
        lines.append(f"| {row['label']} | " + " | ".join(cells) + " |")
    if all("memory" in row for row in results):
        lines += ["", "Peak memory of an rp.fit epoch above the data (tracemalloc), MB", ""]
        lines += ["| configuration | required | measured | measured / required |"]
        lines += ["| --- | ---: | ---: | ---: |"]
        for row in results:
            memory = row["memory"]
            lines.append(
                f"| {row['label']} | {memory['required']['total'] / 2**20:.2f} "
                f"| {memory['peak'] / 2**20:.2f} | {memory['ratio']:.2f} |"
            )
    return "\n".join(lines)


def profile(X: np.ndarray, y: np.ndarray, config: Config, top: int = 30) -> None:
    """cProfile of one rp.fit epoch, sorted by tottime, beside the floor's time."""
    floor = min(time_floor(X, y, config) for _ in range(3))
    model, optimizer = build_retroprop(config)
    profiler = cProfile.Profile()
    profiler.enable()
    fit_epoch(model, optimizer, X, y, config)
    profiler.disable()
    print(f"rp.fit, one epoch of {config.label}; the floor (products alone): {floor:.3f} s")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(top)


# --- the command ---


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    parser.add_argument("--rows", type=int, default=60_000, help="rows of data (default 60,000)")
    parser.add_argument("--configs", default=",".join(BY_KEY), help="comma-separated keys")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--quick", action="store_true", help="256 rows, 2 rounds (a test)")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory probes")
    parser.add_argument(
        "--profile", action="store_true", help="profile rp.fit on each of --configs, no table"
    )
    parser.add_argument("--memory-probe", metavar="KEY", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.rounds = 256, 2
    unknown = set(args.configs.split(",")) - set(BY_KEY)
    if unknown:
        parser.error(f"--configs: unknown {sorted(unknown)}; known: {', '.join(BY_KEY)}")
    return args


def main(argv: list[str] | None = None) -> dict[str, object] | None:
    args = parse(argv)
    configs = [BY_KEY[key] for key in args.configs.split(",")]
    if args.memory_probe:
        print(json.dumps(memory_probe(BY_KEY[args.memory_probe], args.rows)))
        return None
    from threadpoolctl import threadpool_limits

    X, y = make_data(args.rows)
    runners = contenders()
    if "torch" in runners:
        import torch

        torch.set_num_threads(args.threads)
    import sklearn.neural_network  # noqa: F401  (its pools load before the limit is set)

    with threadpool_limits(limits=args.threads):
        if args.profile:
            for config in configs:
                profile(X, y, config)
            return None
        report: dict[str, object] = {"machine": machine(args.threads), "rows": args.rows}
        print(json.dumps(report["machine"], indent=1), flush=True)
        results = []
        for config in configs:
            row = {"key": config.key, "label": config.label, "config": asdict(config)}
            row.update(summarise(measure(X, y, config, runners, args.rounds)))
            if not args.no_memory:
                row["memory"] = measure_memory(config, args.rows)
            results.append(row)
            print(f"{config.label}: done", file=sys.stderr, flush=True)
        report.update(rounds=args.rounds, results=results, load_after=os.getloadavg())
    print(table(results, args.rounds))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(report, file, indent=1)
    return report


if __name__ == "__main__":
    main()
