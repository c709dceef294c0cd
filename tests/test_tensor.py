"""Tensor: creation, attributes, operators, methods, and the backward pass itself."""

from __future__ import annotations

import numpy as np
import pytest

import retroprop as rp


def f64(values, requires_grad=True):
    return rp.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


# ---------------------------------------------------------------------------- creation
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16, np.int32, np.int64, bool])
def test_numpy_array_keeps_its_dtype_and_memory(dtype):
    array = np.ones((2, 3), dtype=dtype)
    t = rp.tensor(array)
    assert t.dtype == np.dtype(dtype)
    assert t.data is array
    assert t.numpy() is array


@pytest.mark.parametrize(
    ("data", "requires_grad", "expected"),
    [
        (1.5, False, np.float32),
        ([1.0, 2.0], False, np.float32),
        ([[1, 2.5], [3, 4]], False, np.float32),
        (3, False, np.int64),
        ([1, 2, 3], False, np.int64),
        (3, True, np.float32),
        ([1, 2, 3], True, np.float32),
        ([True, False], False, np.bool_),
        (np.float64(2.0), False, np.float64),
    ],
)
def test_python_values_follow_pytorch_dtype_rule(data, requires_grad, expected):
    t = rp.tensor(data, requires_grad=requires_grad)
    assert t.dtype == np.dtype(expected)
    np.testing.assert_array_equal(t.data, np.asarray(data))


def test_explicit_dtype_wins():
    assert rp.tensor([1.0, 2.0], dtype=np.float64).dtype == np.float64
    assert rp.tensor(np.zeros(2, dtype=np.float32), dtype=np.float64).dtype == np.float64
    assert rp.tensor([1, 2], dtype=np.float16).dtype == np.float16


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match="floating-point.*int64"):
        rp.tensor(np.arange(3), requires_grad=True)


def test_attributes():
    t = rp.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert t.shape == (2, 3)
    assert t.ndim == 2
    assert t.dtype == np.float64
    assert t.requires_grad
    assert t.grad is None
    assert t.is_leaf
    assert t.T.shape == (3, 2)
    np.testing.assert_array_equal(t.T.data, np.arange(6.0).reshape(2, 3).T)
    assert rp.tensor(2.5).item() == 2.5
    assert isinstance(rp.tensor(np.array([7])).item(), int)


def test_item_of_several_elements_names_the_shape():
    with pytest.raises(ValueError, match=r"one element, got shape \(2,\)"):
        rp.tensor([1.0, 2.0]).item()


def test_data_is_assignable_and_grad_keeps_shape_and_dtype():
    w = f64([1.0, 2.0])
    w.data = np.array([3.0, -4.0])
    (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad, [6.0, -8.0])
    assert w.grad.shape == w.shape
    assert w.grad.dtype == w.dtype


def test_repr_names_dtype_and_grad_fn():
    assert repr(rp.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert "dtype=float64" in repr(rp.tensor(np.zeros(1)))
    assert "grad_fn=<Mul>" in repr(f64([1.0]) * 2)
    assert "requires_grad=True" in repr(f64([1.0]))


def test_truth_value_of_one_element_and_ambiguity_of_several():
    assert bool(rp.tensor(1.0) > 0)
    assert not bool(rp.tensor([0.0]))
    with pytest.raises(ValueError, match=r"shape \(2,\) is ambiguous"):
        bool(rp.tensor([1.0, 2.0]) > 0)


# ---------------------------------------------------------------------------- operators
def test_arithmetic_operators_match_numpy(rng):
    a_np = rng.uniform(0.5, 2.0, (3, 4))
    b_np = rng.uniform(0.5, 2.0, (4,))
    a, b = rp.tensor(a_np), rp.tensor(b_np)
    np.testing.assert_allclose((a + b).data, a_np + b_np)
    np.testing.assert_allclose((a - b).data, a_np - b_np)
    np.testing.assert_allclose((a * b).data, a_np * b_np)
    np.testing.assert_allclose((a / b).data, a_np / b_np)
    np.testing.assert_allclose((a**b).data, a_np**b_np)
    np.testing.assert_allclose((a @ b).data, a_np @ b_np)
    np.testing.assert_allclose((-a).data, -a_np)
    np.testing.assert_allclose((2.0 - a).data, 2.0 - a_np)
    np.testing.assert_allclose((2.0 / a).data, 2.0 / a_np)
    np.testing.assert_allclose((2.0**a).data, 2.0**a_np)
    np.testing.assert_allclose((3 * a + 1).data, 3 * a_np + 1)
    assert (+a) is a


def test_tensor_with_ndarray_on_either_side_gives_a_tensor():
    t = f64([1.0, 2.0])
    array = np.array([10.0, 20.0])
    for result in (t + array, array + t, array * t, array - t, array / t, t @ array, array @ t):
        assert isinstance(result, rp.Tensor)
        assert result.requires_grad
    np.testing.assert_array_equal((array - t).data, [9.0, 18.0])
    assert (array @ t).item() == 50.0
    (array * t).sum().backward()
    np.testing.assert_array_equal(t.grad, array)


def test_python_scalars_keep_float32():
    x = rp.tensor([1.0, 2.0])
    for result in (x + 1, 2.5 * x, x / 3, x**2, 1 - x, x - 0.5, np.float32(2) * x):
        assert result.dtype == np.float32


def test_integer_operand_takes_the_float_dtype():
    x = rp.tensor([1.0, 2.0])
    y = x + np.array([1, 2])
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.data, [2.0, 4.0])


