"""Reductions, movement ops and the matrix product: gradients checked in float64."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import retroprop as rp

FAST = settings(max_examples=20, deadline=None)
seeds = st.integers(0, 2**32 - 1)
shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


@st.composite
def shape_and_axis(draw):
    """A shape and an axis argument for it: None, an int (maybe negative) or a tuple."""
    shape = draw(shapes)
    ndim = len(shape)
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return shape, None
    if kind == "int":
        return shape, draw(st.integers(-ndim, ndim - 1))
    axes = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return shape, tuple(axes)


def distinct(rng, shape):
    """Values at least 0.3 apart, shuffled: a max never has a tie."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.3 - 0.15 * n).reshape(shape)


# ---------------------------------------------------------------------------- reductions
@FAST
@given(
    case=shape_and_axis(), keepdims=st.booleans(), seed=seeds, op=st.sampled_from(["sum", "mean"])
)
def test_sum_mean_gradcheck(case, keepdims, seed, op):
    shape, axis = case
    x = np.random.default_rng(seed).standard_normal(shape)
    result = getattr(rp.tensor(x), op)(axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(result.data, getattr(x, op)(axis=axis, keepdims=keepdims))
    assert rp.gradcheck(lambda t: getattr(t, op)(axis=axis, keepdims=keepdims), [x])


@FAST
@given(
    case=shape_and_axis(), keepdims=st.booleans(), seed=seeds, op=st.sampled_from(["max", "min"])
)
def test_max_min_gradcheck(case, keepdims, seed, op):
    shape, axis = case
    x = distinct(np.random.default_rng(seed), shape)
    result = getattr(rp.tensor(x), op)(axis=axis, keepdims=keepdims)
    np.testing.assert_array_equal(result.data, getattr(x, op)(axis=axis, keepdims=keepdims))
    assert rp.gradcheck(lambda t: getattr(t, op)(axis=axis, keepdims=keepdims), [x])


def test_reduction_gradients_by_hand():
    x = rp.tensor(np.array([[1.0, 5.0, 2.0], [7.0, 3.0, 4.0]]), requires_grad=True)
    (x.sum(axis=0) * np.array([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(x.grad, [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    x.grad = None
    x.mean().backward()
    np.testing.assert_allclose(x.grad, np.full((2, 3), 1 / 6))
    x.grad = None
    x.max(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])


def test_max_shares_the_gradient_among_ties():
    x = rp.tensor(np.array([[3.0, 1.0, 3.0, 3.0], [0.0, 2.0, 2.0, -1.0]]), requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[1 / 3, 0.0, 1 / 3, 1 / 3], [0.0, 0.5, 0.5, 0.0]])
    x.grad = None
    x.max().backward()
    np.testing.assert_allclose(x.grad, [[1 / 3, 0.0, 1 / 3, 1 / 3], [0.0, 0.0, 0.0, 0.0]])


def test_reductions_of_a_0d_tensor():
    x = rp.tensor(np.array(2.5), requires_grad=True)
    (x.sum() + x.mean() + x.max()).backward()
    assert x.grad == 3.0


def test_empty_tuple_axis_reduces_nothing():
    x = rp.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x.sum(axis=())
    np.testing.assert_array_equal(y.data, [1.0, 2.0])
    (x.mean(axis=()) * 2).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])


# ---------------------------------------------------------------------------- movement
@FAST
@given(shape=shapes, seed=seeds)
def test_reshape_and_flatten_gradcheck(shape, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    w = np.arange(x.size, dtype=np.float64)
    assert rp.gradcheck(lambda t: t.reshape(-1) * w, [x])
    assert rp.gradcheck(lambda t: t.reshape(1, *shape[::-1]).flatten(1), [x])


@FAST
@given(shape=shapes, seed=seeds, data=st.data())
def test_transpose_gradcheck_any_permutation(shape, seed, data):
    ndim = len(shape)
    axes = data.draw(st.permutations(range(ndim)))
    negative = data.draw(st.lists(st.booleans(), min_size=ndim, max_size=ndim))
    axes = tuple(a - ndim if neg else a for a, neg in zip(axes, negative, strict=True))
    x = np.random.default_rng(seed).standard_normal(shape)
    np.testing.assert_array_equal(rp.tensor(x).transpose(axes).data, x.transpose(axes))
    assert rp.gradcheck(lambda t: t.transpose(*axes), [x])
    assert rp.gradcheck(lambda t: t.T, [x])


def test_transpose_with_negative_axes_sends_the_gradient_back_correctly():
    x = rp.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    y = x.transpose(0, -1, 1)
    assert y.shape == (2, 4, 3)
    upstream = np.arange(24.0).reshape(2, 4, 3)
    y.backward(upstream)
    np.testing.assert_array_equal(x.grad, upstream.transpose(0, 2, 1))


INDICES = {
    "int": 1,
    "negative int": -1,
    "slice": slice(1, None),
    "step": slice(None, None, 2),
    "tuple": (slice(0, 2), 1),
    "ellipsis": (Ellipsis, 0),
    "new axis": (None, 0),
    "int array": np.array([2, 0]),
    "repeated list": [0, 0, 2, 0],
    "pair of arrays": (np.array([0, 2, 0]), np.array([1, 1, 1])),
    "mixed": (np.array([1, 1]), slice(None)),
    "mask": np.array([True, False, True]),
}


@pytest.mark.parametrize("index", list(INDICES.values()), ids=list(INDICES))
def test_getitem_gradcheck(rng, index):
    x = rng.standard_normal((3, 4))
    np.testing.assert_array_equal(rp.tensor(x)[index].data, x[index])
    assert rp.gradcheck(lambda t: t[index], [x])


def test_getitem_repeated_indices_count_each_use():
    x = rp.tensor(np.zeros((3, 2)), requires_grad=True)
    x[[1, 1, 1, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad, [[1.0, 1.0], [3.0, 3.0], [0.0, 0.0]])


@FAST
@given(shape=shapes, count=st.integers(1, 3), seed=seeds, data=st.data())
def test_concatenate_gradcheck(shape, count, seed, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    rng = np.random.default_rng(seed)
    arrays = []
    for _ in range(count):
        part_shape = list(shape)
        part_shape[axis] = int(rng.integers(1, 4))
        arrays.append(rng.standard_normal(part_shape))
    joined = rp.concatenate([rp.tensor(a) for a in arrays], axis=axis)
    np.testing.assert_array_equal(joined.data, np.concatenate(arrays, axis=axis))
    assert rp.gradcheck(lambda *ts: rp.concatenate(ts, axis=axis), arrays)


@FAST
@given(shape=shapes, count=st.integers(1, 3), seed=seeds, data=st.data())
def test_stack_gradcheck(shape, count, seed, data):
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(shape) for _ in range(count)]
    stacked = rp.stack([rp.tensor(a) for a in arrays], axis=axis)
    np.testing.assert_array_equal(stacked.data, np.stack(arrays, axis=axis))
    assert rp.gradcheck(lambda *ts: rp.stack(ts, axis=axis), arrays)


def test_concatenate_with_a_constant_part():
    x = rp.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = rp.concatenate([x, np.array([5.0]), x], axis=0)
    (y * np.array([1.0, 2.0, 3.0, 4.0, 5.0])).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0 + 4.0, 2.0 + 5.0])


# ---------------------------------------------------------------------------- matmul
MATMUL_SHAPES = [
    ((3, 4), (4, 2)),  # a layer: z = a @ W
    ((4,), (4, 2)),
    ((3, 4), (4,)),
    ((4,), (4,)),
    ((2, 3, 4), (4, 5)),
    ((3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (5, 4, 2)),
    ((4,), (2, 4, 3)),
    ((2, 3, 4), (4,)),
]


@pytest.mark.parametrize(("shape_a", "shape_b"), MATMUL_SHAPES)
def test_matmul_gradcheck(rng, shape_a, shape_b):
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    np.testing.assert_allclose((rp.tensor(a) @ rp.tensor(b)).data, a @ b)
    assert rp.gradcheck(lambda x, y: x @ y, [a, b])


@FAST
@given(n=st.integers(1, 4), k=st.integers(1, 4), m=st.integers(1, 4), seed=seeds)
def test_linear_layer_gradcheck(n, k, m, seed):
    rng = np.random.default_rng(seed)
    x, W, b = rng.standard_normal((n, k)), rng.standard_normal((k, m)), rng.standard_normal(m)
    assert rp.gradcheck(lambda x_, W_, b_: x_ @ W_ + b_, [x, W, b])


def test_layer_gradient_is_the_course_formula(rng):
    """z = a W + b:  dJ/dW = a^T delta,  dJ/db = sum of delta,  dJ/da = delta W^T."""
    a_np, W_np, b_np = rng.standard_normal((5, 3)), rng.standard_normal((3, 2)), np.zeros(2)
    delta = rng.standard_normal((5, 2))
    a, W, b = (rp.tensor(v, requires_grad=True) for v in (a_np, W_np, b_np))
    (a @ W + b).backward(delta)
    np.testing.assert_allclose(W.grad, a_np.T @ delta, rtol=1e-14)
    np.testing.assert_allclose(b.grad, delta.sum(axis=0), rtol=1e-14)
    np.testing.assert_allclose(a.grad, delta @ W_np.T, rtol=1e-14)
