"""Running a model for its answers, not for training: the one helper every caller uses.

Validation, prediction, diagnostics and reports all need the same four steps: switch the model
to evaluation mode (Dropout off, BatchNorm1d on its running statistics), record no graph, run the
forward pass (in chunks of rows, so that a large table never needs one huge activation), and put
every module back in the mode it was in. :func:`evaluating` is the context for the first, second
and last step; :func:`predict` and :func:`iter_outputs` add the chunked forward pass.

>>> model = nn.Sequential(nn.Linear(2, 3), nn.Dropout(0.5), nn.Linear(3, 1))
>>> predict(model, np.ones((5, 2), np.float32)).shape
(5, 1)
>>> model.training  # restored
True
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from retroprop.grad_mode import no_grad
from retroprop.tensor import Tensor

__all__ = ["in_mode", "evaluating", "iter_outputs", "predict", "DEFAULT_CHUNK_ROWS"]

DEFAULT_CHUNK_ROWS = 8192


@contextmanager
def in_mode(model: Any, training: bool) -> Iterator[Any]:
    """Training (``training=True``) or evaluation mode inside the block; each module's own mode
    restored after, even when they differed (a frozen BatchNorm1d inside a training model stays
    in eval mode) and even when the block raises.

    Parameters
    ----------
    model : Module
    training : bool
        The mode of every module inside the block.
    """
    modes = [(module, module.training) for module in model.modules()]
    model.train(training)
    try:
        yield model
    finally:
        for module, mode in modes:
            object.__setattr__(module, "training", mode)


@contextmanager
def evaluating(model: Any) -> Iterator[Any]:
    """Evaluation mode and no graph inside the block; each module's own mode restored after.

    Parameters
    ----------
    model : Module
        The model to run (see :func:`in_mode` for how modes come back).
    """
    with in_mode(model, False), no_grad():
        yield model


def iter_outputs(
    model: Any, X: np.ndarray, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> Iterator[tuple[slice, Tensor]]:
    """Yield ``(rows, output)`` for consecutive chunks of ``X``: evaluation mode, no graph.

    Parameters
    ----------
    model : Module
    X : ndarray of shape (n_samples, ...)
        Already validated input in the model's dtype.
    chunk_rows : int
        Rows per forward pass.

    Yields
    ------
    rows : slice
        The rows of ``X`` this chunk covers.
    output : Tensor of shape (len(rows), ...)
        The model's output for them.
    """
    with evaluating(model):
        for start in range(0, X.shape[0], chunk_rows):
            rows = slice(start, min(start + chunk_rows, X.shape[0]))
            yield rows, model(Tensor(X[rows]))


def predict(model: Any, X: np.ndarray, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> np.ndarray:
    """The model's raw outputs on ``X`` (evaluation mode, no graph, chunked), as one array.

    Parameters
    ----------
    model : Module
    X : ndarray of shape (n_samples, ...)
        Already validated input in the model's dtype.
    chunk_rows : int
        Rows per forward pass.

    Returns
    -------
    ndarray of shape (n_samples, ...)
        The outputs, in the model's dtype.
    """
    chunks = [output.data for _, output in iter_outputs(model, X, chunk_rows)]
    if not chunks:
        with evaluating(model):
            return model(Tensor(X)).data
    return np.concatenate(chunks)
