"""A training epoch against the machine's limit: its matrix products alone.

The physical limit of a training step of an MLP on CPU is the time of its matrix products: the
forward product and the weight gradient of every layer, and the input gradient of every layer
but the first. This script times one epoch of each configuration below six ways, side by side
(the contenders and the configurations are in ``step_contenders.py``):

- ``floor``: those products alone, with the same shapes, into preallocated arrays
  (``np.matmul(..., out=)``): no bias, no activation, no loss, no update, no shuffle;
- ``floor, W written``: the same products, with the weights written every batch as a step
  writes them (the weight gradient made an update inside its product, BLAS gemm with
  beta = 1): the limit of a step that updates its weights; on 2 BLAS threads at small batches
  it is above the floor, the next forward reading lines the other core wrote;
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
number for every contender (threadpoolctl; torch's own pool by ``torch.set_num_threads``),
by default the cores this process may use. On a busy machine, BLAS threads that wait for each
other by spinning make every product many times slower (an epoch's floor went from 0.4 s to
28 s at a load average of 10 on 2 cores): measure in a quiet moment, or with ``--threads 1``.

Memory: the peak that ``tracemalloc`` sees (NumPy reports its buffers to it) during one epoch of
``rp.fit``, plus the model's parameters made before it, in a fresh subprocess per configuration,
above the training data (X and y are made before tracing starts), against the arrays a step must
hold, summed from the shapes (:func:`required_bytes`).

Run: ``make bench``, or ``python benchmarks/bench_step.py [--rounds 7] [--configs sgd128,adam128]
[--json FILE] [--quick]``. ``--profile --configs sgd128`` prints where an ``rp.fit`` epoch at batch
128 spends its time (cProfile, sorted by tottime) instead of the table.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import math
import os
import platform
import pstats
import statistics
import subprocess
import sys
import time
import tracemalloc
from dataclasses import asdict

import numpy as np
from step_contenders import (
    BY_KEY,
    ITEM,
    Config,
    Runner,
    build_retroprop,
    contenders,
    fit_epoch,
    make_data,
    time_floor,
    time_retroprop,
)

import retroprop as rp

# --- interleaved rounds ---


def measure(X: np.ndarray, y: np.ndarray, config: Config, runners: dict[str, Runner], rounds: int):
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
    """Minimum and median per contender, rp.fit's ratios (of minima) to the others, and the
    floor with its weights written to the floor ("written/floor")."""
    times = {
        name: {"min": min(values), "median": statistics.median(values), "all": values}
        for name, values in seconds.items()
    }
    fit = times["rp.fit"]["min"]
    ratios = {f"rp/{short}": fit / times[name]["min"] for short, name in RATIOS if name in times}
    if "floor" in times and "floor, W written" in times:
        ratios["written/floor"] = times["floor, W written"]["min"] / times["floor"]["min"]
    return {"seconds": times, "ratios": ratios}


# rp.fit's ratios: (short name, contender), in table order.
RATIOS = (
    ("floor", "floor"),
    ("floor W", "floor, W written"),
    ("torch", "torch"),
    ("numpy", "numpy loop"),
)


# --- peak memory of an rp.fit epoch ---


def required_bytes(config: Config, rows: int | None = None) -> dict[str, int]:
    """Bytes of the float32 arrays one training step must hold, from the shapes alone.

    With P the number of parameters (weights and biases) and m the batch size (at most
    ``rows``, the rows of data, when given): the weights (P), their gradients (P), the
    optimiser's state (0 for SGD without momentum, 2P for Adam's two moments), the batch's
    activations (the input batch, every Linear's output and every ReLU's output:
    m * (n_0 + sum of the layer widths + sum of the hidden widths)) and their gradients (every
    output but the input's: m * (sum of the layer widths + sum of the hidden widths)).

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
    """Peak bytes of one ``rp.fit`` epoch in this process: the model's parameters (made before
    tracing, so that an initialiser's temporaries are not counted) plus the peak tracemalloc
    sees during the fit. X and y too are made before tracing: the peak is above the data.
    """
    X, y = make_data(rows)
    model, optimizer = build_retroprop(config)
    parameters = sum(parameter.data.nbytes for parameter in model.parameters())
    gc.collect()
    tracemalloc.start()
    fit_epoch(model, optimizer, X, y, config)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"peak": parameters + peak}


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
    info["torch"] = None
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        info["torch"] = f"{torch.__version__} ({torch.get_num_threads()} threads)"
    return info