def test_comparisons_give_boolean_tensors_without_grad():
    x = f64([1.0, 2.0, 3.0])
    other = np.array([3.0, 2.0, 1.0])
    cases = {
        "<": (x < other, [True, False, False]),
        "<=": (x <= 2.0, [True, True, False]),
        ">": (x > rp.tensor(other), [False, False, True]),
        ">=": (x >= 2.0, [False, True, True]),
        "==": (x == 2.0, [False, True, False]),
        "!=": (x != 2.0, [True, False, True]),
        "reflected": (other < x, [False, False, True]),
    }
    for name, (result, expected) in cases.items():
        assert isinstance(result, rp.Tensor), name
        assert result.dtype == np.bool_, name
        assert not result.requires_grad, name
        np.testing.assert_array_equal(result.data, expected, err_msg=name)


def test_indexing_with_slices_and_integer_arrays(rng):
    data = rng.standard_normal((4, 5))
    x = rp.tensor(data, requires_grad=True)
    np.testing.assert_array_equal(x[1:3, ::2].data, data[1:3, ::2])
    np.testing.assert_array_equal(x[[0, 2, 2]].data, data[[0, 2, 2]])
    np.testing.assert_array_equal(x[np.array([3, 0]), 1].data, data[[3, 0], 1])
    np.testing.assert_array_equal(x[rp.tensor(np.array([1, 1]))].data, data[[1, 1]])
    np.testing.assert_array_equal(x[x > 0].data, data[data > 0])
    assert x[2, 3].shape == ()


def test_indexing_gradient_accumulates_repeated_indices():
    x = f64([10.0, 20.0, 30.0, 40.0])
    y = x[[0, 2, 0, 0, 3]] * f64([1.0, 2.0, 3.0, 4.0, 5.0], requires_grad=False)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0 + 3.0 + 4.0, 0.0, 2.0, 5.0])


def test_indexing_gradient_of_rows_and_slices():
    x = rp.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    (x[[2, 2], 1:3].sum() + x[0].sum() * 2).backward()
    expected = np.zeros((3, 4))
    expected[2, 1:3] = 2.0
    expected[0] = 2.0
    np.testing.assert_array_equal(x.grad, expected)


