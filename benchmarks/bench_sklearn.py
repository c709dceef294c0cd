"""retroprop's MLPClassifier side by side with scikit-learn's, at the same settings.

On scikit-learn's bundled datasets (digits, breast_cancer, iris, wine), standardised, with a
stratified 75/25 train/test split, both estimators train the same network: one hidden layer of
100 ReLU units, solver "adam", learning_rate_init 0.001, batch_size "auto" (min(200, n)),
max_iter 200 with scikit-learn's stopping rule (tol 1e-4, n_iter_no_change 10), alpha 1e-4.
Both draw the weights from Glorot's uniform distribution, U(-b, b) with
b = sqrt(6 / (fan_in + fan_out)), scikit-learn's initialisation (``--init default`` gives
retroprop its own default instead: He normal before ReLU). They still differ in the biases
(scikit-learn draws them from the same distribution, retroprop starts them at 0), in the
random numbers, and in precision (float64 against retroprop's float32). Each row averages the
test accuracy over several seeds (each seed: a new split and a new initialisation) and takes
the median fit time.

Two more tables follow: ``solver="lbfgs"`` on the same datasets (both libraries run
scipy's L-BFGS-B from the same initial network), and sparse input: a text-like CSR matrix
(20,000 x 50,000 at 0.1% density, binary labels), a few epochs of adam, with the fit time and
the peak memory Python allocated during the fit (tracemalloc; the dense matrix would take
8 GB). Skip them with ``--no-lbfgs`` / ``--no-sparse``; ``--sparse-shape 2000x5000`` shrinks
the sparse problem.

Run: ``python benchmarks/bench_sklearn.py [--seeds 10] [--datasets digits,iris] [--init ...]``.
On a shared machine, pin BLAS to one thread for steady timings (both libraries use the same
BLAS): ``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_sklearn.py``.
Prints a Markdown table; the time ratio is retroprop's fit time over scikit-learn's.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLP
from sklearn.preprocessing import StandardScaler

from retroprop.sklearn import MLPClassifier as RetropropMLP

DATASETS: dict[str, Callable[..., Any]] = {
    "digits": datasets.load_digits,
    "breast_cancer": datasets.load_breast_cancer,
    "iris": datasets.load_iris,
    "wine": datasets.load_wine,
}
SETTINGS = {
    "hidden_layer_sizes": (100,),
    "solver": "adam",
    "learning_rate_init": 0.001,
    "batch_size": "auto",
    "max_iter": 200,
    "alpha": 1e-4,
}


def split(name: str, seed: int) -> tuple[np.ndarray, ...]:
    """Standardised, stratified 75/25 train/test split of a bundled dataset."""
    X, y = DATASETS[name](return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=seed
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def run(estimator: Any, data: tuple[np.ndarray, ...]) -> tuple[float, float, int]:
    """(test accuracy, fit seconds, epochs) of one fit."""
    X_train, X_test, y_train, y_test = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        estimator.fit(X_train, y_train)
        seconds = time.perf_counter() - start
    return estimator.score(X_test, y_test), seconds, estimator.n_iter_


def compare(
    name: str, seeds: int, init: str | None, settings: dict[str, Any] = SETTINGS
) -> dict[str, float]:
    """Mean accuracies, median fit times and mean epochs of both estimators over ``seeds``."""
    figures: dict[str, list[float]] = {}
    for seed in range(seeds):
        data = split(name, seed)
        contenders = (
            ("sklearn", SklearnMLP(random_state=seed, **settings)),
            ("retroprop", RetropropMLP(random_state=seed, init=init, **settings)),
        )
        for label, estimator in contenders:
            accuracy, seconds, epochs = run(estimator, data)
            figures.setdefault(f"{label}_acc", []).append(accuracy)
            figures.setdefault(f"{label}_s", []).append(seconds)
            figures.setdefault(f"{label}_epochs", []).append(epochs)
    return {
        key: statistics.median(values) if key.endswith("_s") else statistics.fmean(values)
        for key, values in figures.items()
    }


def sparse_problem(rows: int, columns: int, density: float) -> tuple[Any, np.ndarray]:
    """A text-like CSR matrix (non-negative counts) and binary labels from a linear rule."""
    import scipy.sparse

    rng = np.random.default_rng(0)
    nnz = int(rows * columns * density)  # drawn directly: scipy.sparse.random permutes rows*columns
    where = (rng.integers(0, rows, nnz), rng.integers(0, columns, nnz))
    counts = rng.integers(1, 4, nnz).astype(np.float64)  # small counts, as a bag of words
    X = scipy.sparse.coo_matrix((counts, where), shape=(rows, columns)).tocsr()
    score = X @ rng.normal(size=columns)
    return X, (score > np.median(score)).astype(int)


def fit_measured(estimator: Any, X: Any, y: np.ndarray) -> tuple[float, float]:
    """(fit seconds, peak MB allocated during a second, traced fit) of ``estimator``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        estimator.fit(X, y)
        seconds = time.perf_counter() - start
        tracemalloc.start()
        estimator.fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return seconds, peak / 2**20


