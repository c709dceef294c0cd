"""rp.Function: a user-defined op, end to end, and the contract the engine keeps with it."""

from __future__ import annotations

import numpy as np
import pytest

import retroprop as rp


class ScaledProduct(rp.Function):
    """c = k * a * exp(b);  dc/da = k exp(b),  dc/db = c.  (k is an option.)"""

    calls: list[tuple[bool, ...]] = []

    @staticmethod
    def forward(ctx, a, b, *, k=1.0):
        e = np.exp(b)
        c = k * a * e
        ctx.save_for_backward(e, c)
        ctx.k = k
        return c

    @staticmethod
    def backward(ctx, grad_output):
        e, c = ctx.saved_tensors
        ScaledProduct.calls.append(ctx.needs_input_grad)
        needs_a, needs_b = ctx.needs_input_grad
        return (
            grad_output * ctx.k * e if needs_a else None,
            grad_output * c if needs_b else None,
        )


@pytest.fixture(autouse=True)
def _clear_calls():
    ScaledProduct.calls.clear()


def test_user_op_forward_and_backward_values():
    a = rp.tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = rp.tensor(np.array([0.0, np.log(3.0)]), requires_grad=True)
    c = ScaledProduct.apply(a, b, k=2.0)
    np.testing.assert_allclose(c.data, [2.0, 12.0])
    assert c.grad_fn is not None
    assert c.grad_fn.name == "ScaledProduct"
    assert c.grad_fn.parents == (a, b)
    c.sum().backward()
    np.testing.assert_allclose(a.grad, [2.0, 6.0])
    np.testing.assert_allclose(b.grad, [2.0, 12.0])


def test_user_op_passes_gradcheck_with_broadcasting(rng):
    a = rng.standard_normal((3, 1))
    b = rng.standard_normal((4,))
    assert rp.gradcheck(lambda x, y: ScaledProduct.apply(x, y, k=0.7), [a, b])


@pytest.mark.parametrize(
    ("a_requires", "b_requires", "expected"),
    [(True, True, (True, True)), (True, False, (True, False)), (False, True, (False, True))],
)
def test_needs_input_grad_is_one_flag_per_input(a_requires, b_requires, expected):
    a = rp.tensor(np.array([1.0]), requires_grad=a_requires)
    b = rp.tensor(np.array([0.5]), requires_grad=b_requires)
    ScaledProduct.apply(a, b).sum().backward()
    assert ScaledProduct.calls == [expected]
    assert (a.grad is not None) == a_requires
    assert (b.grad is not None) == b_requires


def test_constant_input_needs_no_grad():
    b = rp.tensor(np.array([0.0, 1.0]), requires_grad=True)
    out = ScaledProduct.apply(np.array([2.0, 3.0]), b)
    assert out.grad_fn.needs_input_grad == (False, True)
    out.sum().backward()
    np.testing.assert_allclose(b.grad, [2.0, 3.0 * np.e])


def test_no_input_requiring_grad_records_no_node():
    out = ScaledProduct.apply(rp.tensor(np.array([1.0])), rp.tensor(np.array([1.0])))
    assert out.grad_fn is None
    assert not out.requires_grad


def test_under_no_grad_no_node_is_recorded():
    a = rp.tensor(np.array([1.0]), requires_grad=True)
    with rp.no_grad():
        out = ScaledProduct.apply(a, a)
    assert out.grad_fn is None
    assert not out.requires_grad


def test_same_tensor_as_both_inputs_accumulates():
    x = rp.tensor(np.array([0.5]), requires_grad=True)
    ScaledProduct.apply(x, x).sum().backward()  # d/dx [x e^x] = e^x (1 + x)
    np.testing.assert_allclose(x.grad, np.exp(0.5) * 1.5)


def test_saved_tensors_are_freed_after_backward():
    a = rp.tensor(np.array([1.0]), requires_grad=True)
    out = ScaledProduct.apply(a, a)
    node = out.grad_fn
    e, c = node.saved_tensors
    np.testing.assert_allclose(c, np.e)
    out.sum().backward()
    with pytest.raises(RuntimeError, match=r"second time \(at ScaledProduct\)"):
        _ = node.saved_tensors


def test_forward_returning_a_numpy_scalar_gives_a_0d_array():
    class Total(rp.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.shape = x.shape
            return x.sum()  # a NumPy scalar, not an array

        @staticmethod
        def backward(ctx, grad_output):
            return np.full(ctx.shape, grad_output)

    x = rp.tensor(np.array([1.0, 2.0]), requires_grad=True)
    out = Total.apply(x)
    assert isinstance(out.data, np.ndarray)
    assert out.shape == ()
    out.backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])


def test_value_error_in_forward_becomes_shape_error_naming_op_and_inputs():
    class Strict(rp.Function):
        @staticmethod
        def forward(ctx, x):
            raise ValueError("rows must be even")

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output

    with pytest.raises(rp.ShapeError, match=r"Strict: rows must be even \(inputs: shape \(3,\)"):
        Strict.apply(rp.tensor(np.zeros(3)))


def test_wrong_number_of_gradients_is_an_error_naming_the_op():
    class Forgetful(rp.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output  # one gradient for two inputs

    a = rp.tensor(np.array([1.0]), requires_grad=True)
    b = rp.tensor(np.array([1.0]), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Forgetful.backward returned 1 gradient\(s\) for 2"):
        Forgetful.apply(a, b).sum().backward()


def test_gradient_of_the_wrong_shape_is_an_error_naming_the_op():
    class Misshapen(rp.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output[:2]

    x = rp.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Misshapen.backward returned .* shape \(2,\) .*\(3,\)"):
        Misshapen.apply(x).sum().backward()


def test_gradient_of_another_dtype_is_cast_to_the_input_dtype():
    class Sloppy(rp.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output.astype(np.float64) * 2

    x = rp.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    (Sloppy.apply(x) * 3).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [6.0, 6.0])
