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
from boundary_common import DTYPES, INF, NAN, W, torch
from boundary_common import check as _check

import retroprop as rp
import retroprop.nn.functional as F

POINTS = ["0", "-0", "inf", "-inf", "nan", "max", "-max", "tiny"]


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
