"""A training step split between two Python threads, against the floor on two BLAS threads.

The floor of ``bench_step.py`` runs its products on OpenBLAS's two threads, while a step's
elementwise work (bias, ReLU, loss, masks, the batch's gather) runs in NumPy on one core. This
script measures the other way to use both cores: every layer's work split between two Python
threads, each calling a one-thread BLAS, in the column- and row-parallel split of Megatron-LM
(Shoeybi et al., 2019, section 3), so that each weight matrix is written by the core that reads
it. For 784-300-100-10 (ReLU, softmax cross-entropy, plain SGD, float32), thread k:

1. gathers its half of the batch's rows (both halves are needed: barrier);
2. layer 1, column-parallel: Z1[:, half k] = X W1[:, half k] + b1, ReLU, on its own columns;
3. layer 2, row-parallel: its partial product H1[:, half k] W2[half k, :] (barrier: the sum);
4. for its half of the batch's rows: layer 2's sum, bias and ReLU, layer 3 and the loss,
   delta3 and the input gradient of layer 3 (barrier: layer 3's update reads every row);
5. thread 0 updates W3 and b3, thread 1 b2; each thread its rows of W2 and its columns of W1,
   every update made inside the weight gradient's product (BLAS gemm with beta = 1).

Three barriers a step, two batch buffers used in turn (no fourth). The updates are those of
SGD on the whole batch; the script measures time only (``--check`` compares one epoch's weights
with a one-thread replay). Rounds are interleaved, minima reported.

Run: ``python benchmarks/two_threads.py [--rounds 4] [--rows 60000] [--batch-sizes 32,128,1024]``.
"""

from __future__ import annotations

import argparse
import threading
import time

import numpy as np
from step_contenders import MNIST, Config, initial_weights, time_floor
from threadpoolctl import threadpool_limits

from retroprop._blas import NO_TRANS, ROW_MAJOR, TRANS, blas_gemm

SIZES = MNIST


def gemm(trans_a: int, trans_b: int, alpha: float, a, b, beta: float, c) -> None:
    """c = alpha op(a) op(b) + beta c by CBLAS on row-major views (unit stride in a row)."""
    m, n = c.shape
    k = a.shape[0] if trans_a == TRANS else a.shape[1]
    blas_gemm(c.dtype)(
        ROW_MAJOR, trans_a, trans_b, m, n, k, alpha,
        a.ctypes.data, a.strides[0] // a.itemsize,
        b.ctypes.data, b.strides[0] // b.itemsize,
        beta, c.ctypes.data, c.strides[0] // c.itemsize,
    )  # fmt: skip


def initial() -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The weights (in, out) and biases every contender of bench_step.py starts from (copies)."""
    pairs = initial_weights(SIZES)
    return [W for W, _ in pairs], [b for _, b in pairs]


def floor_epoch(X: np.ndarray, y: np.ndarray, batch: int) -> float:
    """bench_step.py's floor (the products of every step) at this batch size."""
    return time_floor(X, y, Config("floor", SIZES, "sgd", 0.01, batch))


