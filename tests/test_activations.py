"""Activations: values against their formulas, gradients against finite differences."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import retroprop as rp
import retroprop.nn.functional as F
from retroprop.ops.activation import erf_array, sigmoid_array, softplus_array

FAST = settings(max_examples=20, deadline=None)
seeds = st.integers(0, 2**32 - 1)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)

erf = np.vectorize(math.erf)


def sigmoid_ref(z):
    return 1 / (1 + np.exp(-z))


def softplus_ref(z):
    return np.log1p(np.exp(z))


REFERENCE = {
    "sigmoid": (F.sigmoid, sigmoid_ref),
    "tanh": (F.tanh, np.tanh),
    "relu": (F.relu, lambda z: np.where(z > 0, z, 0.0)),
    "leaky_relu": (F.leaky_relu, lambda z: np.where(z > 0, z, 0.01 * z)),
    "leaky_relu_0.2": (
        lambda x: F.leaky_relu(x, negative_slope=0.2), lambda z: np.where(z > 0, z, 0.2 * z)
    ),
    "elu": (F.elu, lambda z: np.where(z > 0, z, np.exp(z) - 1)),
    "elu_1.5": (lambda x: F.elu(x, alpha=1.5), lambda z: np.where(z > 0, z, 1.5 * (np.exp(z) - 1))),
    "gelu": (F.gelu, lambda z: z * 0.5 * (1 + erf(z / math.sqrt(2)))),
    "gelu_tanh": (
        lambda x: F.gelu(x, approximate="tanh"),
        lambda z: 0.5 * z * (1 + np.tanh(math.sqrt(2 / math.pi) * (z + 0.044715 * z**3))),
    ),
    "silu": (F.silu, lambda z: z * sigmoid_ref(z)),
    "swish": (F.swish, lambda z: z * sigmoid_ref(z)),
    "mish": (F.mish, lambda z: z * np.tanh(softplus_ref(z))),
    "softplus": (F.softplus, softplus_ref),
    "identity": (F.identity, lambda z: z),
}  # fmt: skip
KINKED = {"relu", "leaky_relu", "leaky_relu_0.2", "elu", "elu_1.5"}


def draw_input(rng, shape, name):
    """Standard normal values; away from 0 for the activations with a kink there."""
    z = rng.standard_normal(shape) * 2
    if name in KINKED:
        z = np.where(np.abs(z) < 0.1, z + np.copysign(0.2, z), z)
    return np.asarray(z)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_activation_values_match_the_formula(rng, name):
    fn, reference = REFERENCE[name]
    z = draw_input(rng, (4, 5), name)
    # atol: z Phi(z) for z < 0 cancels in 1 + erf(z / sqrt 2), in the reference as in ours
    np.testing.assert_allclose(fn(rp.tensor(z)).data, reference(z), rtol=1e-13, atol=1e-14)


@FAST
@given(shape=shapes, seed=seeds, name=st.sampled_from(sorted(REFERENCE)))
def test_activation_gradcheck(shape, seed, name):
    fn, _ = REFERENCE[name]
    z = draw_input(np.random.default_rng(seed), shape, name)
    assert rp.gradcheck(fn, [z])


def test_derivatives_in_the_course_notation():
    """sigma' = a (1 - a), tanh' = 1 - a^2, relu' = 1[z > 0], softplus' = sigma."""
    z = np.array([-2.0, -0.5, 0.5, 3.0])
    a = sigmoid_ref(z)
    cases = {
        F.sigmoid: a * (1 - a),
        F.tanh: 1 - np.tanh(z) ** 2,
        F.relu: np.array([0.0, 0.0, 1.0, 1.0]),
        F.leaky_relu: np.array([0.01, 0.01, 1.0, 1.0]),
        F.elu: np.array([np.exp(-2.0), np.exp(-0.5), 1.0, 1.0]),
        F.softplus: a,
        F.silu: a * (1 + z * (1 - a)),
    }
    for fn, expected in cases.items():
        x = rp.tensor(z.copy(), requires_grad=True)
        fn(x).sum().backward()
        np.testing.assert_allclose(x.grad, expected, rtol=1e-13, err_msg=fn.__name__)


def test_relu_gradient_at_zero_is_zero():
    x = rp.tensor(np.array([0.0, 0.0]), requires_grad=True)
    (F.relu(x) + F.leaky_relu(x, 0.1)).sum().backward()
    np.testing.assert_allclose(x.grad, [0.1, 0.1])


def test_identity_is_the_same_tensor():
    x = rp.tensor([1.0, 2.0], requires_grad=True)
    assert F.identity(x) is x


def test_gelu_rejects_an_unknown_approximation():
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh', got 'fast'"):
        F.gelu(rp.tensor([1.0]), approximate="fast")


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_and_log_softmax_gradcheck(rng, axis):
    z = rng.standard_normal((3, 4)) * 3
    assert rp.gradcheck(lambda t: F.softmax(t, axis=axis), [z])
    assert rp.gradcheck(lambda t: F.log_softmax(t, axis=axis), [z])


@FAST
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), seed=seeds, data=st.data())
def test_softmax_properties(shape, seed, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    z = np.random.default_rng(seed).standard_normal(shape) * 5
    a = F.softmax(rp.tensor(z), axis=axis).data
    expected = np.exp(z) / np.exp(z).sum(axis=axis, keepdims=True)
    np.testing.assert_allclose(a, expected, rtol=1e-12)
    np.testing.assert_allclose(a.sum(axis=axis), 1.0, rtol=1e-14)
    np.testing.assert_allclose(
        F.log_softmax(rp.tensor(z), axis=axis).data, np.log(expected), atol=1e-12
    )
    assert rp.gradcheck(lambda t: F.softmax(t, axis=axis) * F.log_softmax(t, axis=axis), [z])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_is_stable_for_huge_logits(dtype):
    z = rp.tensor(np.array([1000.0, 5000.0, 6000.0], dtype=dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = F.softmax(z)
        log_a = F.log_softmax(z)
        (a * np.arange(3.0).astype(dtype)).sum().backward()
    np.testing.assert_array_equal(a.data, [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(log_a.data, [-5000.0, -1000.0, 0.0])
    assert np.all(np.isfinite(z.grad))


def test_softmax_is_invariant_to_a_shift():
    z = np.array([[1.0, 2.0, 3.0]])
    np.testing.assert_allclose(
        F.softmax(rp.tensor(z + 700.0)).data, F.softmax(rp.tensor(z)).data, rtol=1e-14
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_saturating_activations_are_finite_without_warnings(dtype):
    z = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for fn in (F.sigmoid, F.tanh, F.softplus, F.silu, F.mish, F.elu, F.gelu):
            x = rp.tensor(z.copy(), requires_grad=True)
            out = fn(x)
            out.sum().backward()
            assert out.dtype == dtype
            assert np.all(np.isfinite(out.data)), fn.__name__
            assert np.all(np.isfinite(x.grad)), fn.__name__
    np.testing.assert_allclose(
        sigmoid_array(z),
        np.array([0.0, sigmoid_ref(-50.0), 0.5, sigmoid_ref(50.0), 1.0], dtype=dtype),
        rtol=1e-15,
    )
    np.testing.assert_array_equal(softplus_array(np.array([-1000.0, 1000.0])), [0.0, 1000.0])


def test_erf_array_matches_math_erf():
    x = np.concatenate([np.linspace(-8.0, 8.0, 4001), [-3.0, -2.9999999, 2.9999999, 3.0, 0.0]])
    np.testing.assert_allclose(erf_array(x), erf(x), rtol=0, atol=1e-14)
    assert erf_array(np.array([0.0]))[0] == 0.0
    assert erf_array(np.array([1e-300]))[0] > 0.0
    assert erf_array(np.array([-30.0]))[0] == -1.0


def test_erf_array_keeps_float32():
    x = np.linspace(-3, 3, 7, dtype=np.float32)
    result = erf_array(x)
    assert result.dtype == np.float32
    np.testing.assert_allclose(result, erf(x.astype(np.float64)), rtol=1e-6)
