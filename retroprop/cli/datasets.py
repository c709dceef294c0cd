"""The built-in datasets of ``retroprop train --dataset NAME``: offline, through scikit-learn.

The 2-D toy problems (xor, circles, moons, spirals, blobs) are the ones TensorFlow Playground
and the course draw; digits, iris, wine, breast-cancer and diabetes are scikit-learn's bundled
tables. Every loader returns the features as a ``pandas.DataFrame`` and the target as a
``pandas.Series``, so built-in data and the user's CSV take the same road.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from retroprop.cli.errors import CLIError

__all__ = ["DATASETS", "Dataset", "load_dataset", "make_spirals", "make_xor"]


@dataclass
class Dataset:
    """A table to learn from.

    Attributes
    ----------
    name : str
    features : pandas.DataFrame
    target : pandas.Series
    description : str
        One line for the report.
    """

    name: str
    features: Any
    target: Any
    description: str


def make_xor(n_samples: int = 200, noise: float = 0.05, random_state: int = 0):
    """Points in [-1, 1]^2 labelled 1 where exactly one coordinate is positive (XOR).

    Examples
    --------
    >>> X, y = make_xor(8, random_state=0)
    >>> X.shape, sorted(set(y.tolist())) <= [0, 1]
    ((8, 2), True)
    """
    rng = np.random.default_rng(random_state)
    X = rng.uniform(-1.0, 1.0, size=(n_samples, 2))
    X += np.sign(X) * 0.05  # keep points off the axes, as TensorFlow Playground does
    y = ((X[:, 0] > 0) != (X[:, 1] > 0)).astype(np.int64)
    return X + rng.normal(0.0, noise, size=X.shape), y


def make_spirals(n_samples: int = 300, noise: float = 0.05, random_state: int = 0):
    """Two interleaved spirals, one per class (TensorFlow Playground's hardest data).

    Examples
    --------
    >>> X, y = make_spirals(10, random_state=0)
    >>> X.shape, int(y.sum())
    ((10, 2), 5)
    """
    rng = np.random.default_rng(random_state)
    half = n_samples // 2
    parts, labels = [], []
    for label, count in enumerate((n_samples - half, half)):
        t = np.linspace(0.0, 1.0, count, endpoint=False)
        radius = 0.1 + 0.9 * t
        angle = 1.75 * 2 * np.pi * t + label * np.pi
        points = np.column_stack([radius * np.sin(angle), radius * np.cos(angle)])
        parts.append(points + rng.normal(0.0, noise, size=points.shape))
        labels.append(np.full(count, label, dtype=np.int64))
    return np.concatenate(parts), np.concatenate(labels)


def _frame(X: np.ndarray, y: np.ndarray, columns: list[str] | None = None, names=None):
    import pandas as pd

    columns = columns or [f"x{i + 1}" for i in range(X.shape[1])]
    target = np.asarray(names)[y] if names is not None else y
    return pd.DataFrame(X, columns=columns), pd.Series(target, name="target")


def _toy(make: Callable[[], tuple[np.ndarray, np.ndarray]]) -> Callable[[], tuple]:
    return lambda: _frame(*make())


def _sklearn_table(loader_name: str, named_classes: bool) -> Callable[[], tuple]:
    def load() -> tuple:
        from sklearn import datasets

        bunch = getattr(datasets, loader_name)()
        names = bunch.target_names if named_classes else None
        return _frame(bunch.data, bunch.target, list(bunch.feature_names), names)

    return load


def _circles():
    from sklearn.datasets import make_circles

    return make_circles(n_samples=200, factor=0.5, noise=0.08, random_state=1)


def _moons():
    from sklearn.datasets import make_moons

    return make_moons(n_samples=200, noise=0.15, random_state=0)


def _blobs():
    from sklearn.datasets import make_blobs

    return make_blobs(n_samples=300, centers=3, cluster_std=1.2, random_state=0)


# name -> (loader, description)
DATASETS: dict[str, tuple[Callable[[], tuple], str]] = {
    "xor": (_toy(make_xor), "XOR: 200 points in 2-D, 2 classes (not linearly separable)"),
    "circles": (
        _toy(_circles),
        "the course's circles: make_circles(200, factor=0.5, noise=0.08, random_state=1)",
    ),
    "moons": (_toy(_moons), "two moons: make_moons(200, noise=0.15), 2 classes"),
    "spirals": (_toy(make_spirals), "two interleaved spirals: 300 points in 2-D, 2 classes"),
    "blobs": (_toy(_blobs), "three Gaussian blobs: make_blobs(300, centers=3), 3 classes"),
    "digits": (
        _sklearn_table("load_digits", False),
        "handwritten digits: 1,797 images of 8x8 pixels, 10 classes",
    ),
    "iris": (
        _sklearn_table("load_iris", True),
        "Fisher's iris: 150 flowers, 4 measures, 3 classes",
    ),
    "wine": (_sklearn_table("load_wine", True), "wine: 178 wines, 13 measures, 3 cultivars"),
    "breast-cancer": (
        _sklearn_table("load_breast_cancer", True),
        "Wisconsin breast cancer: 569 tumours, 30 measures, benign or malignant",
    ),
    "diabetes": (
        _sklearn_table("load_diabetes", False),
        "diabetes: 442 patients, 10 measures, disease progression after a year (regression)",
    ),
}


def load_dataset(name: str) -> Dataset:
    """The built-in dataset called ``name``.

    Raises
    ------
    CLIError
        For an unknown name; the message lists the known ones.

    Examples
    --------
    >>> data = load_dataset("xor")
    >>> data.features.shape, data.target.name
    ((200, 2), 'target')
    >>> load_dataset("mnist")
    Traceback (most recent call last):
    ...
    retroprop.cli.errors.CLIError: unknown dataset 'mnist'
    """
    if name not in DATASETS:
        raise CLIError(
            f"unknown dataset {name!r}",
            hint=f"the built-in datasets are: {', '.join(DATASETS)} (or use --data FILE.csv)",
        )
    loader, description = DATASETS[name]
    features, target = loader()
    return Dataset(name, features, target, description)
