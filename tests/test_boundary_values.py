"""Every op at its boundary values: 0, -0.0, +-inf, NaN, ties, the largest and smallest finite
values, in every floating dtype the engine accepts (float16, float32, float64, longdouble).

Each cell is checked against the hard-coded value below and, where PyTorch is installed, against
PyTorch itself. Where the math has a value (or an IEEE limit, +-inf) no RuntimeWarning may escape
(pytest turns them into errors); where it has none (log(-1), inf - inf) the result is NaN, as in
PyTorch, and NumPy's invalid-value warning is expected. Cells where retroprop deliberately
differs from PyTorch are listed in ``TORCH_DIFFERS`` with the reason.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import retroprop as rp
import retroprop.nn.functional as F

try:
    import torch
except ImportError:  # pragma: no cover - the oracle is optional
    torch = None

INF, NAN = math.inf, math.nan
DTYPES = [np.float16, np.float32, np.float64, np.longdouble]
POINTS = ["0", "-0", "inf", "-inf", "nan", "max", "-max", "tiny"]
W = "nan, with NumPy's invalid-value warning"  # the math has no value here


def point(name: str, dtype) -> np.ndarray:
    info = np.finfo(dtype)
    special = {"0": 0.0, "-0": -0.0, "inf": INF, "-inf": -INF, "nan": NAN}
    if name in special:
        return np.array(special[name], dtype=dtype)
    return np.array({"max": info.max, "-max": -info.max, "tiny": info.tiny}[name], dtype=dtype)


def same(x):
    return x


def half(x):
    return x * 0.5


# (value, gradient) at each of POINTS; a callable is applied to the input in its dtype.
UNARY = {
    "neg": (lambda x: -x, "neg", [(lambda x: -x, -1)] * 8),
    "exp": (
        lambda x: x.exp(),
        "exp",
        [(1, 1), (1, 1), (INF, INF), (0, 0), (NAN, NAN), (INF, INF), (0, 0), (1, 1)],
    ),
    "log": (
        lambda x: x.log(),
        "log",
        [
            (-INF, INF),
            (-INF, -INF),
            (INF, 0),
            W,
            (NAN, NAN),
            (np.log, lambda x: 1 / x),
            W,
            (np.log, lambda x: 1 / x),
        ],
    ),
    "sqrt": (
        lambda x: x.sqrt(),
        "sqrt",
        [
            (0, INF),
            (-0.0, -INF),
            (INF, 0),
            W,
            (NAN, NAN),
            (np.sqrt, lambda x: 0.5 / np.sqrt(x)),
            W,
            (np.sqrt, lambda x: 0.5 / np.sqrt(x)),
        ],
    ),
    "abs": (
        lambda x: x.abs(),
        "abs",
        [(0, 0), (0, 0), (INF, 1), (INF, -1), (NAN, 0), (same, 1), (np.abs, -1), (same, 1)],
    ),
    "relu": (
        F.relu,
        "relu",
        [(0, 0), (0, 0), (INF, 1), (0, 0), (NAN, 0), (same, 1), (0, 0), (same, 1)],
    ),
    "sigmoid": (
        F.sigmoid,
        "sigmoid",
        [(0.5, 0.25), (0.5, 0.25), (1, 0), (0, 0), (NAN, NAN), (1, 0), (0, 0), (0.5, 0.25)],
    ),
    "tanh": (
        F.tanh,
        "tanh",
        [(0, 1), (-0.0, 1), (1, 0), (-1, 0), (NAN, NAN), (1, 0), (-1, 0), (same, 1)],
    ),
    "leaky_relu": (
        F.leaky_relu,
        "leaky_relu",
        [
            (0, 0.01),
            (0, 0.01),
            (INF, 1),
            (-INF, 0.01),
            (NAN, 0.01),
            (same, 1),
            (lambda x: x * 0.01, 0.01),
            (same, 1),
        ],
    ),
    "elu": (
        F.elu,
        "elu",
        [(0, 1), (0, 1), (INF, 1), (-1, 0), (NAN, 1), (same, 1), (-1, 0), (same, 1)],
    ),
    "softplus": (
        F.softplus,
        "softplus",
        [
            (math.log(2), 0.5),
            (math.log(2), 0.5),
            (INF, 1),
            (0, 0),
            (NAN, NAN),
            (same, 1),
            (0, 0),
            (math.log(2), 0.5),
        ],
    ),
    "gelu": (
        F.gelu,
        "gelu",
        [(0, 0.5), (0, 0.5), (INF, 1), (0, 0), (NAN, NAN), (same, 1), (0, 0), (half, 0.5)],
    ),
    "gelu_tanh": (
        lambda x: F.gelu(x, approximate="tanh"),
        "gelu_tanh",
        [(0, 0.5), (0, 0.5), (INF, 1), (0, 0), (NAN, NAN), (same, 1), (0, 0), (half, 0.5)],
    ),
    "silu": (
        F.silu,
        "silu",
        [(0, 0.5), (0, 0.5), (INF, 1), (0, 0), (NAN, NAN), (same, 1), (0, 0), (half, 0.5)],
    ),
    "mish": (
        F.mish,
        "mish",
        [
            (0, 0.6),
            (0, 0.6),
            (INF, 1),
            (0, 0),
            (NAN, NAN),
            (same, 1),
            (0, 0),
            (lambda x: x * 0.6, 0.6),
        ],
    ),
    "clip": (
        lambda x: x.clip(-1.0, 1.0),
        "clip",
        [(0, 1), (0, 1), (1, 0), (-1, 0), (NAN, 0), (1, 0), (-1, 0), (same, 1)],
    ),
    "square": (
        lambda x: x**2,
        "square",
        [
            (0, 0),
            (0, 0),
            (INF, INF),
            (INF, -INF),
            (NAN, NAN),
            (INF, INF),
            (INF, -INF),
            (lambda x: x * x, lambda x: x + x),
        ],
    ),
    "pow0": (lambda x: x**0, "pow0", [(1, 0)] * 8),
    "pow_half": (
        lambda x: x**0.5,
        "pow_half",
        [
            (0, INF),
            (0, INF),
            (INF, 0),
            W,  # NumPy computes x ** 0.5 as sqrt(x), as PyTorch does
            (NAN, NAN),
            (np.sqrt, lambda x: 0.5 / np.sqrt(x)),
            W,
            (np.sqrt, lambda x: 0.5 / np.sqrt(x)),
        ],
    ),
    "reciprocal": (
        lambda x: x**-1,
        "reciprocal",
        [
            (INF, -INF),
            (-INF, -INF),
            (0, 0),
            (0, 0),
            (NAN, NAN),
            (lambda x: 1 / x, 0),
            (lambda x: 1 / x, 0),
            (lambda x: 1 / x, -INF),
        ],
    ),
    "sum": (lambda x: x.sum(), "sum", [(same, 1)] * 8),
    "mean": (lambda x: x.mean(), "mean", [(same, 1)] * 8),
    "max": (lambda x: x.max(), "max", [(same, 1)] * 8),
    "min": (lambda x: x.min(), "min", [(same, 1)] * 8),
}

TORCH_UNARY = {}
if torch is not None:
    TF = torch.nn.functional
    TORCH_UNARY = {
        "neg": lambda x: -x,
        "exp": torch.exp,
        "log": torch.log,
        "sqrt": torch.sqrt,
        "abs": torch.abs,
        "relu": torch.relu,
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "leaky_relu": TF.leaky_relu,
        "elu": TF.elu,
        "softplus": TF.softplus,
        "gelu": TF.gelu,
        "gelu_tanh": lambda x: TF.gelu(x, approximate="tanh"),
        "silu": TF.silu,
        "mish": TF.mish,
        "clip": lambda x: x.clamp(-1.0, 1.0),
        "square": lambda x: x**2,
        "pow0": lambda x: x**0,
        "pow_half": lambda x: x**0.5,
        "reciprocal": lambda x: x**-1,
        "sum": torch.sum,
        "mean": torch.mean,
        "max": torch.max,
        "min": torch.min,
    }

# Where retroprop chooses differently from PyTorch, and why.
TORCH_DIFFERS = {
    # PyTorch's threshold_backward lets the gradient through at NaN; the hot relu keeps one
    # multiply by (a > 0). The loss is NaN either way.
    ("relu", "nan"),
    # The limits of z g(z) where PyTorch computes inf * 0 = NaN.
    ("gelu", "inf"),
    ("gelu_tanh", "max"),
    ("gelu_tanh", "-max"),
    ("gelu", "-inf"),
    ("gelu_tanh", "inf"),
    ("gelu_tanh", "-inf"),
    ("silu", "inf"),
    ("silu", "-inf"),
    ("mish", "inf"),
    ("mish", "-inf"),
    # PyTorch rewrites x ** 0.5 as sqrt, whose derivative at -0.0 is -inf; NumPy's
    # 0.5 * (-0.0) ** -0.5 is +inf (IEEE pow).
    ("pow_half", "-0"),
}


def _expected(entry, x: np.ndarray):
    if callable(entry):
        with np.errstate(over="ignore", under="ignore"):
            return np.asarray(entry(x)).astype(x.dtype)
    return np.asarray(entry, dtype=x.dtype)


def _tolerance(dtype) -> float:
    return {2: 2e-3, 4: 2e-6}.get(np.dtype(dtype).itemsize, 1e-12)


def _run(fn, x: np.ndarray, warns: bool):
    t = rp.tensor(x.copy(), requires_grad=True)
    if warns:
        with pytest.warns(RuntimeWarning, match="invalid value"):
            out = fn(t)
            out.sum().backward()
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = fn(t)
            out.sum().backward()
    assert out.dtype == x.dtype, f"the result keeps the input's dtype {x.dtype}, got {out.dtype}"
    assert t.grad.dtype == x.dtype
    return out.data, t.grad


def _check(actual, expected, dtype, what):
    np.testing.assert_allclose(
        actual.astype(np.float64) if np.dtype(dtype) != np.longdouble else actual,
        expected.astype(np.float64) if np.dtype(dtype) != np.longdouble else expected,
        rtol=_tolerance(dtype),
        atol=0,
        equal_nan=True,
        err_msg=what,
    )


UNARY_CASES = [
    pytest.param(op, i, dtype, id=f"{op}-{name}-{np.dtype(dtype).name}")
    for op in UNARY
    for i, name in enumerate(POINTS)
    for dtype in DTYPES
]


@pytest.mark.parametrize(("op", "index", "dtype"), UNARY_CASES)
def test_unary_op_at_boundary(op, index, dtype):
    fn, _, table = UNARY[op]
    name, entry = POINTS[index], table[index]
    x = point(name, dtype)
    value, grad = _run(fn, x, warns=entry is W)
    if entry is W:
        assert np.isnan(value)
        return
    _check(value, _expected(entry[0], x), dtype, f"{op}({name}) in {np.dtype(dtype)}")
    if entry[1] is not None:
        _check(grad, _expected(entry[1], x), dtype, f"d {op}/dx at {name} in {np.dtype(dtype)}")


TORCH_CASES = [case for case in UNARY_CASES if case.values[2] != np.longdouble]


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
@pytest.mark.parametrize(("op", "index", "dtype"), TORCH_CASES)
def test_unary_op_matches_torch(op, index, dtype):
    fn, _, table = UNARY[op]
    name = POINTS[index]
    if (op, name) in TORCH_DIFFERS or table[index] is W:
        pytest.skip("documented difference from PyTorch, or no value")
    x = point(name, dtype)
    value, grad = _run(fn, x, warns=False)
    tx = torch.tensor(x.astype(np.float64), dtype=getattr(torch, np.dtype(dtype).name))
    tx.requires_grad_(True)
    try:
        tout = TORCH_UNARY[op](tx)
    except RuntimeError as error:  # an op PyTorch lacks for this dtype on the CPU
        pytest.skip(str(error))
    tout.sum().backward()
    _check(value, tout.detach().numpy(), dtype, f"{op}({name}) vs torch")
    _check(grad, tx.grad.numpy(), dtype, f"d {op}/dx at {name} vs torch")


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
LN2 = math.log(2)
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


# ---------------------------------------------------------------- reductions, ties, float16
def _silently(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fn()


def test_float16_mean_of_many_ones_and_its_gradient():
    x = rp.tensor(np.ones(100_000, np.float16), requires_grad=True)
    mean = _silently(lambda: x.mean())
    _silently(mean.backward)
    assert mean.dtype == np.float16 and mean.item() == 1.0
    assert x.grad.dtype == np.float16
    np.testing.assert_array_equal(x.grad, np.float16(1e-5))  # was 0: 100000 is inf in float16


def test_float16_sum_along_an_axis_accumulates_wide():
    x = rp.tensor(np.full((4000, 2), 0.1, np.float16), requires_grad=True)
    total = _silently(lambda: x.sum(axis=0))
    assert total.dtype == np.float16
    np.testing.assert_array_equal(total.data, [400.0, 400.0])  # was 256: float16 accumulation
    np.testing.assert_array_equal(x.T.sum(axis=1).data, [400.0, 400.0])


def test_float16_sum_beyond_range_is_inf_silently():
    total = _silently(lambda: rp.tensor(np.ones(100_000, np.float16)).sum())
    assert total.dtype == np.float16 and np.isposinf(total.item())  # as torch.sum


def test_float16_max_with_many_ties_shares_the_gradient():
    x = rp.tensor(np.ones(100_000, np.float16), requires_grad=True)
    _silently(lambda: x.max().backward())
    np.testing.assert_array_equal(x.grad, np.float16(1e-5))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1.0, 3.0, 3.0, 0.0], [0.0, 0.5, 0.5, 0.0]),  # ties share evenly, as torch.amax
        ([1.0, NAN, NAN, 0.0], [0.0, 0.5, 0.5, 0.0]),  # NaN is the max, as torch.max()
        ([-INF, -INF], [0.5, 0.5]),
        ([0.0, -0.0], [0.5, 0.5]),
    ],
)
def test_max_ties_and_nan(values, expected, dtype):
    x = rp.tensor(np.array(values, dtype=dtype), requires_grad=True)
    _silently(lambda: x.max().backward())
    np.testing.assert_array_equal(x.grad, np.array(expected, dtype=dtype))
    y = rp.tensor(-np.array(values, dtype=dtype), requires_grad=True)
    _silently(lambda: y.min().backward())
    np.testing.assert_array_equal(y.grad, np.array(expected, dtype=dtype))
    if torch is not None and np.dtype(dtype) != np.longdouble:
        t = torch.tensor(values, dtype=getattr(torch, np.dtype(dtype).name), requires_grad=True)
        t.max().backward()
        np.testing.assert_array_equal(t.grad.numpy(), x.grad)


def test_max_over_an_axis_with_nan_in_one_row_only():
    x = rp.tensor(np.array([[1.0, NAN], [2.0, 2.0]]), requires_grad=True)
    m = _silently(lambda: x.max(axis=1))
    _silently(lambda: m.sum().backward())
    np.testing.assert_array_equal(x.grad, [[0.0, 1.0], [0.5, 0.5]])


def test_float16_losses_over_many_elements():
    n = 100_000
    x = rp.tensor(np.ones(n, np.float16), requires_grad=True)
    loss = _silently(lambda: F.mse_loss(x, np.zeros(n)))
    _silently(loss.backward)
    assert loss.dtype == np.float16 and loss.item() == 1.0
    np.testing.assert_array_equal(x.grad, np.float16(2e-5))
    z = rp.tensor(np.zeros((n, 2), np.float16), requires_grad=True)
    loss = _silently(lambda: F.cross_entropy(z, np.zeros(n, np.int64)))
    _silently(loss.backward)
    assert loss.dtype == np.float16
    np.testing.assert_allclose(loss.item(), LN2, rtol=1e-3)
    np.testing.assert_array_equal(z.grad[0], np.float16([-0.5 / n, 0.5 / n]))
    z = rp.tensor(np.zeros(n, np.float16), requires_grad=True)
    loss = _silently(lambda: F.binary_cross_entropy_with_logits(z, np.ones(n)))
    _silently(loss.backward)
    np.testing.assert_allclose(loss.item(), LN2, rtol=1e-3)
    np.testing.assert_array_equal(z.grad, np.float16(-0.5 / n))


def test_float16_matmul_accumulates_wide():
    a = rp.tensor(np.full((1, 4000), 0.1, np.float16))
    w = rp.tensor(np.ones((4000, 1), np.float16), requires_grad=True)
    out = _silently(lambda: a @ w)
    _silently(lambda: out.sum().backward())
    assert out.dtype == np.float16 and out.item() == 400.0
    np.testing.assert_array_equal(w.grad, np.float16(0.1))


# ---------------------------------------------------------------- softmax and fused losses
@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_and_log_softmax_at_the_largest_logits(dtype):
    big = np.finfo(dtype).max
    z = rp.tensor(np.array([big, -big], dtype=dtype), requires_grad=True)
    a = _silently(lambda: F.softmax(z))
    _silently(lambda: (a * rp.tensor(np.array([1.0, 0.0], dtype=dtype))).sum().backward())
    np.testing.assert_array_equal(a.data, [1.0, 0.0])
    np.testing.assert_array_equal(z.grad, [0.0, 0.0])
    z.grad = None
    log_a = _silently(lambda: F.log_softmax(z))
    _silently(lambda: log_a.sum().backward())
    np.testing.assert_array_equal(log_a.data, [0.0, -INF])  # as PyTorch
    np.testing.assert_array_equal(z.grad, [-1.0, 1.0])


def test_softmax_of_an_infinite_logit_has_no_value():
    with pytest.warns(RuntimeWarning, match="invalid value"):
        a = F.softmax(rp.tensor(np.array([INF, 0.0])))
    assert np.isnan(a.data).all()  # as PyTorch


@pytest.mark.parametrize("dtype", DTYPES)
def test_fused_losses_at_the_largest_finite_logits(dtype):
    big = np.finfo(dtype).max
    z = rp.tensor(np.array([[big / 2, -big / 2]], dtype=dtype), requires_grad=True)
    loss = _silently(lambda: F.cross_entropy(z, [1]))
    _silently(loss.backward)
    _check(loss.data, np.array(big, dtype=dtype), dtype, "cross_entropy at max logits")
    np.testing.assert_array_equal(z.grad, [[1.0, -1.0]])
    for logit, label, grad in [(big, 0.0, 1.0), (-big, 1.0, -1.0), (big, 1.0, 0.0)]:
        z = rp.tensor(np.array([logit], dtype=dtype), requires_grad=True)
        loss = _silently(lambda: F.binary_cross_entropy_with_logits(z, [label]))  # noqa: B023
        _silently(loss.backward)
        expected = 0.0 if grad == 0.0 else big
        _check(loss.data, np.array(expected, dtype=dtype), dtype, f"bce_with_logits({logit})")
        np.testing.assert_array_equal(z.grad, [grad])


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_binary_cross_entropy_gradient_at_probabilities_0_and_1(dtype):
    p = rp.tensor(np.array([0.0, 1.0, 0.5], dtype), requires_grad=True)
    loss = _silently(lambda: F.binary_cross_entropy(p, [1.0, 0.0, 1.0]))
    _silently(loss.backward)
    # (p - y) / max(p (1 - p), 1e-12) / 3, as PyTorch: -inf and inf in float16
    with np.errstate(over="ignore"):
        expected = np.array([-1e12 / 3, 1e12 / 3, -2 / 3]).astype(dtype)
    _check(p.grad, expected, dtype, "binary_cross_entropy gradient")
    _check(loss.data, np.array(200.6931471805599 / 3, dtype), dtype, "binary_cross_entropy")
    if torch is not None:
        t = torch.tensor([0.0, 1.0, 0.5], dtype=getattr(torch, np.dtype(dtype).name))
        t.requires_grad_(True)
        target = torch.tensor([1.0, 0.0, 1.0], dtype=t.dtype)
        torch.nn.functional.binary_cross_entropy(t, target).backward()
        # PyTorch's floor is 1e-12 in float32 (9.9999999600e-13): compare at float32's tolerance
        tolerance = np.float16 if dtype == np.float16 else np.float32
        _check(p.grad, t.grad.numpy(), tolerance, "binary_cross_entropy gradient vs torch")


def test_binary_cross_entropy_at_probabilities_0_and_1():
    p = rp.tensor(np.array([0.0, 1.0, 0.0, 1.0]), requires_grad=True)
    loss = _silently(lambda: F.binary_cross_entropy(p, [0.0, 1.0, 1.0, 0.0], reduction="none"))
    _silently(lambda: loss.sum().backward())
    np.testing.assert_array_equal(loss.data, [0.0, 0.0, 100.0, 100.0])  # PyTorch's log clamp
    assert np.isfinite(p.grad).all()


# ---------------------------------------------------------------- the remaining ops
def test_batch_norm_of_a_constant_feature_in_float16():
    from retroprop.ops.normalization import BatchNorm

    x = rp.tensor(np.full((4, 1), 60000.0, np.float16), requires_grad=True)
    mean, var = np.array([60000.0], np.float16), np.array([0.0], np.float16)
    y = _silently(
        lambda: BatchNorm.apply(x, None, None, mean=mean, var=var, eps=1e-5, batch_stats=True)
    )
    _silently(lambda: y.sum().backward())
    np.testing.assert_array_equal(y.data, 0.0)
    np.testing.assert_array_equal(x.grad, 0.0)


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: x.reshape(5, 1),
        lambda x: x[::-1],
        lambda x: x[[0, 0, 1, 2, 3, 4]],
        lambda x: x.reshape(5, 1).T,
        lambda x: rp.concatenate([x, x]),
        lambda x: rp.stack([x, x]),
        lambda x: rp.where(np.array([True, False, True, False, True]), x, x),
        lambda x: x.astype(np.float16),
    ],
)
def test_movement_ops_pass_boundary_values_through(fn):
    values = np.array([INF, -INF, NAN, -0.0, np.finfo(np.float64).max])
    x = rp.tensor(values, requires_grad=True)
    out = _silently(lambda: fn(x))
    _silently(lambda: out.backward(np.ones(out.shape, out.dtype)))
    if out.dtype == np.float16:  # the cast: beyond float16's range is inf, as PyTorch
        np.testing.assert_array_equal(out.data, [INF, -INF, NAN, -0.0, INF])
    else:
        assert set(map(str, out.data.ravel().tolist())) <= set(map(str, values.tolist()))
    assert (x.grad >= 1).all() and x.grad.dtype == np.float64


def test_cross_entropy_beyond_the_range_keeps_overflow_warning_but_right_values():
    big = np.finfo(np.float32).max
    z = rp.tensor(np.array([[big, -big]], np.float32), requires_grad=True)
    with pytest.warns(RuntimeWarning, match="overflow"):  # the hot path pays no np.errstate
        loss = F.cross_entropy(z, [0])
    loss.backward()
    assert loss.item() == 0.0  # as PyTorch
    np.testing.assert_array_equal(z.grad, [[0.0, 0.0]])


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