def test_methods_match_numpy(rng):
    data = rng.uniform(0.5, 2.0, (2, 3, 4))
    x = rp.tensor(data)
    np.testing.assert_allclose(x.sum().data, data.sum())
    np.testing.assert_allclose(x.sum(axis=1).data, data.sum(axis=1))
    np.testing.assert_allclose(
        x.mean(axis=(0, 2), keepdims=True).data, data.mean(axis=(0, 2), keepdims=True)
    )
    np.testing.assert_allclose(x.max(axis=-1).data, data.max(axis=-1))
    np.testing.assert_allclose(x.min(axis=0).data, data.min(axis=0))
    np.testing.assert_allclose(x.exp().data, np.exp(data))
    np.testing.assert_allclose(x.log().data, np.log(data))
    np.testing.assert_allclose(x.sqrt().data, np.sqrt(data))
    np.testing.assert_allclose((-x).abs().data, data)
    np.testing.assert_allclose(x.clip(0.8, 1.5).data, np.clip(data, 0.8, 1.5))
    np.testing.assert_allclose(x.clip(min=1.0).data, np.maximum(data, 1.0))
    np.testing.assert_allclose(x.reshape(4, 6).data, data.reshape(4, 6))
    np.testing.assert_allclose(x.reshape((-1,)).data, data.reshape(-1))
    np.testing.assert_allclose(x.transpose().data, data.transpose())
    np.testing.assert_allclose(x.transpose(2, 0, 1).data, data.transpose(2, 0, 1))
    np.testing.assert_allclose(x.flatten(1).data, data.reshape(2, 12))
    assert x.astype(np.float32).dtype == np.float32
    assert x.sum(axis=1).shape == (2, 4)
    assert x.max(axis=(0, 1), keepdims=True).shape == (1, 1, 4)


def test_functions_match_numpy(rng):
    a_np, b_np = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    a, b = rp.tensor(a_np), rp.tensor(b_np)
    np.testing.assert_array_equal(rp.maximum(a, b).data, np.maximum(a_np, b_np))
    np.testing.assert_array_equal(rp.minimum(a, 0.0).data, np.minimum(a_np, 0.0))
    np.testing.assert_array_equal(rp.maximum(b_np, a).data, np.maximum(a_np, b_np))
    np.testing.assert_array_equal(rp.where(a > b, a, b).data, np.where(a_np > b_np, a_np, b_np))
    np.testing.assert_array_equal(rp.where(a_np > 0, a, 0.0).data, np.where(a_np > 0, a_np, 0))
    joined = rp.concatenate([a, b], axis=1)
    np.testing.assert_array_equal(joined.data, np.concatenate([a_np, b_np], axis=1))
    stacked = rp.stack([a, b], axis=-1)
    np.testing.assert_array_equal(stacked.data, np.stack([a_np, b_np], axis=-1))


def test_maximum_of_plain_arrays_does_not_mix_dtypes():
    assert rp.maximum(np.array([1.0, 3.0]), 2.0).dtype == np.float64
    with pytest.raises(TypeError, match="maximum: cannot combine float64"):
        rp.maximum(np.array([1.0]), np.array([2.0], dtype=np.float32))


# ---------------------------------------------------------------------------- no_grad
def test_no_grad_context_records_no_graph():
    w = f64([1.0, 2.0])
    with rp.no_grad():
        y = w * 3 + 1
        assert not rp.is_grad_enabled()
    assert rp.is_grad_enabled()
    assert not y.requires_grad
    assert y.grad_fn is None
    np.testing.assert_array_equal(y.data, [4.0, 7.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()


def test_no_grad_as_decorator_and_enable_grad_inside():
    w = f64([1.0, 2.0])

    @rp.no_grad()
    def predict(x):
        return x * w

    out = predict(2.0)
    assert not out.requires_grad
    assert rp.is_grad_enabled()
    with rp.no_grad():
        with rp.enable_grad():
            inner = w * 2
        outer = w * 2
    assert inner.requires_grad
    assert not outer.requires_grad


def test_no_grad_restores_mode_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with rp.no_grad():
            raise ZeroDivisionError
    assert rp.is_grad_enabled()


# ---------------------------------------------------------------------------- backward
def test_backward_through_a_chain_of_5000_ops():
    x = f64(1.0)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.backward()
    np.testing.assert_allclose(x.grad, 1.0001**5000, rtol=1e-12)


def test_broadcast_operand_gradient_is_summed_back_to_its_shape():
    column = f64(np.ones((3, 1)))
    row = f64(np.arange(4.0).reshape(1, 4))
    vector = f64([1.0, 2.0, 3.0, 4.0])
    scalar = f64(2.0)
    out = (column + row) * vector * scalar
    out.sum().backward()
    # d/dcolumn_i = sum_j vector_j * scalar = 20; d/drow_j = 3 * vector_j * scalar
    np.testing.assert_array_equal(column.grad, np.full((3, 1), 20.0))
    np.testing.assert_array_equal(row.grad, [[6.0, 12.0, 18.0, 24.0]])
    np.testing.assert_array_equal(vector.grad, 3 * 2.0 * (1 + np.arange(4.0)))
    np.testing.assert_allclose(scalar.grad, ((1 + np.arange(4.0)) ** 2).sum() * 3)
    for t in (column, row, vector, scalar):
        assert t.grad.shape == t.shape


def test_value_used_twice_sums_both_contributions():
    x = f64(3.0)
    (x * x + x).backward()
    assert x.grad == 7.0


def test_grad_accumulates_across_backward_calls():
    x = f64([1.0, 2.0])
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0 + 3.0, 4.0 + 3.0])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_accumulated_grad_is_not_aliased_with_another_leaf():
    a, b = f64([1.0]), f64([2.0])
    ((a + b) * 2.0).sum().backward()  # Add hands one (writable) array to both parents
    assert a.grad is not b.grad
    a.grad += 100.0
    np.testing.assert_array_equal(b.grad, [2.0])
    ((a + b) * 2.0).sum().backward()  # accumulation in place must not leak either
    np.testing.assert_array_equal(a.grad, [104.0])
    np.testing.assert_array_equal(b.grad, [4.0])


