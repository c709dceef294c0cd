"""The speed-up of ``retroprop tune`` with 2 Dask workers against 1, measured side by side.

Each round runs the same search (``--trials`` trials of the default space, ``--epochs`` epochs,
no early stopping, seed 0) once with ``--workers 1`` and once with ``--workers 2``, in turn, the
order alternated from round to round; each run is a whole ``retroprop tune`` process (the
cluster's start included), on a generated table of ``--rows`` rows and 11 columns (numbers,
a category, a binary target). Minima over the rounds, and their ratio::

    python benchmarks/bench_tune.py --rounds 3

The speed-up needs idle cores: on a machine whose cores are taken by other jobs a second worker
gets a share of the same cores, not a second one. The load average is printed with the result.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def write_table(path: Path, rows: int) -> None:
    """A table of ``rows`` rows: ten numeric columns, one category, a binary target ``y``."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, 10))
    colour = rng.choice(["red", "green", "blue"], size=rows)
    logit = X[:, 0] - X[:, 1] * X[:, 2] + (colour == "red")
    y = (logit + rng.normal(scale=0.5, size=rows) > 0).astype(int)
    header = ",".join([f"x{i}" for i in range(10)] + ["colour", "y"])
    lines = [
        ",".join([*(f"{v:.5f}" for v in row), c, str(t)])
        for row, c, t in zip(X, colour, y, strict=True)
    ]
    path.write_text("\n".join([header, *lines]) + "\n")


def run(table: Path, out: Path, workers: int, trials: int, epochs: int) -> float:
    """Wall time (s) of one whole ``retroprop tune`` process."""
    command = [sys.executable, "-m", "retroprop", "tune", "--data", str(table), "--target", "y"]
    command += ["--trials", str(trials), "--epochs", str(epochs), "--early-stopping", "0"]
    command += ["--seed", "0", "--workers", str(workers), "--out", str(out), "--overwrite"]
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--rows", type=int, default=4000)
    args = parser.parse_args()
    times: dict[int, list[float]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory() as folder:
        table = Path(folder) / "table.csv"
        write_table(table, args.rows)
        for round_ in range(args.rounds):
            for workers in (1, 2) if round_ % 2 == 0 else (2, 1):
                out = Path(folder) / f"run-{workers}"
                times[workers].append(run(table, out, workers, args.trials, args.epochs))
                print(f"round {round_ + 1}: {workers} worker(s) {times[workers][-1]:.1f} s")
    best = {workers: min(values) for workers, values in times.items()}
    print(
        f"minima: 1 worker {best[1]:.1f} s, 2 workers {best[2]:.1f} s; "
        f"speed-up {best[1] / best[2]:.2f} (load average {os.getloadavg()[0]:.1f}, "
        f"{os.cpu_count()} cores)"
    )


if __name__ == "__main__":
    main()
