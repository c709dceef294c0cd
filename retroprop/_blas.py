"""``axpy``: y += alpha * x, and ``axpby``: y = alpha * x + beta * y, in one pass, by the BLAS
NumPy already loaded, or by NumPy; and ``gemm`` with ``beta``, which NumPy's ``matmul`` does not
offer: C = alpha * A^T @ B + beta * C, a weight update inside the weight-gradient product.

An update ``p -= lr * g`` written with NumPy reads g, writes a temporary, reads it and p, and
writes p; BLAS ``axpy`` reads g and p once and writes p, with no temporary. NumPy's wheels ship
OpenBLAS (``scipy-openblas``) and load it on import; its ``cblas_?axpy`` (and OpenBLAS's
``cblas_?axpby``, a running average's update in one pass) is found once with
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

__all__ = ["axpby", "axpy", "blas_axpby", "blas_axpy", "blas_gemm", "gemm_tn", "gemm_tn_at"]

_Kernel = Callable[..., None]


def _bind(
    library: Any, prefix: str, suffix: str, integer: Any
) -> dict[tuple[str, np.dtype], _Kernel]:
    """The library's ?axpy and ?axpby under one naming, typed for ctypes: (n, alpha, x, incx,
    [beta,] y, incy)."""
    found = {}
    for char, dtype, scalar in (
        ("s", np.float32, ctypes.c_float),
        ("d", np.float64, ctypes.c_double),
    ):
        for name in ("axpy", "axpby"):
            kernel = getattr(library, f"{prefix}{char}{name}{suffix}", None)
            if kernel is None:
                continue
            beta = [scalar] if name == "axpby" else []
            kernel.restype = None
            kernel.argtypes = [
                integer,
                scalar,
                ctypes.c_void_p,
                integer,
                *beta,
                ctypes.c_void_p,
                integer,
            ]
            found[name, np.dtype(dtype)] = kernel
        kernel = getattr(library, f"{prefix}{char}gemm{suffix}", None)
        if kernel is not None:
            # (order, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)
            address = ctypes.c_void_p
            kernel.restype = None
            kernel.argtypes = [ctypes.c_int] * 3 + [integer] * 3 + [scalar, address, integer]
            kernel.argtypes += [address, integer, scalar, address, integer]
            found["gemm", np.dtype(dtype)] = kernel
    return found


def _find_kernels() -> dict[tuple[str, np.dtype], _Kernel]:
    """The ``cblas_?axpy``/``cblas_?axpby`` of the OpenBLAS inside NumPy's wheel, if any."""
    root = os.path.dirname(os.path.dirname(np.__file__))
    candidates = glob.glob(os.path.join(root, "numpy.libs", "libscipy_openblas*"))
    candidates += glob.glob(os.path.join(os.path.dirname(np.__file__), ".dylibs", "*openblas*"))
    for path in candidates:
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for suffix, integer in (("64_", ctypes.c_int64), ("", ctypes.c_int)):
            found = _bind(library, "scipy_cblas_", suffix, integer)
            if ("axpy", np.dtype(np.float32)) in found:
                return found
    return {}


_KERNELS: dict[tuple[str, np.dtype], _Kernel] | None = None
# Below this many values the call through ctypes costs more than NumPy's two passes (a bias).
_SMALL = 4096


def _kernel(name: str, dtype: np.dtype) -> _Kernel | None:
    global _KERNELS
    if _KERNELS is None:
        _KERNELS = _find_kernels()
    return _KERNELS.get((name, dtype))


def blas_axpy(dtype: np.dtype) -> _Kernel | None:
    """The BLAS axpy kernel for ``dtype`` (float32 or float64), or None without one."""
    return _kernel("axpy", dtype)


def blas_axpby(dtype: np.dtype) -> _Kernel | None:
    """The BLAS axpby kernel for ``dtype`` (float32 or float64), or None without one."""
    return _kernel("axpby", dtype)


def blas_gemm(dtype: np.dtype) -> _Kernel | None:
    """The CBLAS gemm kernel for ``dtype`` (float32 or float64), or None without one."""
    return _kernel("gemm", dtype)


# CBLAS's enumerations: row-major storage, A or A^T.
ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112


