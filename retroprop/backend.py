"""The array module behind a tensor: NumPy today, CuPy (or any NumPy-like module) tomorrow.

Ops compute with NumPy's functions, which dispatch to the array's own module through
``__array_ufunc__`` / ``__array_function__``; only code that *creates* arrays needs the module
itself, and asks :func:`array_module` for it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import numpy as np

__all__ = ["array_module", "is_floating"]


def array_module(array: object) -> ModuleType:
    """Return the array module (``numpy``, ``cupy``, ...) that owns ``array``.

    Parameters
    ----------
    array : array-like
        An array or scalar.

    Returns
    -------
    module
        ``numpy`` for NumPy arrays, scalars and Python numbers; otherwise the top-level
        module that defines the array's type.

    Examples
    --------
    >>> array_module(np.zeros(3)).__name__
    'numpy'
    """
    if type(array) is np.ndarray:
        return np
    root = type(array).__module__.split(".", 1)[0]
    if root in ("numpy", "builtins"):
        return np
    return importlib.import_module(root)


def is_floating(dtype: np.dtype) -> bool:
    """Whether ``dtype`` is a real floating-point type (float16, float32, float64, ...).

    Examples
    --------
    >>> is_floating(np.dtype(np.float32)), is_floating(np.dtype(np.int64))
    (True, False)
    """
    return np.dtype(dtype).kind == "f"
