"""The float64 copy of a network that the estimators predict with.

A float32 matrix product rounds each row differently depending on the other rows of the batch
(how BLAS blocks the work), so the same row can get outputs that differ in the 7th digit when
predicted alone, in another batch or in another order. scikit-learn asks an estimator's
predictions not to depend on that; in float64 the differences fall to ~1e-16. The copy is
built once per fit and refreshed from the trained float32 weights at each prediction.
"""

from __future__ import annotations

import warnings
from typing import Any

from retroprop.nn.config import module_from_config, module_to_config

__all__ = ["float64_copy"]


def float64_copy(model: Any) -> Any:
    """A float64 network of ``model``'s architecture, in eval mode (weights loaded on use)."""
    config = _with_dtype(module_to_config(model), "float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. init="zeros" warns again when rebuilt
        copy = module_from_config(config)
    copy.load_state_dict(model.state_dict())
    return copy.eval()


def _with_dtype(config: Any, dtype: str) -> Any:
    if isinstance(config, dict):
        return {k: dtype if k == "dtype" else _with_dtype(v, dtype) for k, v in config.items()}
    if isinstance(config, list):
        return [_with_dtype(item, dtype) for item in config]
    return config
