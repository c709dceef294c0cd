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

Run: ``python benchmarks/bench_sklearn.py [--seeds 10] [--datasets digits,iris] [--init ...]``.
On a shared machine, pin BLAS to one thread for steady timings (both libraries use the same
BLAS): ``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_sklearn.py``.
Prints a Markdown table; the time ratio is retroprop's fit time over scikit-learn's.
"""

from __future__ import annotations

import argparse
import statistics
import time
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


def compare(name: str, seeds: int, init: str | None) -> dict[str, float]:
    """Mean accuracies, median fit times and mean epochs of both estimators over ``seeds``."""
    figures: dict[str, list[float]] = {}
    for seed in range(seeds):
        data = split(name, seed)
        contenders = (
            ("sklearn", SklearnMLP(random_state=seed, **SETTINGS)),
            ("retroprop", RetropropMLP(random_state=seed, init=init, **SETTINGS)),
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds per dataset (default 10)")
    parser.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated names")
    parser.add_argument(
        "--init",
        default="xavier_uniform",
        help="retroprop's init: xavier_uniform (scikit-learn's, the default) or 'default'",
    )
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


if __name__ == "__main__":
    main()
