"""``MLPRegressor(loss="poisson")``: half the Poisson deviance, with the exponential link.

The network outputs z, the prediction is mu = exp(z) (scikit-learn's ``out_activation_ =
"exp"``), and the loss per example is half the Poisson deviance summed over the targets,
scikit-learn's ``poisson_loss``::

    l(y, z) = sum_k [ y_k log(y_k / mu_k) - y_k + mu_k ]
            = sum_k [ exp(z_k) - y_k z_k ] + sum_k [ y_k log y_k - y_k ]   (0 log 0 = 0)

so that dl/dz = exp(z) - y = mu - y: the canonical link, like the sigmoid with cross-entropy.
The second sum does not depend on z; it makes the loss 0 at a perfect fit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from retroprop.tensor import Tensor

__all__ = ["poisson_loss", "check_poisson_targets"]


def poisson_loss(output: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Half the Poisson deviance of mu = exp(output) against ``target``, summed over targets.

    Parameters
    ----------
    output : Tensor of shape (n_samples, n_targets)
        The logs of the predicted means, z.
    target : ndarray of shape (n_samples, n_targets)
        Non-negative counts (or rates).
    reduction : {"mean", "sum", "none"}
        Over the rows: their mean, their sum, or one value per row.

    Returns
    -------
    Tensor
        A scalar, or shape (n_samples,) for "none".

    Examples
    --------
    >>> z = rp.Tensor(np.log(np.array([[2.0], [3.0]])), requires_grad=True)
    >>> round(poisson_loss(z, np.array([[2.0], [3.0]])).item(), 12)  # a perfect fit
    0.0
    >>> loss = poisson_loss(z, np.array([[1.0], [3.0]]))
    >>> loss.backward()
    >>> np.round(z.grad.ravel(), 12).tolist()  # (mu - y) / n
    [0.5, 0.0]
    """
    target = np.asarray(target, dtype=output.data.dtype)
    constant = np.sum(_xlogx(target) - target, axis=1)
    per_example = (output.exp() - output * target).sum(axis=1) + constant
    if reduction == "none":
        return per_example
    if reduction == "sum":
        return per_example.sum()
    if reduction == "mean":
        return per_example.mean()
    raise ValueError(f"poisson_loss: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _xlogx(values: np.ndarray) -> np.ndarray:
    positive = values > 0
    return np.where(positive, values * np.log(np.where(positive, values, 1)), 0)


def check_poisson_targets(y: np.ndarray) -> None:
    """Raise scikit-learn's error when ``y`` has a negative value (the Poisson loss needs y >= 0).

    Raises
    ------
    ValueError
        Naming the first negative value and its row.
    """
    negative = np.flatnonzero(np.asarray(y).reshape(len(y), -1).min(axis=1) < 0)
    if negative.size:
        raise ValueError(
            "Some value(s) of y are negative which is not allowed for Poisson regression "
            f"(loss='poisson'): first at row {int(negative[0])}"
        )