def table(results: list[dict], rounds: int) -> str:
    """The Markdown table: minimum (median) seconds per contender, rp.fit's ratios of minima."""
    names = list(results[0]["seconds"])
    ratios = [f"rp/{short}" for short, _ in RATIOS] + ["written/floor"]
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


def phases(X: np.ndarray, y: np.ndarray, config: Config, rounds: int = 3) -> dict[str, float]:
    """Seconds of an rp.fit epoch by phase of its captured step, and of the floor's forward
    and backward products; the round with the fastest rp.fit epoch (floor: minima).

    rp.fit: "gather" (the batch's rows), "forward" (products, bias, activations), "loss"
    (cross-entropy and dJ/dlogits), "backward" (products, the update made in them or after
    each layer, bias sums, activation derivatives), "rest" (the loop, callbacks, the data's
    check, the shuffle). Floor: "floor forward" (the forward products alone), "floor backward".
    """
    from retroprop.training import captured

    spent: dict[str, float] = {}
    originals = {name: getattr(captured.CapturedStep, name) for name in PHASES}

    def timed(name: str, method):
        def run(*args, **kwargs):
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - start

        return run

    best: dict[str, float] = {}
    floor_total, floor_forward = [], []
    try:
        for name, method in originals.items():
            setattr(captured.CapturedStep, name, timed(name, method))
        for _ in range(rounds):
            floor_total.append(time_floor(X, y, config))
            floor_forward.append(time_floor(X, y, config, forward_only=True))
            spent.clear()
            total = time_retroprop(X, y, config)
            if not best or total < best["rp.fit"]:
                best = {"rp.fit": total, **spent}
    finally:
        for name, method in originals.items():
            setattr(captured.CapturedStep, name, method)
    best["rest"] = best["rp.fit"] - sum(best.get(name, 0.0) for name in PHASES)
    best["floor"], best["floor forward"] = min(floor_total), min(floor_forward)
    best["floor backward"] = best["floor"] - best["floor forward"]
    return best


PHASES = ("gather", "forward", "loss", "backward")


def written_weights(config: Config, repeats: int = 200, rounds: int = 5) -> dict[str, float]:
    """Microseconds of the first layer's forward product followed by an update made in the
    weight-gradient product (BLAS gemm, beta = 1), into the weights the next forward reads
    ("same W") or into a copy it does not read ("other W"): minima of interleaved rounds.

    The floor reads its weights and never writes them. A training step writes them every
    batch; with 2 BLAS threads, the next forward then reads lines the other core wrote, and
    "same W" exceeds "other W" by what that costs.
    """
    from retroprop._blas import gemm_tn

    rng = np.random.default_rng(0)
    k, m = config.sizes[:2]
    x = rng.random((config.batch_size, k), dtype=np.float32)
    delta = rng.standard_normal((config.batch_size, m), dtype=np.float32) * 1e-3
    weights = rng.standard_normal((k, m), dtype=np.float32) * 0.05
    other, z = weights.copy(), np.empty((config.batch_size, m), np.float32)

    def step(target: np.ndarray) -> None:
        np.matmul(x, weights, out=z)
        gemm_tn(-1e-6, x, delta, 1.0, target)

    best = {"same W": math.inf, "other W": math.inf}
    for _ in range(rounds):
        for name, target in (("same W", weights), ("other W", other)):
            start = time.perf_counter()
            for _ in range(repeats):
                step(target)
            best[name] = min(best[name], (time.perf_counter() - start) / repeats * 1e6)
    return best


def barrier_wait(repeats: int = 5000, rounds: int = 3) -> float:
    """Microseconds of one meeting of two Python threads at a ``threading.Barrier`` (minimum
    over ``rounds``): what splitting a step's NumPy work between the two cores would pay at
    every point where one core needs what the other made (Python holds one interpreter lock,
    and a thread waiting for the other is woken through the operating system).
    """
    import threading

    def meet(barrier: threading.Barrier) -> None:
        for _ in range(repeats):
            barrier.wait()

    best = math.inf
    for _ in range(rounds):
        barrier = threading.Barrier(2)
        other = threading.Thread(target=meet, args=(barrier,))
        start = time.perf_counter()
        other.start()
        meet(barrier)
        other.join()
        best = min(best, (time.perf_counter() - start) / repeats * 1e6)
    return best


