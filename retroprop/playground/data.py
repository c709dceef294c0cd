"""The playground's data: TensorFlow Playground's 2-D problems, or the user's own 2-D (X, y).

Every built-in problem is drawn in about [-1, 1]^2 with Gaussian noise of standard deviation
``noise`` added to the points; the labels are class indices 0 ... k-1. The generators are the
command line's (``retroprop train --dataset``: XOR and spirals in ``retroprop/cli/datasets.py``)
and scikit-learn's ``make_circles``, ``make_moons`` and ``make_blobs``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["DATASETS", "PlaygroundData", "make_data", "user_data", "split"]


def _circles(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_circles

    return make_circles(n_samples=n, factor=0.5, noise=0.0, random_state=seed)


def _moons(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=n, noise=0.0, random_state=seed)
    return (X - [0.5, 0.25]) / 1.5, y  # centred, in about [-1, 1]^2


def _blobs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_blobs

    X, y = make_blobs(n_samples=n, centers=3, cluster_std=1.0, random_state=seed)
    X = X - X.mean(axis=0)
    return X / np.abs(X).max(), y


def _xor(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from retroprop.cli.datasets import make_xor

    return make_xor(n, noise=0.0, random_state=seed)


def _spirals(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from retroprop.cli.datasets import make_spirals

    return make_spirals(n, noise=0.0, random_state=seed)


#: name -> ``make(n_samples, seed) -> (X, y)`` without noise, in about [-1, 1]^2.
DATASETS: dict[str, Callable[[int, int], tuple[np.ndarray, np.ndarray]]] = {
    "circles": _circles,
    "moons": _moons,
    "spirals": _spirals,
    "xor": _xor,
    "blobs": _blobs,
}


@dataclass
class PlaygroundData:
    """The points the playground learns from.

    Attributes
    ----------
    X : ndarray of float64, shape (n_samples, 2)
    y : ndarray of int64, shape (n_samples,)
        Class indices 0 ... k-1.
    classes : list
        The original label of each class index.
    name : str
        "circles", ... or "your data".
    """

    X: np.ndarray
    y: np.ndarray
    classes: list[Any]
    name: str

    @property
    def n_classes(self) -> int:
        """How many classes the labels hold (2 or more)."""
        return len(self.classes)


def make_data(name: str, n_samples: int = 200, noise: float = 0.1, seed: int = 0) -> PlaygroundData:
    """One of the built-in problems with Gaussian noise of standard deviation ``noise``.

    Parameters
    ----------
    name : str
        A key of :data:`DATASETS`: "circles", "moons", "spirals", "xor", "blobs".
    n_samples : int, default 200
    noise : float, default 0.1
        Standard deviation of the noise added to each coordinate (the points span about 2).
    seed : int, default 0

    Raises
    ------
    ValueError
        An unknown name, fewer than 4 points, or a negative noise.

    Examples
    --------
    >>> data = make_data("xor", 40, noise=0.0)
    >>> data.X.shape, data.classes, bool(np.abs(data.X).max() <= 1.1)
    ((40, 2), [0, 1], True)
    """
    if name not in DATASETS:
        raise ValueError(f"playground: unknown dataset {name!r}; choose one of {list(DATASETS)}")
    if int(n_samples) < 4:
        raise ValueError(f"playground: n_samples must be >= 4, got {n_samples}")
    if not noise >= 0:
        raise ValueError(f"playground: noise must be >= 0, got {noise}")
    X, y = DATASETS[name](int(n_samples), seed)
    X = np.asarray(X, dtype=np.float64)
    X = X + np.random.default_rng(seed + 1).normal(0.0, noise, size=X.shape)
    return user_data(X, y, name=name)


def user_data(X: Any, y: Any, name: str = "your data") -> PlaygroundData:
    """The user's own points: X of shape (n, 2), y of n class labels (any values).

    Raises
    ------
    ValueError
        X not of shape (n, 2), y not of length n, NaN or inf in X, fewer than 2 classes.

    Examples
    --------
    >>> data = user_data([[0, 0], [1, 1], [2, 0]], ["a", "b", "a"])
    >>> data.y.tolist(), data.classes
    ([0, 1, 0], ['a', 'b'])
    """
    X = np.asarray(X, dtype=np.float64)
    labels = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"playground: X must have shape (n_samples, 2), got {X.shape}")
    if labels.shape != (X.shape[0],):
        raise ValueError(
            f"playground: y must have shape ({X.shape[0]},) like X's rows, got {labels.shape}"
        )
    if not np.isfinite(X).all():
        rows = np.flatnonzero(~np.isfinite(X).all(axis=1))[:10].tolist()
        raise ValueError(f"playground: X contains NaN or inf at rows {rows}")
    classes, codes = np.unique(labels, return_inverse=True)
    if classes.size < 2:
        raise ValueError(f"playground: y must hold at least 2 classes, got {classes.tolist()}")
    return PlaygroundData(X, codes.astype(np.int64), classes.tolist(), name)


def split(
    data: PlaygroundData, test_fraction: float, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(training rows, test rows): a random, seeded split, each class on both sides.

    Raises
    ------
    ValueError
        ``test_fraction`` outside [0.1, 0.9].

    Examples
    --------
    >>> train, test = split(make_data("circles", 100), 0.3)
    >>> len(train), len(test), len(set(train) & set(test))
    (70, 30, 0)
    """
    if not 0.1 <= test_fraction <= 0.9:
        raise ValueError(f"playground: test_fraction must be in [0.1, 0.9], got {test_fraction}")
    rng = np.random.default_rng(seed)
    test_rows = []
    for label in range(data.n_classes):
        rows = rng.permutation(np.flatnonzero(data.y == label))
        take = int(round(test_fraction * rows.size))
        test_rows.append(rows[: min(max(take, 1), rows.size - 1)])
    test = np.sort(np.concatenate(test_rows))
    train = np.setdiff1d(np.arange(data.y.size), test)
    return train, test