def gemm_tn(alpha: float, a: np.ndarray, b: np.ndarray, beta: float, c: np.ndarray) -> bool:
    """c = alpha * a.T @ b + beta * c, in place, by BLAS; False (nothing done) without it.

    One product that adds into ``c``: with ``a`` a layer's inputs, ``b`` its delta and ``c``
    its weights, SGD's ``W <- (1 - lr * wd) W - lr * a^T delta`` in the weight-gradient
    product itself, with no gradient array written and read back.

    Parameters
    ----------
    alpha, beta : float
    a : ndarray, shape (n, k)
    b : ndarray, shape (n, m)
    c : ndarray, shape (k, m)
        Updated in place. All three C-contiguous, of one dtype (float32 or float64).

    Returns
    -------
    bool
        Whether BLAS did it (False: no BLAS kernel, or arrays it may not be given as they are).

    Examples
    --------
    >>> a, b = np.ones((2, 3)), np.full((2, 1), 0.5)
    >>> c = np.ones((3, 1))
    >>> done = gemm_tn(-1.0, a, b, 1.0, c)
    >>> (c.ravel() if done else 1.0 - a.T @ b).ravel().tolist()
    [0.0, 0.0, 0.0]
    """
    kernel = blas_gemm(c.dtype)
    if (
        kernel is None
        or not (a.dtype == b.dtype == c.dtype)
        or not (a.flags.c_contiguous and b.flags.c_contiguous and c.flags.c_contiguous)
        or not c.flags.writeable
    ):
        return False
    (n, k), m = a.shape, b.shape[1]
    if b.shape[0] != n or c.shape != (k, m):
        raise ValueError(f"gemm_tn: shapes {a.shape}, {b.shape} and {c.shape} do not match")
    gemm_tn_at(kernel, n, k, m, alpha, a.ctypes.data, b.ctypes.data, beta, c.ctypes.data)
    return True


def gemm_tn_at(
    kernel: _Kernel, n: int, k: int, m: int, alpha: float, a: int, b: int, beta: float, c: int
) -> None:
    """:func:`gemm_tn` on raw addresses: c (k, m) = alpha * a (n, k).T @ b (n, m) + beta * c,
    all C-contiguous of the kernel's dtype, unchecked.

    For a caller that makes the same product on the same buffers every step and keeps their
    addresses (reading an array's address costs more than a small product's arithmetic).
    """
    kernel(
        ROW_MAJOR, TRANS, NO_TRANS, k, m, n, alpha, a, max(k, 1), b, max(m, 1), beta, c, max(m, 1)
    )


def _blas_ready(x: np.ndarray, y: np.ndarray) -> bool:
    """Whether x and y are arrays BLAS may read and write directly (large, same layout)."""
    return (
        type(x) is np.ndarray
        and type(y) is np.ndarray
        and x.dtype == y.dtype
        and y.size >= _SMALL
        and x.shape == y.shape
        and x.flags.c_contiguous
        and y.flags.c_contiguous
        and y.flags.writeable
    )


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
    kernel = blas_axpy(y.dtype) if _blas_ready(x, y) else None
    if kernel is None:
        y += alpha * x
        return
    kernel(y.size, alpha, x.ctypes.data, 1, y.ctypes.data, 1)


def axpby(alpha: float, x: np.ndarray, beta: float, y: np.ndarray) -> None:
    """y = alpha * x + beta * y, in place: a running average's update (Adam's moments).

    BLAS ``axpby`` (OpenBLAS) for large contiguous float32/float64 arrays: one pass; else
    NumPy, ``y *= beta`` then ``y += alpha * x``.

    Parameters
    ----------
    alpha, beta : float
    x, y : ndarray
        Same shape; ``y`` is updated in place.

    Examples
    --------
    >>> y = np.ones(3, dtype=np.float32)
    >>> axpby(0.5, np.array([2.0, 4.0, 6.0], dtype=np.float32), 0.5, y)
    >>> y
    array([1.5, 2.5, 3.5], dtype=float32)
    """
    kernel = blas_axpby(y.dtype) if _blas_ready(x, y) else None
    if kernel is None:
        np.multiply(y, beta, out=y)
        y += alpha * x
        return
    kernel(y.size, alpha, x.ctypes.data, 1, beta, y.ctypes.data, 1)