def adam_passes(config: Config, rows: int, rounds: int = 5) -> float:
    """Seconds an epoch of Adam's update costs in NumPy at the least: the seven passes over
    every parameter's values a step needs when each call does one operation (BLAS axpby and
    axpy two): first moment (axpby), the gradient's square, second moment (axpby), square root,
    plus epsilon, the quotient, the step (axpy); per step on arrays of the parameters' shapes,
    times the batches of an epoch of ``rows`` rows (minimum over ``rounds``).

    Nothing else: no products, no Python around them. Against the floor, it bounds what any
    NumPy step with Adam can reach: at most 1.25 times the floor needs these passes within a
    quarter of it, with the rest of the step's work besides.
    """
    from retroprop._blas import axpby, axpy

    rng = np.random.default_rng(0)
    shapes = [
        shape
        for a, b in zip(config.sizes[:-1], config.sizes[1:], strict=True)
        for shape in ((a, b), (b,))
    ]
    # per parameter: gradient, first moment, second moment (positive), values, a work array
    arrays = [
        [rng.standard_normal(shape, dtype=np.float32) * np.float32(1e-3) for _ in range(5)]
        for shape in shapes
    ]
    for values in arrays:
        np.abs(values[2], out=values[2])
    steps = math.ceil(rows / config.batch_size)
    repeats = min(steps, 200)
    best = math.inf
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeats):
            for g, m, v, w, scratch in arrays:
                axpby(0.1, g, 0.9, m)
                np.square(g, out=scratch)
                axpby(0.001, scratch, 0.999, v)
                np.sqrt(v, out=scratch)
                scratch += 1e-8
                np.divide(m, scratch, out=scratch)
                axpy(-1e-9, scratch, w)
        best = min(best, (time.perf_counter() - start) / repeats)
    return best * steps


def profile(X: np.ndarray, y: np.ndarray, config: Config, top: int = 30) -> None:
    """Where an rp.fit epoch goes: its phases against the floor's (:func:`phases`), then a
    cProfile of one epoch sorted by tottime."""
    spent = phases(X, y, config)
    floor, fit = spent["floor"], spent["rp.fit"]
    print(
        f"{config.label}: rp.fit {fit:.3f} s, its matrix products (the floor) {floor:.3f} s: "
        f"{1 - floor / fit:.0%} of the epoch outside them"
    )
    extra = {
        "forward": spent.get("forward", 0.0) - spent["floor forward"],
        "backward": spent.get("backward", 0.0) - spent["floor backward"],
    }
    print("| phase | rp.fit (s) | floor's products (s) | beyond the products (s) |")
    print("| --- | ---: | ---: | ---: |")
    for name in (*PHASES, "rest"):
        products = spent.get(f"floor {name}")
        beyond = extra.get(name, spent.get(name, 0.0))
        floor_cell = "" if products is None else f"{products:.3f}"
        print(f"| {name} | {spent.get(name, 0.0):.3f} | {floor_cell} | {beyond:.3f} |")
    print(f"| epoch | {fit:.3f} | {floor:.3f} | {fit - floor:.3f} |")
    probe = written_weights(config)
    print(
        f"First layer, forward then update in the product: {probe['same W']:.0f} us when the "
        f"update writes the weights the forward reads, {probe['other W']:.0f} us into a copy"
    )
    print(f"Two Python threads meeting at a barrier: {barrier_wait():.0f} us a meeting")
    if config.optimizer == "adam":
        passes = adam_passes(config, X.shape[0])
        print(
            f"Adam's seven passes alone (NumPy, one operation a call): {passes:.3f} s an epoch, "
            f"{passes / floor:.2f} of the floor (at most 0.25 leaves the target 1.25 in reach)"
        )
    model, optimizer = build_retroprop(config)
    profiler = cProfile.Profile()
    profiler.enable()
    fit_epoch(model, optimizer, X, y, config)
    profiler.disable()
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(top)


# --- the command ---


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    parser.add_argument("--rows", type=int, default=60_000, help="rows of data (default 60,000)")
    parser.add_argument("--configs", default=",".join(BY_KEY), help="comma-separated keys")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--quick", action="store_true", help="128 rows, 2 rounds (a test)")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory probes")
    parser.add_argument("--profile", action="store_true", help="profile rp.fit, no table")
    parser.add_argument("--memory-probe", metavar="KEY", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.rounds = 128, 2
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

    gc.collect()
    gc.freeze()  # the imports' objects: out of every later collection, for every contender

    with threadpool_limits(limits=args.threads):
        if args.profile:
            for config in configs:
                profile(X, y, config)
            return None
        report: dict[str, object] = {"machine": machine(args.threads), "rows": args.rows}
        print(json.dumps(report["machine"]), flush=True)
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