def split_epoch(X: np.ndarray, y: np.ndarray, batch: int, lr: float = 0.01, threads: int = 2):
    """One epoch of SGD split between ``threads`` (2, or 1: the same schedule in turn, the
    check's replay) Python threads on one-thread BLAS; returns (seconds, weights, biases)."""
    (W1, W2, W3), (b1, b2, b3) = weights, biases = initial()
    steps = X.shape[0] // batch
    order = np.random.default_rng(2).permutation(X.shape[0])
    half = SIZES[1] // 2
    cols, rows = (
        (slice(0, half), slice(half, SIZES[1])),
        (slice(0, batch // 2), slice(batch // 2, batch)),
    )
    xbs = [np.empty((batch, SIZES[0]), np.float32) for _ in range(2)]
    h1 = [np.empty((batch, half), np.float32) for _ in range(2)]
    mask1 = [np.empty((batch, half), bool) for _ in range(2)]
    partial = [np.empty((batch, SIZES[2]), np.float32) for _ in range(2)]
    dh1 = [np.empty((batch, half), np.float32) for _ in range(2)]
    z2, d2 = (np.empty((batch, SIZES[2]), np.float32) for _ in range(2))
    z3, d3 = (np.empty((batch, SIZES[3]), np.float32) for _ in range(2))
    barrier = threading.Barrier(threads)

    def phase(k: int, i: int, part: int) -> None:
        r, c, xb = rows[k], cols[k], xbs[i & 1]
        index = order[i * batch : (i + 1) * batch]
        if part == 0:
            np.take(X, index[r], axis=0, out=xb[r])
        elif part == 1:
            h, W1k = h1[k], W1[:, c]
            gemm(NO_TRANS, NO_TRANS, 1.0, xb, W1k, 0.0, h)
            h += b1[c]
            np.greater(h, 0, out=mask1[k])
            np.maximum(h, 0, out=h)
            gemm(NO_TRANS, NO_TRANS, 1.0, h, W2[c, :], 0.0, partial[k])
        elif part == 2:
            z = z2[r]
            np.add(partial[0][r], partial[1][r], out=z)
            z += b2
            np.maximum(z, 0, out=z)
            logits = z3[r]
            gemm(NO_TRANS, NO_TRANS, 1.0, z, W3, 0.0, logits)
            logits += b3
            logits -= logits.max(axis=1, keepdims=True)
            np.exp(logits, out=logits)
            logits /= logits.sum(axis=1, keepdims=True)
            logits[np.arange(logits.shape[0]), y[index[r]]] -= 1.0
            np.multiply(logits, 1.0 / batch, out=d3[r])
            gemm(NO_TRANS, TRANS, 1.0, d3[r], W3, 0.0, d2[r])
            d2[r] *= z > 0
        else:
            if k == 0:
                gemm(TRANS, NO_TRANS, -lr, z2, d3, 1.0, W3)
                np.subtract(b3, lr * d3.sum(axis=0), out=b3)
            else:
                np.subtract(b2, lr * d2.sum(axis=0), out=b2)
            W2k, W1k, b1k, delta = W2[c, :], W1[:, c], b1[c], dh1[k]
            gemm(NO_TRANS, TRANS, 1.0, d2, W2k, 0.0, delta)  # reads W2k before its update
            gemm(TRANS, NO_TRANS, -lr, h1[k], d2, 1.0, W2k)
            delta *= mask1[k]
            gemm(TRANS, NO_TRANS, -lr, xb, delta, 1.0, W1k)
            b1k -= lr * delta.sum(axis=0)

    def work(k: int) -> None:
        for i in range(steps):
            for part in range(4):
                phase(k, i, part)
                if part < 3:
                    barrier.wait()

    def replay() -> None:
        for i in range(steps):
            for part in range(4):
                for k in range(2):
                    phase(k, i, part)

    with threadpool_limits(limits=1, user_api="blas"):
        start = time.perf_counter()
        if threads == 1:
            replay()
        else:
            pool = [threading.Thread(target=work, args=(k,)) for k in range(2)]
            for thread in pool:
                thread.start()
            for thread in pool:
                thread.join()
        seconds = time.perf_counter() - start
    return seconds, weights, biases


def main(argv: list[str] | None = None) -> dict[int, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--rows", type=int, default=60_000)
    parser.add_argument("--batch-sizes", default="32,128,1024")
    parser.add_argument("--check", action="store_true", help="compare with a one-thread replay")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    X = rng.random((args.rows, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], args.rows)
    results = {}
    print("| batch | floor, 2 BLAS threads (s) | split between 2 Python threads (s) | ratio |")
    print("| ---: | ---: | ---: | ---: |")
    for batch in map(int, args.batch_sizes.split(",")):
        floor, split = [], []
        for _ in range(args.rounds):
            with threadpool_limits(limits=2, user_api="blas"):
                floor.append(floor_epoch(X, y, batch))
            split.append(split_epoch(X, y, batch)[0])
        results[batch] = {"floor": min(floor), "split": min(split)}
        print(f"| {batch} | {min(floor):.3f} | {min(split):.3f} | {min(split) / min(floor):.2f} |")
        if args.check:
            _, threaded, _ = split_epoch(X, y, batch)
            _, replayed, _ = split_epoch(X, y, batch, threads=1)
            for a, b in zip(threaded, replayed, strict=True):
                np.testing.assert_array_equal(a, b)
            print(f"  batch {batch}: the threads' weights are the replay's, bit for bit")
    return results


if __name__ == "__main__":
    main()
