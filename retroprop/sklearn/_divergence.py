"""A fit whose weights became NaN or inf, as scikit-learn's MLP reports it.

scikit-learn raises ``ValueError("Solver produced non-finite parameter weights...")`` when
the weights it ends with are not finite, and with early stopping goes on with a NaN
validation score. The estimators do the same from retroprop's :class:`DivergenceError`
(which names the epoch, the batch and the first layer with a non-finite value):

- without a validation set, :class:`FitDivergedError` (a ValueError and a DivergenceError),
  which ``GridSearchCV`` and ``cross_validate`` treat like any failed fit (``error_score``);
- with ``early_stopping``, the diverging epoch gets a NaN validation loss and score, the
  weights of the best validation epoch are kept, and a ConvergenceWarning says so.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from retroprop.training.guard import DivergenceError

__all__ = ["FitDivergedError", "after_divergence", "check_finite_weights"]

NON_FINITE = (
    "Solver produced non-finite parameter weights. The input data may contain large values "
    "and need to be preprocessed."
)


class FitDivergedError(DivergenceError, ValueError):
    """A fit whose weights became NaN or inf: a ValueError, as scikit-learn raises it."""


def after_divergence(estimator: Any, error: DivergenceError, with_validation: bool) -> None:
    """Record a diverged run on ``estimator`` as scikit-learn would, or raise.

    Raises
    ------
    FitDivergedError
        Without a validation set: scikit-learn's message, then retroprop's diagnosis.
    """
    if not with_validation:
        raise FitDivergedError(f"{NON_FINITE} retroprop: {error}") from error
    estimator.validation_loss_curve_.append(float("nan"))
    estimator.validation_scores_.append(float("nan"))
    warnings.warn(
        f"Training diverged and stopped: {error} The weights of the best validation epoch "
        "are kept.",
        ConvergenceWarning,
        stacklevel=5,
    )


def check_finite_weights(model: Any) -> None:
    """Raise :class:`FitDivergedError` unless every parameter of ``model`` is finite."""
    if not all(np.isfinite(p.data).all() for p in model.parameters()):
        raise FitDivergedError(NON_FINITE)
