"""benchmarks/two_threads.py: the step split between two Python threads is SGD's step.

Not a speed test: the split's time against the floor is the script's output; here, that the
split computes what it claims (one SGD step on the whole batch), the same bits with its two
threads as in turn, and that the script runs end to end.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("threadpoolctl")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import two_threads  # noqa: E402

from retroprop._blas import blas_gemm  # noqa: E402

pytestmark = pytest.mark.skipif(blas_gemm(np.dtype(np.float32)) is None, reason="no BLAS gemm")


def reference_step(X, y, lr=0.01):
    """One plain SGD step of 784-300-100-10 (ReLU, mean softmax cross-entropy) on all of X."""
    (W1, W2, W3), (b1, b2, b3) = two_threads.initial()
    h1 = np.maximum(X @ W1 + b1, 0)
    h2 = np.maximum(h1 @ W2 + b2, 0)
    logits = h2 @ W3 + b3
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    d3 = p / len(y)
    d2 = (d3 @ W3.T) * (h2 > 0)
    d1 = (d2 @ W2.T) * (h1 > 0)
    weights = [W1 - lr * X.T @ d1, W2 - lr * h1.T @ d2, W3 - lr * h2.T @ d3]
    return weights, [b1 - lr * d1.sum(0), b2 - lr * d2.sum(0), b3 - lr * d3.sum(0)]


@pytest.mark.parametrize("threads", [1, 2])
def test_one_split_step_is_sgds_step_on_the_whole_batch(threads):
    rng = np.random.default_rng(0)
    X = rng.random((64, 784), dtype=np.float32)
    y = rng.integers(0, 10, 64)
    _, weights, biases = two_threads.split_epoch(X, y, batch=64, threads=threads)
    order = np.random.default_rng(2).permutation(64)  # the split's order of rows
    expected_w, expected_b = reference_step(X[order], y[order])
    for got, want in zip(weights + biases, expected_w + expected_b, strict=True):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def test_the_script_runs_and_its_threads_match_the_replay(capsys):
    results = two_threads.main(["--rows", "512", "--rounds", "1", "--batch-sizes", "64", "--check"])
    assert set(results) == {64} and results[64]["floor"] > 0 and results[64]["split"] > 0
    assert "bit for bit" in capsys.readouterr().out
