"""Peak memory of ``retroprop train`` on a partitioned table against the same table whole.

Writes a table of PARTS partitions of ROWS rows (numeric and categorical columns, a binary
label) as Parquet parts and as one Parquet file, trains on each in a child process and reads
that process's high-water mark of resident memory (``os.wait4``'s ``ru_maxrss``). A run on a
built-in toy dataset gives the floor (Python, NumPy, pandas, scikit-learn, matplotlib).

    python benchmarks/stream_memory.py [PARTS] [ROWS]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

PARTS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
ROWS = int(sys.argv[2]) if len(sys.argv) > 2 else 50_000
FLAGS = ["--target", "label", "--layers", "16", "--epochs", "2", "--batch-size", "512",
         "--no-diagnostics", "--seed", "0", "--quiet", "--overwrite"]  # fmt: skip


def make_part(index: int, rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(index)
    numbers = rng.normal(size=(rows, 8))
    numbers[rng.random((rows, 8)) < 0.02] = np.nan
    frame = pd.DataFrame(numbers, columns=[f"x{j}" for j in range(8)])
    frame["shop"] = rng.choice([f"shop {k}" for k in range(20)], rows)
    frame["kind"] = rng.choice(["a", "b", "c"], rows)
    score = np.nan_to_num(numbers[:, 0]) + (frame["kind"] == "a") - 0.5
    frame["label"] = np.where(score + rng.normal(0, 0.5, rows) > 0, "yes", "no")
    return frame


def peak_mib(*args: str) -> tuple[float, float]:
    """(peak resident MiB, seconds) of ``retroprop`` with ``args`` in a child process."""
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "retroprop", *args], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"retroprop {' '.join(args)} failed")
    return usage.ru_maxrss / 1024, time.perf_counter() - started  # Linux: KiB


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "parts").mkdir()
        for i in range(PARTS):
            make_part(i, ROWS).to_parquet(root / "parts" / f"part-{i:03d}.parquet", index=False)
        whole = pd.concat([pd.read_parquet(p) for p in sorted((root / "parts").iterdir())])
        whole.to_parquet(root / "whole.parquet", index=False)
        del whole
        part_mib = (root / "parts" / "part-000.parquet").stat().st_size / 2**20
        print(f"{PARTS} partitions x {ROWS:,} rows (11 columns; {part_mib:.1f} MiB Parquet each)")
        runs = {
            "floor (toy dataset)": ["train", "--dataset", "xor", "--epochs", "2", "--quiet",
                                    "--no-diagnostics", "--out", str(root / "r0"), "--overwrite"],
            "whole table, one file": ["train", "--data", str(root / "whole.parquet"), *FLAGS,
                                      "--out", str(root / "r1")],
            "partitions, streamed": ["train", "--data", str(root / "parts" / "*.parquet"), *FLAGS,
                                     "--out", str(root / "r2")],
            "partitions, 2% held out": ["train", "--data", str(root / "parts"), *FLAGS,
                                        "--test-size", "0.01", "--validation-size", "0.01",
                                        "--out", str(root / "r3")],
        }  # fmt: skip
        for name, args in runs.items():
            mib, seconds = peak_mib(*args)
            print(f"{name:<26} peak RSS {mib:7.0f} MiB   {seconds:6.1f} s", flush=True)


if __name__ == "__main__":
    main()
