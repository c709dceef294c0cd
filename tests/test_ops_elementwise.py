"""Elementwise ops: every gradient checked against finite differences, in float64.

Inputs are drawn away from the points where an op has a kink (abs at 0, clip at its bounds,
maximum at a tie), where a central difference would straddle two slopes.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import retroprop as rp

FAST = settings(max_examples=20, deadline=None)
seeds = st.integers(0, 2**32 - 1)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
pairs_of_shapes = hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4)


def away_from_zero(rng, shape, low=0.2, high=2.0):
    """Values with |x| in [low, high] and a random sign."""
    return np.asarray(rng.choice([-1.0, 1.0], size=shape) * rng.uniform(low, high, shape))


def positive(rng, shape, low=0.3, high=2.0):
    return rng.uniform(low, high, shape)


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
}


@FAST
@given(pair=pairs_of_shapes, seed=seeds, op=st.sampled_from(sorted(BINARY)))
def test_binary_ops_gradcheck_on_broadcast_shapes(pair, seed, op):
    rng = np.random.default_rng(seed)
    shape_a, shape_b = pair.input_shapes
    a = positive(rng, shape_a) if op == "pow" else rng.standard_normal(shape_a)
    b = away_from_zero(rng, shape_b, 0.5) if op == "div" else rng.standard_normal(shape_b)
    assert rp.gradcheck(BINARY[op], [a, b])


@pytest.mark.parametrize(
    ("shape_a", "shape_b"), [((3, 1), (1, 4)), ((2, 3), (3,)), ((), (2, 2)), ((4, 1, 3), (2, 1))]
)
@pytest.mark.parametrize("op", sorted(BINARY))
def test_binary_ops_gradcheck_named_broadcasts(rng, shape_a, shape_b, op):
    a = positive(rng, shape_a)
    b = positive(rng, shape_b)
    assert rp.gradcheck(BINARY[op], [a, b])


@pytest.mark.parametrize(
    "fn",
    [
        lambda a: 2.0 + a,
        lambda a: 2.0 - a,
        lambda a: 2.0 * a,
        lambda a: 2.0 / a,
        lambda a: 2.0**a,
        lambda a: a**2,
        lambda a: a**3,
        lambda a: a**-1,
        lambda a: a**0.5,
        lambda a: -a,
        lambda a: a - np.array([1.0, 2.0, 3.0]),
        lambda a: np.array([1.0, 2.0, 3.0]) / a,
    ],
    ids=["radd", "rsub", "rmul", "rdiv", "rpow", "square", "cube", "inverse", "root", "neg",
         "sub-array", "rdiv-array"],
)  # fmt: skip
def test_ops_with_constants_gradcheck(rng, fn):
    assert rp.gradcheck(fn, [positive(rng, (2, 3))])


UNARY = {
    "exp": (lambda x: x.exp(), away_from_zero),
    "log": (lambda x: x.log(), positive),
    "sqrt": (lambda x: x.sqrt(), positive),
    "abs": (lambda x: x.abs(), away_from_zero),
    "clip": (lambda x: x.clip(-1.0, 1.0), away_from_zero),
    "clip-min": (lambda x: x.clip(min=0.0), away_from_zero),
    "clip-max": (lambda x: x.clip(max=-0.1), away_from_zero),
}


@FAST
@given(shape=shapes, seed=seeds, op=st.sampled_from(sorted(UNARY)))
def test_unary_ops_gradcheck(shape, seed, op):
    fn, draw = UNARY[op]
    x = draw(np.random.default_rng(seed), shape)
    if op == "clip":  # keep away from the bounds +-1 too
        x = np.where(np.abs(np.abs(x) - 1.0) < 0.1, x * 0.5, x)  # a 0-d array stays one
    assert rp.gradcheck(fn, [x])


def test_unary_gradients_match_the_table_of_derivatives():
    z = np.array([0.5, -1.5, 2.0])
    expected = {
        "exp": np.exp(z),
        "abs": np.sign(z),
        "clip": np.array([1.0, 0.0, 0.0]),  # clip(-1, 1): flows inside only
    }
    results = {
        "exp": lambda t: t.exp(),
        "abs": lambda t: t.abs(),
        "clip": lambda t: t.clip(-1.0, 1.0),
    }
    for name, fn in results.items():
        x = rp.tensor(z.copy(), requires_grad=True)
        fn(x).sum().backward()
        np.testing.assert_allclose(x.grad, expected[name], err_msg=name)
    positive_z = np.array([0.25, 4.0])
    x = rp.tensor(positive_z, requires_grad=True)
    (x.log() + x.sqrt()).sum().backward()
    np.testing.assert_allclose(x.grad, 1 / positive_z + 0.5 / np.sqrt(positive_z))


def test_gradient_at_the_kinks_follows_pytorch():
    x = rp.tensor(np.array([0.0, 1.0, -1.0]), requires_grad=True)
    (x.abs() + x.clip(-1.0, 1.0)).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0 + 1.0, 1.0 + 1.0, -1.0 + 1.0])


def interleaved(rng, shape_a, shape_b):
    """Two arrays whose values never come within 0.2 of each other (no ties)."""
    n_a, n_b = int(np.prod(shape_a)), int(np.prod(shape_b))
    grid = rng.permutation(n_a + n_b) * 0.4 - 0.2 * (n_a + n_b)
    return grid[:n_a].reshape(shape_a), grid[n_a:].reshape(shape_b)


@FAST
@given(pair=pairs_of_shapes, seed=seeds, op=st.sampled_from(["maximum", "minimum"]))
def test_maximum_minimum_gradcheck(pair, seed, op):
    a, b = interleaved(np.random.default_rng(seed), *pair.input_shapes)
    assert rp.gradcheck(getattr(rp, op), [a, b])


def test_maximum_minimum_share_the_gradient_at_a_tie():
    a = rp.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    b = rp.tensor(np.array([2.0, 2.0, 1.0]), requires_grad=True)
    rp.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(b.grad, [1.0, 0.5, 0.0])
    a.grad = b.grad = None
    rp.minimum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [1.0, 0.5, 0.0])
    np.testing.assert_array_equal(b.grad, [0.0, 0.5, 1.0])


def test_maximum_with_a_constant(rng):
    x = away_from_zero(rng, (3, 4))
    assert rp.gradcheck(lambda t: rp.maximum(t, 0.0) + rp.minimum(1.5, t), [x])


@FAST
@given(pair=pairs_of_shapes, seed=seeds)
def test_where_gradcheck(pair, seed):
    rng = np.random.default_rng(seed)
    shape_a, shape_b = pair.input_shapes
    condition = rng.random(pair.result_shape) < 0.5
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    assert rp.gradcheck(lambda x, y: rp.where(condition, x, y), [a, b])


def test_where_sends_the_gradient_down_the_branch_taken():
    a = rp.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    rp.where(a > 1.5, a * 10, -a).sum().backward()
    np.testing.assert_array_equal(a.grad, [-1.0, 10.0, 10.0])


def test_cast_gradient_returns_in_the_input_dtype():
    x = rp.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x.astype(np.float32) * np.float32(3)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


@FAST
@given(shape=shapes, seed=seeds)
def test_fork_value_used_twice(shape, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    assert rp.gradcheck(lambda t: t * t + t, [x])


@FAST
@given(shape=shapes, seed=seeds)
def test_diamond_graph(shape, seed):
    """x -> a -> (b, c) -> d: the gradient reaches a along two paths and x along three."""

    def diamond(x):
        a = x * 0.5 + 1.0
        b = a.exp()
        c = a * a * x
        return b / (c + 3.0) + b - c

    x = np.random.default_rng(seed).uniform(-1.0, 1.0, shape)
    assert rp.gradcheck(diamond, [x])


def test_diamond_gradient_value():
    x = rp.tensor(np.array(0.7), requires_grad=True)
    a = x * 2
    (a.exp() + a * a).backward()  # d/dx = 2 e^(2x) + 8x
    np.testing.assert_allclose(x.grad, 2 * np.exp(1.4) + 8 * 0.7, rtol=1e-14)


def test_power_with_tensor_exponent_value():
    a = rp.tensor(np.array([2.0]), requires_grad=True)
    p = rp.tensor(np.array([3.0]), requires_grad=True)
    (a**p).sum().backward()
    np.testing.assert_allclose(a.grad, [12.0])  # p a^(p-1)
    np.testing.assert_allclose(p.grad, [8.0 * np.log(2.0)])  # a^p log a
