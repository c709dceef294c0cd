"""gradcheck itself: it passes right gradients and catches wrong ones, saying where."""

from __future__ import annotations

import re

import numpy as np
import pytest

import retroprop as rp


def make_cube(factor: float) -> type[rp.Function]:
    class Cube(rp.Function):
        """a = z ** 3;  da/dz = 3 z ** 2 (times ``factor``: 1 is right, anything else wrong)."""

        @staticmethod
        def forward(ctx, z):
            ctx.save_for_backward(z)
            return z**3

        @staticmethod
        def backward(ctx, grad_output):
            (z,) = ctx.saved_tensors
            return grad_output * factor * 3 * z**2

    return Cube


def test_right_backward_passes():
    cube = make_cube(1.0)
    assert rp.gradcheck(cube.apply, [np.array([[0.5, -1.0], [2.0, 1.5]])])


def test_wrong_backward_is_caught_naming_input_element_and_both_values():
    cube = make_cube(1.5)
    offset = np.array([0.1, 0.2, 0.3])
    x = np.array([0.5, -2.0, 1.0])
    with pytest.raises(rp.GradcheckError) as caught:
        rp.gradcheck(lambda a, b: (a + cube.apply(b)).sum(), [offset, x])
    message = str(caught.value)
    # Input 0 (offset) is right; input 1 is wrong everywhere, worst where |3 x^2| is largest.
    assert "gradient of input 1 (shape (3,))" in message
    assert "wrong at element (1,)" in message
    assert "3 of 3 elements disagree" in message
    found = re.search(r"backward gives (\S+), finite differences give (\S+) ", message)
    analytic, numerical = float(found.group(1)), float(found.group(2).rstrip(","))
    v = np.random.default_rng(0).standard_normal(())  # gradcheck's projection of the output
    np.testing.assert_allclose(analytic, v * 1.5 * 3 * 4.0, rtol=1e-7)
    np.testing.assert_allclose(numerical, v * 3 * 4.0, rtol=1e-7)


def test_wrong_backward_on_a_non_scalar_output_and_2d_input():
    cube = make_cube(0.5)
    x = np.array([[1.0, 2.0], [-3.0, 0.25]])
    with pytest.raises(rp.GradcheckError, match=r"input 0 \(shape \(2, 2\)\) is wrong at element"):
        rp.gradcheck(cube.apply, [x])
    assert rp.gradcheck(cube.apply, [x], raise_exception=False) is False


def test_small_error_within_tolerance_passes_and_beyond_fails():
    x = [np.array([1.0, 2.0])]
    assert rp.gradcheck(make_cube(1 + 1e-4).apply, x)  # inside rtol=1e-3
    assert not rp.gradcheck(make_cube(1 + 1e-2).apply, x, raise_exception=False)
    assert not rp.gradcheck(make_cube(1 + 1e-4).apply, x, rtol=1e-6, raise_exception=False)


def test_missing_gradient_is_caught():
    class Forgets(rp.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, grad_output):
            return None, None

    with pytest.raises(rp.GradcheckError, match="input 0"):
        rp.gradcheck(Forgets.apply, [np.array([2.0]), np.array([3.0])])


def test_inputs_are_copied_to_float64_and_left_untouched():
    x = rp.tensor(np.array([0.5, 1.5], dtype=np.float32), requires_grad=True)
    seen = []

    def fn(t):
        seen.append(t.dtype)
        return (t * t).sum()

    assert rp.gradcheck(fn, [x])
    assert set(seen) == {np.dtype(np.float64)}
    assert x.grad is None
    np.testing.assert_array_equal(x.data, np.array([0.5, 1.5], dtype=np.float32))


def test_constants_and_frozen_tensors_are_not_checked():
    frozen = rp.tensor(np.array([2.0, 3.0]))  # requires_grad=False: passed through
    labels = np.array([1, 0])
    calls = []

    def fn(x, w, k, y):
        calls.append((w.requires_grad, k, y.dtype))
        return (x * w * k).sum() + y.sum()

    assert rp.gradcheck(fn, [np.array([1.0, -1.0]), frozen, 4.0, labels])
    assert calls[0] == (False, 4.0, np.dtype(np.int64))
    assert len(calls) == 1 + 2 * 2  # one backward pass, two evaluations per element of x


def test_misuse_is_reported():
    with pytest.raises(ValueError, match="no input requires grad"):
        rp.gradcheck(lambda t: t, [rp.tensor(np.ones(2))])
    with pytest.raises(TypeError, match="fn must return a Tensor, got float"):
        rp.gradcheck(lambda t: 1.0, [np.ones(2)])
    with pytest.raises(rp.GradcheckError, match="does not depend on any checked input"):
        rp.gradcheck(lambda t: rp.tensor(np.ones(2)), [np.ones(2)])


def test_single_tensor_input_and_0d():
    assert rp.gradcheck(lambda t: t.exp(), rp.tensor(np.array(0.3), requires_grad=True))