def sparse_table(shape: tuple[int, int], density: float, epochs: int) -> None:
    """Fit time and peak memory of both estimators on a sparse X (never densified)."""
    X, y = sparse_problem(*shape, density)
    settings = {**SETTINGS, "max_iter": epochs, "random_state": 0}
    print(
        f"\nSparse X: {shape[0]:,} x {shape[1]:,} CSR at {density:.1%} density "
        f"({X.nnz:,} non-zeros; dense float64 would be {shape[0] * shape[1] * 8 / 2**30:.1f} "
        f"GB), {epochs} epochs of adam, 100 hidden units\n"
    )
    print("| estimator | fit s | peak MB during fit | train accuracy |")
    print("|---|---|---|---|")
    for label, estimator in (
        ("sklearn", SklearnMLP(**settings)),
        ("retroprop", RetropropMLP(**settings)),
    ):
        seconds, peak = fit_measured(estimator, X, y)
        accuracy = estimator.score(X, y)
        print(f"| {label} | {seconds:.2f} | {peak:.0f} | {accuracy:.3f} |", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds per dataset (default 10)")
    parser.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated names")
    parser.add_argument(
        "--init",
        default="xavier_uniform",
        help="retroprop's init: xavier_uniform (scikit-learn's, the default) or 'default'",
    )
    parser.add_argument("--no-lbfgs", action="store_true", help="skip the lbfgs table")
    parser.add_argument("--no-sparse", action="store_true", help="skip the sparse table")
    parser.add_argument("--sparse-shape", default="20000x50000", help="rows x columns")
    parser.add_argument("--sparse-epochs", type=int, default=3, help="epochs on sparse X")
    args = parser.parse_args(argv)
    init = None if args.init == "default" else args.init
    print(
        "| dataset | sklearn acc | retroprop acc | sklearn fit s | retroprop fit s | time ratio "
        "| epochs (sklearn / retroprop) |"
    )
    print("|---|---|---|---|---|---|---|")
    for name in args.datasets.split(","):
        row = compare(name, args.seeds, init)
        print(
            f"| {name} | {row['sklearn_acc']:.3f} | {row['retroprop_acc']:.3f} "
            f"| {row['sklearn_s']:.3f} | {row['retroprop_s']:.3f} "
            f"| {row['retroprop_s'] / row['sklearn_s']:.2f} "
            f"| {row['sklearn_epochs']:.0f} / {row['retroprop_epochs']:.0f} |",
            flush=True,
        )
    if not args.no_lbfgs:
        lbfgs = {**SETTINGS, "solver": "lbfgs"}
        print("\nsolver='lbfgs' (max_iter 200 iterations), both from the same initial network\n")
        print("| dataset | sklearn acc | retroprop acc | sklearn fit s | retroprop fit s | ratio |")
        print("|---|---|---|---|---|---|")
        for name in args.datasets.split(","):
            row = compare(name, args.seeds, None, lbfgs)
            print(
                f"| {name} | {row['sklearn_acc']:.3f} | {row['retroprop_acc']:.3f} "
                f"| {row['sklearn_s']:.3f} | {row['retroprop_s']:.3f} "
                f"| {row['retroprop_s'] / row['sklearn_s']:.2f} |",
                flush=True,
            )
    if not args.no_sparse:
        rows, columns = (int(part) for part in args.sparse_shape.split("x"))
        sparse_table((rows, columns), 0.001, args.sparse_epochs)


if __name__ == "__main__":
    main()
