"""Sparse input (``scipy.sparse`` CSR/CSC) for the estimators, never densified as a whole.

Only the first layer sees X. Its product z = X @ W + b and its weight gradient
dJ/dW = X^T delta are computed by scipy.sparse (:class:`SparseMatmul`); X gets no gradient,
and everything after the first layer is dense, as scikit-learn does it.

The training loop (a ``Trainer``) batches dense arrays, so a sparse X is handed to it as one
column of row numbers: :func:`sparse_network` puts a :class:`SparseRowsLinear` in front of the
estimator's network, which takes a batch of row numbers, gathers those rows of the sparse
matrix and multiplies. It shares the first Linear's parameters and carries the same
``state_dict`` keys, so the optimiser, early stopping and saved states see the estimator's own
network.

scipy is imported lazily: ``import retroprop`` imports NumPy only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from retroprop.function import Function
from retroprop.grad_mode import no_grad
from retroprop.nn.container import Sequential
from retroprop.nn.linear import Linear
from retroprop.nn.module import Module
from retroprop.tensor import Tensor

__all__ = [
    "SparseMatmul",
    "SparseRowsLinear",
    "is_sparse",
    "row_numbers",
    "sparse_network",
    "network_and_inputs",
    "sparse_forward",
]

# Row numbers travel through the Trainer in the network's dtype: float32 counts exactly to 2**24.
_EXACT_ROWS = {np.dtype(np.float32): 2**24, np.dtype(np.float64): 2**53}


def is_sparse(X: Any) -> bool:
    """Whether ``X`` is a scipy.sparse matrix or array (without importing scipy)."""
    return hasattr(X, "tocsr") and hasattr(X, "nnz")


class SparseMatmul(Function):
    """z = X @ W for a constant sparse X (n, in) and W (in, out);  dJ/dW = X^T delta.

    X is a constant (no gradient): only W's gradient is computed, as a sparse-dense product.
    """

    @staticmethod
    def forward(ctx: Function, weight: np.ndarray, rows: Any) -> np.ndarray:
        ctx.rows = rows
        return np.asarray(rows @ weight, dtype=weight.dtype)

    @staticmethod
    def backward(ctx: Function, grad_output: np.ndarray) -> Any:
        rows = ctx.rows
        grad_weight = np.asarray(rows.T @ grad_output, dtype=grad_output.dtype)
        return grad_weight, None


class SparseRowsLinear(Module):
    """The first Linear layer, fed row numbers of a sparse matrix instead of the rows.

    Parameters
    ----------
    linear : Linear
        The layer whose ``weight`` (in, out) and ``bias`` (out,) are shared, not copied.
    matrix : scipy.sparse matrix of shape (n_samples, in)
        The whole training X, in CSR (row slicing is cheap there).

    The input is a tensor of shape (batch, 1) holding row numbers; the output is
    z = X[rows] @ W + b, shape (batch, out).
    """

    in_features = 1  # the width of its input: one column of row numbers

    def __init__(self, linear: Linear, matrix: Any) -> None:
        super().__init__()
        self.weight = linear.weight
        self.bias = linear.bias
        self.matrix = matrix.tocsr()

    def forward(self, rows: Any) -> Tensor:
        numbers = np.asarray(rows.data if isinstance(rows, Tensor) else rows).ravel()
        batch = self.matrix[numbers.astype(np.intp)]
        z = SparseMatmul.apply(self.weight, batch)
        return z if self.bias is None else z + self.bias


def row_numbers(n_rows: int, dtype: Any) -> np.ndarray:
    """The column of row numbers 0..n-1, shape (n, 1), that stands for a sparse X in ``fit``.

    Raises
    ------
    ValueError
        When ``dtype`` cannot count that many rows exactly (float32: 2**24).
    """
    limit = _EXACT_ROWS[np.dtype(dtype)]
    if n_rows > limit:
        raise ValueError(
            f"sparse X has {n_rows} rows, more than {dtype} counts exactly ({limit}); "
            "set dtype='float64'"
        )
    return np.arange(n_rows, dtype=dtype).reshape(-1, 1)


def sparse_network(model: Sequential, matrix: Any) -> Sequential:
    """``model`` with its first Linear fed by row numbers of ``matrix`` (shared parameters)."""
    layers = list(model)
    return Sequential(SparseRowsLinear(layers[0], matrix), *layers[1:]).train(model.training)


def network_and_inputs(model: Sequential, X: Any, dtype: Any) -> tuple[Any, np.ndarray]:
    """The network to train and what it takes: ``model`` and X, or for a sparse X a network
    fed by row numbers (sharing ``model``'s parameters) and those numbers in ``dtype``."""
    if not is_sparse(X):
        return model, X
    return sparse_network(model, X), row_numbers(X.shape[0], dtype)


def sparse_forward(model: Sequential, X: Any) -> np.ndarray:
    """The outputs of ``model`` (eval mode, no graph) for a sparse X, in the model's dtype."""
    layers = list(model)
    first = layers[0]
    dtype = first.weight.data.dtype
    hidden = np.asarray(X.tocsr() @ first.weight.data, dtype=dtype)
    if first.bias is not None:
        hidden += first.bias.data
    output = Tensor(hidden)
    with no_grad():
        for layer in layers[1:]:
            output = layer(output)
    return output.data