def test_graph_is_freed_and_second_backward_raises():
    x = f64([1.0, 2.0])
    loss = (x.exp() * 2).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()


def test_retain_graph_allows_a_second_backward():
    x = f64([1.0, 2.0])
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_array_equal(x.grad, 2 * np.array([2.0, 4.0]))


def test_backward_with_explicit_grad():
    x = f64([1.0, 2.0, 3.0])
    y = x * x
    y.backward(np.array([1.0, 0.5, -1.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 2.0, -6.0])


def test_detach_cuts_the_graph():
    x = f64([1.0, 2.0])
    frozen = (x * x).detach()
    assert not frozen.requires_grad
    assert frozen.grad_fn is None
    (x * frozen).sum().backward()  # only the direct path: d/dx = frozen
    np.testing.assert_array_equal(x.grad, [1.0, 4.0])
    assert np.shares_memory(x.detach().data, x.data)


def test_hook_sees_and_can_replace_the_gradient():
    x = f64([1.0, 2.0])
    hidden = x * 3
    seen = []
    hidden.register_hook(lambda grad: seen.append(grad.copy()))
    remove = x.register_hook(lambda grad: grad * 10)
    (hidden * hidden).sum().backward()
    np.testing.assert_array_equal(seen[0], [6.0, 12.0])  # dJ/dhidden = 2 hidden
    np.testing.assert_array_equal(x.grad, [180.0, 360.0])  # 3 * dJ/dhidden, times 10
    remove()
    x.grad = None
    (x * 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])


def test_retain_grad_keeps_the_gradient_of_an_intermediate():
    x = f64([1.0, -2.0])
    z = x * 2
    z.retain_grad()
    other = x * 5
    (z * z + other).sum().backward()
    np.testing.assert_array_equal(z.grad, [4.0, -8.0])  # delta = dJ/dz = 2 z
    assert other.grad is None
    np.testing.assert_array_equal(x.grad, [13.0, -11.0])


def test_leaf_that_does_not_reach_the_loss_keeps_none():
    used, unused = f64([1.0]), f64([1.0])
    (used * 2).sum().backward()
    assert unused.grad is None
    assert used.grad is not None


def test_grad_of_float32_leaf_is_float32_even_with_float64_seed():
    x = rp.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).backward(np.array([1.0, 1.0]))
    assert x.grad.dtype == np.float32


def test_value_reached_by_a_short_and_a_long_path_gets_both_gradients():
    # Regression: the topological order once marked nodes when pushed, so x (reached directly
    # by the add and through mul -> exp -> log) was processed before the long path's gradient
    # arrived, and dy/dx came out 1 instead of 4. Skip connections depend on this.
    x = rp.tensor(np.array([2.0]), requires_grad=True)
    (x + (x * 3.0).exp().log()).sum().backward()
    np.testing.assert_allclose(x.grad, [4.0])
    w = rp.tensor(np.array([0.3, -0.2]), requires_grad=True)
    assert rp.gradcheck(lambda w: (w + ((w * 3.0).exp() + 1.0).log() * w).sum(), [w])
