"""``axpy``: y += alpha * x in one pass, by the BLAS NumPy already loaded, or by NumPy.

An update ``p -= lr * g`` written with NumPy reads g, writes a temporary, reads it and p, and
writes p; BLAS ``axpy`` reads g and p once and writes p, with no temporary. NumPy's wheels ship
OpenBLAS (``scipy-openblas``) and load it on import; its ``cblas_?axpy`` is found once with
``ctypes`` (no import of SciPy, which would cost more than an epoch of a small model). Where it
is not there (another build of NumPy, another platform), the NumPy form is used.

The two forms may differ in the last bit (BLAS fuses the multiply and the add, as its matrix
products already do): results are the same for a seed on one installation, as they always were
(a matrix product's last bits already depend on the BLAS and the CPU).
"""

from __future__ import annotations

import ctypes
import glob
import os
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["axpy", "blas_axpy"]

_Kernel = Callable[[Any, Any, Any, Any, Any, Any], None]


def _find_kernels() -> dict[np.dtype, _Kernel]:
    """The ``cblas_saxpy``/``cblas_daxpy`` of the OpenBLAS inside NumPy's wheel, if any."""
    root = os.path.dirname(os.path.dirname(np.__file__))
    candidates = glob.glob(os.path.join(root, "numpy.libs", "libscipy_openblas*"))
    candidates += glob.glob(os.path.join(os.path.dirname(np.__file__), ".dylibs", "*openblas*"))
    for path in candidates:
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix, integer in (
            ("scipy_cblas_", "64_", ctypes.c_int64),
            ("scipy_cblas_", "", ctypes.c_int),
        ):
            try:
                single = getattr(library, f"{prefix}saxpy{suffix}")
                double = getattr(library, f"{prefix}daxpy{suffix}")
            except AttributeError:
                continue
            single.restype = double.restype = None
            single.argtypes = [integer, ctypes.c_float, ctypes.c_void_p, integer]
            single.argtypes += [ctypes.c_void_p, integer]
            double.argtypes = [integer, ctypes.c_double, ctypes.c_void_p, integer]
            double.argtypes += [ctypes.c_void_p, integer]
            return {np.dtype(np.float32): single, np.dtype(np.float64): double}
    return {}


_KERNELS: dict[np.dtype, _Kernel] | None = None
# Below this many values the call through ctypes costs more than NumPy's two passes (a bias).
_SMALL = 4096


def blas_axpy(dtype: np.dtype) -> _Kernel | None:
    """The BLAS axpy kernel for ``dtype`` (float32 or float64), or None without one."""
    global _KERNELS
    if _KERNELS is None:
        _KERNELS = _find_kernels()
    return _KERNELS.get(dtype)


def axpy(alpha: float, x: np.ndarray, y: np.ndarray) -> None:
    """y += alpha * x, in place: BLAS axpy for large contiguous float32/float64 arrays, else NumPy.

    Parameters
    ----------
    alpha : float
    x, y : ndarray
        Same shape; ``y`` is updated in place.

    Examples
    --------
    >>> y = np.ones(3, dtype=np.float32)
    >>> axpy(-0.5, np.array([2.0, 4.0, 6.0], dtype=np.float32), y)
    >>> y
    array([ 0., -1., -2.], dtype=float32)
    """
    kernel = blas_axpy(y.dtype) if x.dtype == y.dtype and y.size >= _SMALL else None
    if (
        kernel is None
        or type(x) is not np.ndarray
        or type(y) is not np.ndarray
        or x.shape != y.shape
        or not (x.flags.c_contiguous and y.flags.c_contiguous and y.flags.writeable)
    ):
        y += alpha * x
        return
    kernel(y.size, alpha, x.ctypes.data, 1, y.ctypes.data, 1)
