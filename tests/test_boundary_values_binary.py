"""Binary ops at their boundary values (0, -0.0, +-inf, NaN, ties), and a Python number on the
left of every op; the conventions are those of ``tests/test_boundary_values.py``."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from boundary_common import DTYPES, INF, LN2, NAN, W, torch
from boundary_common import check as _check
from boundary_common import silently as _silently

import retroprop as rp

# ---------------------------------------------------------------- binary ops
OVERFLOW = "inf, with NumPy's overflow warning"  # see test_hot_arithmetic_overflow_keeps_warning

BINARY_OPS = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / b, lambda a, b: a / b),
    "pow": (lambda a, b: a**b, lambda a, b: a**b),
    "maximum": (rp.maximum, "maximum"),
    "minimum": (rp.minimum, "minimum"),
}
# (op, a, b, c, dc/da, dc/db); W: no value (NaN and NumPy's invalid-value warning).
BINARY = [
    ("add", 1, INF, INF, 1, 1),
    ("add", INF, -INF, W, None, None),
    ("add", NAN, 1, NAN, 1, 1),
    ("add", -0.0, -0.0, -0.0, 1, 1),
    ("sub", 1, INF, -INF, 1, -1),
    ("sub", INF, INF, W, None, None),
    ("mul", 2, INF, INF, INF, 2),
    ("mul", 0, INF, W, None, None),
    ("mul", -0.0, 1, -0.0, 1, -0.0),
    ("mul", NAN, 0, NAN, 0, NAN),
    ("div", 1, 0, INF, INF, -INF),
    ("div", 1, -0.0, -INF, -INF, -INF),
    ("div", -1, 0, -INF, INF, INF),
    ("div", 1, INF, 0, 0, -0.0),
    ("div", 0, 0, W, None, None),
    ("div", INF, INF, W, None, None),
    # The issue's snippets: d/db base ** b at base 0 is 0 for b >= 0 (PyTorch), x ** 0 has
    # gradient 0 everywhere.
    ("pow", 0, 1, 0, 1, 0),
    ("pow", 2, 1, 2, 1, 2 * LN2),
    ("pow", 0, 2, 0, 0, 0),
    ("pow", 0, 0, 1, 0, 0),
    ("pow", 1, 0, 1, 0, 0),
    ("pow", INF, 0, 1, 0, INF),
    ("pow", NAN, 0, 1, 0, NAN),
    ("pow", 0, -1, INF, -INF, -INF),
    ("pow", 0, 0.5, 0, INF, 0),
    ("pow", 1, INF, 1, INF, 0),
    ("maximum", 1, 1, 1, 0.5, 0.5),
    ("maximum", 0, -0.0, 0, 0.5, 0.5),
    ("maximum", INF, INF, INF, 0.5, 0.5),
    ("maximum", -INF, -INF, -INF, 0.5, 0.5),
    ("maximum", 2, 1, 2, 1, 0),
    ("maximum", NAN, 1, NAN, 1, 1),
    ("maximum", 1, NAN, NAN, 1, 1),
    ("minimum", 1, 1, 1, 0.5, 0.5),
    ("minimum", 2, 1, 1, 0, 1),
    ("minimum", NAN, 1, NAN, 1, 1),
    ("minimum", -INF, -INF, -INF, 0.5, 0.5),
]
BINARY_CASES = [
    pytest.param(row, dtype, id=f"{row[0]}({row[1]},{row[2]})-{np.dtype(dtype).name}")
    for row in BINARY
    for dtype in DTYPES
]


def _run_binary(fn, a, b, warns):
    ta, tb = rp.tensor(a.copy(), requires_grad=True), rp.tensor(b.copy(), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if warns:
            with pytest.warns(RuntimeWarning, match="invalid value"):
                fn(ta, tb).sum().backward()
            return None, None, None
        out = fn(ta, tb)
        out.sum().backward()
    assert out.dtype == a.dtype
    return out.data, ta.grad, tb.grad


@pytest.mark.parametrize(("row", "dtype"), BINARY_CASES)
def test_binary_op_at_boundary(row, dtype):
    op, a, b, c, grad_a, grad_b = row
    fn = BINARY_OPS[op][0]
    a, b = np.array(a, dtype=dtype), np.array(b, dtype=dtype)
    value, ga, gb = _run_binary(fn, a, b, warns=c is W)
    if c is W:
        return
    what = f"{op}({a}, {b}) in {np.dtype(dtype)}"
    _check(value, np.array(c, dtype=dtype), dtype, what)
    _check(ga, np.array(grad_a, dtype=dtype), dtype, "d/da " + what)
    _check(gb, np.array(grad_b, dtype=dtype), dtype, "d/db " + what)


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
@pytest.mark.parametrize(
    ("row", "dtype"), [case for case in BINARY_CASES if case.values[1] != np.longdouble]
)
def test_binary_op_matches_torch(row, dtype):
    op, a, b, c, _, _ = row
    if c is W:
        pytest.skip("no value")
    fn, torch_fn = BINARY_OPS[op]
    torch_fn = getattr(torch, torch_fn) if isinstance(torch_fn, str) else torch_fn
    a, b = np.array(a, dtype=dtype), np.array(b, dtype=dtype)
    value, ga, gb = _run_binary(fn, a, b, warns=False)
    tdtype = getattr(torch, np.dtype(dtype).name)
    ta = torch.tensor(float(a), dtype=tdtype, requires_grad=True)
    tb = torch.tensor(float(b), dtype=tdtype, requires_grad=True)
    torch_fn(ta, tb).backward()
    _check(value, torch_fn(ta, tb).detach().numpy(), dtype, f"{op} vs torch")
    _check(ga, ta.grad.numpy(), dtype, f"d/da {op}({a}, {b}) vs torch")
    _check(gb, tb.grad.numpy(), dtype, f"d/db {op}({a}, {b}) vs torch")


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize(
    ("op", "fn"), [("add", lambda a: a + a), ("sub", lambda a: a - -a), ("mul", lambda a: a * a)]
)
def test_hot_arithmetic_overflow_keeps_warning(op, fn, dtype):
    """Add, sub and mul beyond the dtype's range give inf and keep NumPy's overflow warning:
    they are the hot path, and np.errstate would cost more than the op itself on a small batch
    (ops whose result is a limit, such as exp, div or log, stay silent)."""
    a = rp.tensor(np.array([np.finfo(dtype).max], dtype=dtype))
    with pytest.warns(RuntimeWarning, match="overflow"):
        out = fn(a)
    assert np.isinf(out.data).all(), op


# ---------------------------------------------------------------- a Python number on the left
@pytest.mark.parametrize("left", [0.0, 0, 2.0, np.float32(0.0)])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_python_number_on_the_left_of_every_op(left, dtype):
    x_values = np.array([1.0, 2.0], dtype=dtype)
    number = float(left)
    cases = {
        "radd": (lambda x: left + x, number + x_values, np.ones(2)),
        "rsub": (lambda x: left - x, number - x_values, -np.ones(2)),
        "rmul": (lambda x: left * x, number * x_values, np.full(2, number)),
        "rtruediv": (lambda x: left / x, number / x_values, -number / x_values**2),
        # d/db left ** b = left ** b ln(left), and 0 at left = 0 (PyTorch)
        "rpow": (
            lambda x: left**x,
            number**x_values,
            number**x_values * math.log(number) if number else np.zeros(2),
        ),
    }
    for name, (fn, value, grad) in cases.items():
        x = rp.tensor(x_values.copy(), requires_grad=True)
        out = fn(x)
        out.sum().backward()
        assert out.dtype == dtype, name
        _check(out.data, value.astype(dtype), dtype, name)
        _check(x.grad, grad.astype(dtype), dtype, f"gradient of {name}")


def test_arrays_on_the_left_of_matmul_and_a_number_is_a_clear_error():
    x = rp.tensor(np.array([1.0, 2.0]), requires_grad=True)
    (np.ones((1, 2)) @ x).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])
    assert ([[1.0, 1.0]] @ x).data.tolist() == [3.0]
    with pytest.raises(rp.ShapeError, match="at least 1 dimension"):
        2.0 @ x
    with pytest.raises(rp.ShapeError, match="at least 1 dimension"):
        x @ 2.0


def test_issue_10_snippets():
    base = rp.tensor(np.array([0.0, 2.0]))
    b = rp.tensor(np.array([1.0, 1.0]), requires_grad=True)
    (base**b).sum().backward()
    np.testing.assert_allclose(b.grad, [0.0, 2 * LN2])
    b = rp.tensor(np.array([1.0, 2.0]), requires_grad=True)
    (0.0**b).sum().backward()
    np.testing.assert_array_equal(b.grad, [0.0, 0.0])
    x = rp.tensor(np.array([0.0, 1.0]), requires_grad=True)
    (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])


def test_python_numbers_in_the_numpy_style_functions():
    x = rp.tensor(np.array([-1.0, 1.0]), requires_grad=True)
    out = _silently(lambda: rp.maximum(0.0, x) + rp.minimum(0.0, x) + rp.where(x.data > 0, 0.0, x))
    _silently(lambda: out.sum().backward())
    np.testing.assert_array_equal(out.data, [-2.0, 1.0])
    np.testing.assert_array_equal(x.grad, [2.0, 1.0])


def test_clip_passes_the_gradient_at_its_bounds():
    x = rp.tensor(np.array([-1.0, 1.0, -1.5, 1.5]), requires_grad=True)
    _silently(lambda: x.clip(-1.0, 1.0).sum().backward())
    np.testing.assert_array_equal(x.grad, [1.0, 1.0, 0.0, 0.0])  # as torch.clamp
    if torch is not None:
        t = torch.tensor([-1.0, 1.0, -1.5, 1.5], dtype=torch.float64, requires_grad=True)
        t.clamp(-1.0, 1.0).sum().backward()
        np.testing.assert_array_equal(t.grad.numpy(), x.grad)


def test_a_large_python_base_on_a_float16_exponent():
    b = rp.tensor(np.array([0.0, 1.0], np.float16), requires_grad=True)
    out = _silently(lambda: 1e5**b)  # 1e5 ** 1 is inf in float16, as in PyTorch
    _silently(lambda: out.sum().backward())
    np.testing.assert_array_equal(out.data, [1.0, INF])
    # d/db = 1e5 ** b ln(1e5), with the log of the Python base in double precision (PyTorch)
    np.testing.assert_array_equal(b.grad, np.float16([math.log(1e5), INF]))
    if torch is not None:
        t = torch.tensor([0.0, 1.0], dtype=torch.float16, requires_grad=True)
        (1e5**t).sum().backward()
        np.testing.assert_array_equal(t.grad.numpy(), b.grad)
