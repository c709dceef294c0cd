"""``axpy`` (y += alpha * x) and ``axpby`` (y = alpha * x + beta * y) in place, by BLAS where
it can, by NumPy elsewhere; same values."""

from __future__ import annotations

import numpy as np
import pytest

from retroprop._blas import _SMALL, axpby, axpy, blas_axpby, blas_axpy, blas_gemm, gemm_tn


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [3, _SMALL, 3 * _SMALL + 1])
def test_axpy_updates_in_place_as_numpy_does(dtype, size):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(size).astype(dtype)
    y = rng.standard_normal(size).astype(dtype)
    expected = y + dtype(-0.01) * x
    target = y
    axpy(-0.01, x, y)
    assert y is target and y.dtype == dtype
    # one rounding apart (BLAS may fuse the multiply and the add): a few ulps of the operands
    ulps = 4 * np.finfo(dtype).eps * (np.abs(expected) + np.abs(x) * 0.01 + 1e-30)
    assert (np.abs(y - expected) <= ulps + np.abs(expected) * np.finfo(dtype).eps).all()


def test_axpy_on_views_and_mixed_dtypes_falls_back_to_numpy():
    y = np.zeros((2 * _SMALL, 2), dtype=np.float32)
    column = y[:, 0]  # not contiguous: BLAS is not given it
    axpy(2.0, np.ones(2 * _SMALL, dtype=np.float32), column)
    assert (y[:, 0] == 2).all() and (y[:, 1] == 0).all()
    wide = np.zeros(_SMALL, dtype=np.float64)
    axpy(0.5, np.ones(_SMALL, dtype=np.float32), wide)
    assert (wide == 0.5).all()


def test_the_blas_kernel_is_found_in_numpys_openblas_wheel():
    config = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    if "openblas" not in config.get("name", "") or not config.get("found", True):
        pytest.skip("NumPy is not built with OpenBLAS here")
    assert blas_axpy(np.dtype(np.float32)) is not None
    assert blas_axpy(np.dtype(np.float64)) is not None
    assert blas_axpby(np.dtype(np.float32)) is not None
    assert blas_axpby(np.dtype(np.float64)) is not None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [3, 3 * _SMALL + 1])
def test_axpby_is_a_running_average_update_in_place(dtype, size):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(size).astype(dtype)
    y = rng.standard_normal(size).astype(dtype)
    expected = dtype(0.9) * y + dtype(0.1) * x
    target = y
    axpby(0.1, x, 0.9, y)
    assert y is target and y.dtype == dtype
    ulps = 4 * np.finfo(dtype).eps * (np.abs(y) * 0.9 + np.abs(x) * 0.1 + 1e-30)
    assert (np.abs(y - expected) <= ulps).all()
    column = np.zeros((size, 2), dtype=dtype)[:, 0]  # a view: NumPy's two passes
    axpby(2.0, np.ones(size, dtype=dtype), 0.5, column)
    assert (column == 2).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1, 1), (7, 5, 3), (128, 300, 100)])
def test_gemm_tn_adds_alpha_a_transposed_b_into_beta_c(dtype, shape):
    if blas_gemm(np.dtype(dtype)) is None:
        pytest.skip("no BLAS gemm found in NumPy's wheel here")
    n, k, m = shape
    rng = np.random.default_rng(0)
    a, b, c = (rng.standard_normal(s).astype(dtype) for s in ((n, k), (n, m), (k, m)))
    expected = 0.99 * c.astype(np.float64) - 0.1 * (a.T.astype(np.float64) @ b)
    target = c
    assert gemm_tn(-0.1, a, b, 0.99, c)
    assert c is target and c.dtype == dtype
    scale = np.abs(a).T @ np.abs(b) * 0.1 + np.abs(expected)
    assert (np.abs(c - expected) <= 4 * n * np.finfo(dtype).eps * scale).all()


def test_gemm_tn_leaves_what_blas_may_not_take_to_the_caller():
    a, b = np.ones((4, 3), np.float32), np.ones((4, 2), np.float32)
    c = np.zeros((2, 3), np.float32).T  # not C-contiguous
    assert not gemm_tn(1.0, a, b, 1.0, c) and (c == 0).all()
    assert not gemm_tn(1.0, a, b.astype(np.float64), 1.0, np.zeros((3, 2)))
    if blas_gemm(np.dtype(np.float32)) is not None:
        with pytest.raises(ValueError, match="do not match"):
            gemm_tn(1.0, a, np.ones((5, 2), np.float32), 1.0, np.zeros((3, 2), np.float32))
