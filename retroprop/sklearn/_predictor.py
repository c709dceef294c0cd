"""The float64 copy of a network that the estimators predict with.

A float32 matrix product rounds each row differently depending on the other rows of the batch
(how BLAS blocks the work), so the same row can get outputs that differ in the 7th digit when
predicted alone, in another batch or in another order. scikit-learn asks an estimator's
predictions not to depend on that; in float64 the differences fall to ~1e-16. The copy is
built once per fit and refreshed from the trained float32 weights at each prediction.
"""

from __future__ import annotations

from typing import Any

from retroprop.nn import utils

__all__ = ["float64_copy"]


def float64_copy(model: Any) -> Any:
    """A float64 copy of ``model`` (:func:`retroprop.nn.utils.float64_copy`), in eval mode.

    The estimator refreshes its weights from the trained model at each prediction.
    """
    return utils.float64_copy(model).eval()
