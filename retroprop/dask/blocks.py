"""``fit_blocks``: an estimator's ``partial_fit`` over the blocks of a Dask array or dataframe.

Each epoch visits the blocks (row chunks of an array, partitions of a dataframe) in a seeded
random order and computes ONE block at a time (its X and y together), shuffles its rows with the
same generator, and hands them to ``estimator.partial_fit``: memory holds one block, never the
whole array. A classifier is told every class on its first call: given as ``classes=`` or found
first by a pass over ``y`` that keeps only each block's distinct values.

Why not ``dask_ml.wrappers.Incremental``: dask-ml 2025.1 pulls numba and llvmlite (hundreds of
megabytes) for what is a loop of a dozen lines here, and its searches fail with the current Dask
(issue 17); this helper needs Dask alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["fit_blocks"]


def _is_array(collection: Any) -> bool:
    import dask.array as da

    return isinstance(collection, da.Array)


def _is_dataframe(collection: Any) -> bool:
    return hasattr(collection, "npartitions") and not _is_array(collection)


def _row_blocks(X: Any, y: Any) -> tuple[Any, Any, int]:
    """(X, y, number of blocks) with X chunked along rows only and y chunked like X's rows.

    Raises
    ------
    TypeError
        X is neither a Dask array nor a Dask dataframe, or y is not of the same family.
    ValueError
        X and y split their rows into different numbers of partitions, or X is not 2-D.
    """
    if _is_dataframe(X):
        if not hasattr(y, "npartitions"):
            raise TypeError(f"X is a Dask dataframe, so y must be a Dask series, not {type(y)}")
        if X.npartitions != y.npartitions:
            raise ValueError(
                f"X has {X.npartitions} partitions but y has {y.npartitions}: they must be "
                "split alike (take y from the same dataframe as X)"
            )
        return X, y, int(X.npartitions)
    if not _is_array(X):
        raise TypeError(f"X must be a Dask array or dataframe, not {type(X).__name__}")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (rows, features), got {X.ndim}-D of shape {X.shape}")
    if not _is_array(y):
        raise TypeError(f"X is a Dask array, so y must be one too, not {type(y).__name__}")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]}")
    if X.numblocks[1] > 1:  # one block = whole rows
        X = X.rechunk({1: -1})
    if y.chunks[0] != X.chunks[0]:
        y = y.rechunk({0: X.chunks[0]})
    return X, y, int(X.numblocks[0])


def _block(collection: Any, index: int) -> Any:
    return collection.blocks[index] if _is_array(collection) else collection.partitions[index]


def _blocks(X: Any, y: Any, order: np.ndarray) -> Iterator[tuple[Any, Any]]:
    """(X block, y block) as NumPy/pandas, computed together, one block at a time."""
    import dask

    for index in order:
        yield dask.compute(_block(X, int(index)), _block(y, int(index)))


def _classes(y: Any) -> np.ndarray:
    """Every class in ``y``: the distinct values of each block, merged (never y whole)."""
    import dask
    import dask.array as da

    values = da.unique(y) if _is_array(y) else y.unique()
    return np.unique(np.asarray(dask.compute(values)[0]))


def fit_blocks(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    epochs: int = 1,
    shuffle: bool = True,
    random_state: int | None = None,
    classes: Any = None,
) -> Any:
    """Train ``estimator`` on a Dask array or dataframe by ``partial_fit``, block by block.

    Parameters
    ----------
    estimator : estimator with ``partial_fit``
        retroprop's ``MLPClassifier`` / ``MLPRegressor`` (or any scikit-learn estimator
        with ``partial_fit``); each call trains it on one block (for retroprop's, one epoch
        over the block's rows).
    X : dask.array.Array of shape (n_samples, n_features), or dask.dataframe.DataFrame
        Row blocks (array chunks along axis 0, or dataframe partitions) are the units computed.
    y : dask.array.Array of shape (n_samples,), or dask.dataframe.Series
        Split into the same row blocks as ``X`` (an array is rechunked to match).
    epochs : int
        Passes over all the blocks.
    shuffle : bool
        Visit the blocks in a new random order each epoch and shuffle each block's rows.
    random_state : int, optional
        Seed of that order and shuffling.
    classes : array-like, optional
        A classifier's classes; default: the distinct values of ``y`` (one extra pass that
        keeps only each block's distinct values).

    Returns
    -------
    estimator
        The same estimator, trained.

    Raises
    ------
    TypeError, ValueError
        X or y is not a Dask collection of the same family, or they are split differently;
        ``epochs`` is not a whole number >= 1.

    Examples
    --------
    >>> import dask, dask.array as da
    >>> from retroprop.sklearn import MLPClassifier
    >>> X = da.from_array(np.random.default_rng(0).normal(size=(200, 2)), chunks=(50, 2))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> model = MLPClassifier(hidden_layer_sizes=(8,), learning_rate_init=0.05, random_state=0)
    >>> with dask.config.set(scheduler="synchronous"):
    ...     model = fit_blocks(model, X, y, epochs=20, random_state=0)
    >>> model.classes_.tolist(), model.score(X.compute(), y.compute()) > 0.9
    ([0, 1], True)
    """
    from sklearn.base import is_classifier

    if isinstance(epochs, bool) or not isinstance(epochs, int | np.integer) or epochs < 1:
        raise ValueError(f"epochs must be a whole number >= 1, got {epochs!r}")
    X, y, n_blocks = _row_blocks(X, y)
    keywords: dict[str, Any] = {}
    if is_classifier(estimator):
        keywords["classes"] = _classes(y) if classes is None else np.asarray(classes)
    rng = np.random.default_rng(random_state)
    for _ in range(int(epochs)):
        order = rng.permutation(n_blocks) if shuffle else np.arange(n_blocks)
        for X_block, y_block in _blocks(X, y, order):
            X_block, y_block = np.asarray(X_block), np.asarray(y_block)
            if shuffle:
                rows = rng.permutation(len(X_block))
                X_block, y_block = X_block[rows], y_block[rows]
            estimator.partial_fit(X_block, y_block, **keywords)
    return estimator
