"""What the three boundary-value test files share: the dtypes, the tolerance per dtype, the
comparison, and running a computation with every warning an error."""

from __future__ import annotations

import math
import warnings

import numpy as np

try:
    import torch
except ImportError:  # pragma: no cover - the oracle is optional
    torch = None

INF, NAN = math.inf, math.nan
LN2 = math.log(2)
DTYPES = [np.float16, np.float32, np.float64, np.longdouble]
W = "nan, with NumPy's invalid-value warning"  # the math has no value here


def tolerance(dtype) -> float:
    """The relative tolerance of a result in ``dtype`` (about 2 units of its last place)."""
    return {2: 2e-3, 4: 2e-6}.get(np.dtype(dtype).itemsize, 1e-12)


def check(actual, expected, dtype, what):
    """``actual`` equals ``expected`` to ``dtype``'s tolerance (NaN equals NaN; compared in
    float64, or in longdouble for longdouble)."""
    wide = np.longdouble if np.dtype(dtype) == np.longdouble else np.float64
    np.testing.assert_allclose(
        np.asarray(actual).astype(wide),
        np.asarray(expected).astype(wide),
        rtol=tolerance(dtype),
        atol=0,
        equal_nan=True,
        err_msg=what,
    )


def silently(fn):
    """``fn()`` with every warning raised as an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fn()
