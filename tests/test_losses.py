"""Losses: values, PyTorch's reductions, finite-difference gradients, fused == unfused."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import retroprop as rp
import retroprop.nn.functional as F

FAST = settings(max_examples=20, deadline=None)
seeds = st.integers(0, 2**32 - 1)
shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)
REDUCTIONS = ["mean", "sum", "none"]


def reduce(losses, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction](losses)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def one_hot(labels, classes):
    return np.eye(classes)[labels]


# ---------------------------------------------------------------------------- squared error
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_and_pseudo_mse_values(rng, reduction):
    y_hat, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    mse = F.mse_loss(rp.tensor(y_hat), y, reduction=reduction)
    pseudo = F.pseudo_mse_loss(rp.tensor(y_hat), y, reduction=reduction)
    np.testing.assert_allclose(mse.data, reduce((y_hat - y) ** 2, reduction), rtol=1e-14)
    np.testing.assert_allclose(pseudo.data, reduce(0.5 * (y_hat - y) ** 2, reduction), rtol=1e-14)


def test_pseudo_mse_gradient_is_the_error():
    """The course's l = 1/2 sum (y_hat - y)^2 has dl/dy_hat = epsilon = y_hat - y."""
    y_hat = rp.tensor(np.array([0.8, 0.1, 0.5]), requires_grad=True)
    y = np.array([1.0, 0.0, 0.5])
    F.pseudo_mse_loss(y_hat, y, reduction="sum").backward()
    np.testing.assert_allclose(y_hat.grad, [-0.2, 0.1, 0.0], atol=1e-15)
    y_hat.grad = None
    F.mse_loss(y_hat, y).backward()  # 2 (y_hat - y) / N
    np.testing.assert_allclose(y_hat.grad, np.array([-0.4, 0.2, 0.0]) / 3, atol=1e-15)


@FAST
@given(shape=shapes, seed=seeds, reduction=st.sampled_from(REDUCTIONS))
def test_squared_error_gradcheck(shape, seed, reduction):
    rng = np.random.default_rng(seed)
    y_hat, y = rng.standard_normal(shape), rng.standard_normal(shape)
    for loss in (F.mse_loss, F.pseudo_mse_loss):
        assert rp.gradcheck(lambda p, t, loss=loss: loss(p, t, reduction=reduction), [y_hat, y])


# ---------------------------------------------------------------------------- BCE
def probabilities(rng, shape):
    return np.asarray(rng.uniform(0.05, 0.95, shape))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_values(rng, reduction):
    p, y = probabilities(rng, (5, 2)), rng.uniform(0, 1, (5, 2))
    weight = rng.uniform(0.5, 2.0, (5, 1))
    expected = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    loss = F.binary_cross_entropy(rp.tensor(p), y, reduction=reduction)
    np.testing.assert_allclose(loss.data, reduce(expected, reduction), rtol=1e-13)
    weighted = F.binary_cross_entropy(rp.tensor(p), y, weight=weight, reduction=reduction)
    np.testing.assert_allclose(weighted.data, reduce(expected * weight, reduction), rtol=1e-13)


@FAST
@given(shape=shapes, seed=seeds, reduction=st.sampled_from(REDUCTIONS), weighted=st.booleans())
def test_bce_gradcheck(shape, seed, reduction, weighted):
    rng = np.random.default_rng(seed)
    p, y = probabilities(rng, shape), rng.uniform(0, 1, shape)
    weight = rng.uniform(0.5, 2.0, shape) if weighted else None

    def loss(p_, y_):
        return F.binary_cross_entropy(p_, y_, weight=weight, reduction=reduction)

    assert rp.gradcheck(loss, [p, y])  # both the prediction and the target


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_clamps_the_log_at_minus_100_like_pytorch(dtype):
    p = rp.tensor(np.array([0.0, 1.0, 0.0, 1.0], dtype=dtype), requires_grad=True)
    y = np.array([1.0, 0.0, 0.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.binary_cross_entropy(p, y, reduction="none")
        loss.sum().backward()
    np.testing.assert_array_equal(loss.data, [100.0, 100.0, 0.0, 0.0])
    assert loss.dtype == dtype
    # PyTorch: (p - y) / max(p (1 - p), 1e-12)
    np.testing.assert_allclose(p.grad, [-1e12, 1e12, 0.0, 0.0], rtol=1e-6)


def test_bce_target_gradient_is_that_of_the_clamped_loss():
    """dl/dy = max(log(1 - p), -100) - max(log p, -100): finite even at p = 0 or 1."""
    p = rp.tensor(np.array([0.0, 1.0, 0.25]))
    y = rp.tensor(np.array([0.5, 0.5, 0.5]), requires_grad=True)
    F.binary_cross_entropy(p, y, reduction="sum").backward()
    np.testing.assert_allclose(y.grad, [100.0, -100.0, np.log(0.75) - np.log(0.25)], rtol=1e-14)


def test_bce_rejects_values_outside_0_1_naming_where():
    with pytest.raises(ValueError, match=r"outside at \[\[1\], \[3\]\].*with_logits"):
        F.binary_cross_entropy(rp.tensor([0.5, 1.5, 0.2, -0.1]), [1.0, 0.0, 1.0, 0.0])


# ---------------------------------------------------------------------------- BCE with logits
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_values(rng, reduction):
    z, y = rng.standard_normal((4, 3)) * 3, rng.uniform(0, 1, (4, 3))
    pos_weight = rng.uniform(0.5, 3.0, 3)
    weight = rng.uniform(0.5, 2.0, (4, 1))
    s = sigmoid(z)
    plain = -(y * np.log(s) + (1 - y) * np.log(1 - s))
    with_pos = -(pos_weight * y * np.log(s) + (1 - y) * np.log(1 - s))
    cases = [
        ({}, plain),
        ({"weight": weight}, plain * weight),
        ({"pos_weight": pos_weight}, with_pos),
        ({"weight": weight, "pos_weight": pos_weight}, with_pos * weight),
    ]
    for options, expected in cases:
        loss = F.binary_cross_entropy_with_logits(rp.tensor(z), y, reduction=reduction, **options)
        np.testing.assert_allclose(loss.data, reduce(expected, reduction), rtol=1e-12)


@FAST
@given(
    shape=shapes,
    seed=seeds,
    reduction=st.sampled_from(REDUCTIONS),
    weighted=st.booleans(),
    positive_weighted=st.booleans(),
)
def test_bce_with_logits_gradcheck(shape, seed, reduction, weighted, positive_weighted):
    rng = np.random.default_rng(seed)
    z, y = rng.standard_normal(shape) * 3, rng.uniform(0, 1, shape)
    weight = rng.uniform(0.5, 2.0, shape) if weighted else None
    pos_weight = rng.uniform(0.5, 3.0, shape[-1:]) if positive_weighted else None

    def loss(z_, y_):
        return F.binary_cross_entropy_with_logits(
            z_, y_, weight=weight, reduction=reduction, pos_weight=pos_weight
        )

    assert rp.gradcheck(loss, [z, y])


def test_bce_with_logits_gradient_is_sigmoid_minus_y():
    z = rp.tensor(np.array([-2.0, 0.0, 3.0, 0.5]), requires_grad=True)
    y = np.array([0.0, 1.0, 1.0, 0.3])
    F.binary_cross_entropy_with_logits(z, y).backward()
    np.testing.assert_allclose(z.grad, (sigmoid(z.data) - y) / 4, rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_with_logits_is_exact_for_huge_logits(dtype):
    z = rp.tensor(np.array([1000.0, -1000.0, 1000.0, -1000.0], dtype=dtype), requires_grad=True)
    y = np.array([1.0, 1.0, 0.0, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.binary_cross_entropy_with_logits(z, y, reduction="none")
        loss.sum().backward()
        weighted = F.binary_cross_entropy_with_logits(z, y, reduction="none", pos_weight=[2.0] * 4)
    np.testing.assert_array_equal(loss.data, [0.0, 1000.0, 1000.0, 0.0])
    np.testing.assert_array_equal(z.grad, [0.0, -1.0, 1.0, 0.0])
    np.testing.assert_array_equal(weighted.data, [0.0, 2000.0, 1000.0, 0.0])


# ---------------------------------------------------------------------------- cross-entropy
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_values_with_labels_and_probabilities(rng, reduction):
    z = rng.standard_normal((5, 4)) * 2
    labels = np.array([0, 3, 1, 1, 2])
    log_p = np.log(softmax(z))
    picked = -log_p[np.arange(5), labels]
    loss = F.cross_entropy(rp.tensor(z), labels, reduction=reduction)
    np.testing.assert_allclose(loss.data, reduce(picked, reduction), rtol=1e-13)
    target = softmax(rng.standard_normal((5, 4)))
    soft = F.cross_entropy(rp.tensor(z), target, reduction=reduction)
    np.testing.assert_allclose(soft.data, reduce(-(target * log_p).sum(1), reduction), rtol=1e-13)


def test_cross_entropy_class_weights_follow_pytorch(rng):
    z = rng.standard_normal((5, 3))
    labels = np.array([0, 2, 2, 1, 0])
    weight = np.array([0.5, 2.0, 3.0])
    log_p = np.log(softmax(z))
    per_example = -log_p[np.arange(5), labels] * weight[labels]
    mean = F.cross_entropy(rp.tensor(z), labels, weight=weight)
    np.testing.assert_allclose(mean.data, per_example.sum() / weight[labels].sum(), rtol=1e-13)
    target = softmax(rng.standard_normal((5, 3)))
    soft = F.cross_entropy(rp.tensor(z), target, weight=weight)  # probabilities: mean over N
    np.testing.assert_allclose(soft.data, -(target * weight * log_p).sum() / 5, rtol=1e-13)


@FAST
@given(
    n=st.integers(1, 5),
    classes=st.integers(2, 5),
    seed=seeds,
    reduction=st.sampled_from(REDUCTIONS),
    weighted=st.booleans(),
)
def test_cross_entropy_gradcheck_labels(n, classes, seed, reduction, weighted):
    rng = np.random.default_rng(seed)
    z, labels = rng.standard_normal((n, classes)) * 2, rng.integers(0, classes, n)
    weight = rng.uniform(0.5, 2.0, classes) if weighted else None
    assert rp.gradcheck(
        lambda t: F.cross_entropy(t, labels, weight=weight, reduction=reduction), [z]
    )


@FAST
@given(
    n=st.integers(1, 5),
    classes=st.integers(2, 5),
    seed=seeds,
    reduction=st.sampled_from(REDUCTIONS),
    weighted=st.booleans(),
)
def test_cross_entropy_gradcheck_probabilities(n, classes, seed, reduction, weighted):
    rng = np.random.default_rng(seed)
    z, target = rng.standard_normal((n, classes)) * 2, softmax(rng.standard_normal((n, classes)))
    weight = rng.uniform(0.5, 2.0, classes) if weighted else None

    def loss(z_, y_):
        return F.cross_entropy(z_, y_, weight=weight, reduction=reduction)

    assert rp.gradcheck(loss, [z, target])  # the logits and the target


def test_cross_entropy_gradient_is_softmax_minus_one_hot(rng):
    z = rp.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    labels = np.array([2, 0, 1, 2])
    F.cross_entropy(z, labels).backward()
    np.testing.assert_allclose(z.grad, (softmax(z.data) - one_hot(labels, 3)) / 4, atol=1e-15)


def test_cross_entropy_of_one_example():
    z = rp.tensor(np.array([1.0, 2.0, 0.5]), requires_grad=True)
    loss = F.cross_entropy(z, 1)
    expected = -np.log(softmax(z.data[None]))[0, 1]
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-14)
    loss.backward()
    np.testing.assert_allclose(z.grad, softmax(z.data[None])[0] - [0, 1, 0], atol=1e-15)
    assert F.cross_entropy(z, 1, reduction="none").shape == ()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_is_finite_for_huge_logits(dtype):
    z = rp.tensor(np.array([[1000.0, -1000.0], [0.0, 5000.0]], dtype=dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.cross_entropy(z, np.array([1, 1]), reduction="none")
        loss.sum().backward()
    np.testing.assert_array_equal(loss.data, [2000.0, 0.0])
    np.testing.assert_array_equal(z.grad, [[1.0, -1.0], [0.0, 0.0]])


# ---------------------------------------------------------------------------- fused == unfused
@FAST
@given(shape=shapes, seed=seeds, reduction=st.sampled_from(REDUCTIONS))
def test_bce_of_sigmoid_equals_bce_with_logits(shape, seed, reduction):
    rng = np.random.default_rng(seed)
    z_np, y = rng.standard_normal(shape) * 3, rng.uniform(0, 1, shape)
    z_fused = rp.tensor(z_np.copy(), requires_grad=True)
    z_unfused = rp.tensor(z_np.copy(), requires_grad=True)
    fused = F.binary_cross_entropy_with_logits(z_fused, y, reduction=reduction)
    unfused = F.binary_cross_entropy(F.sigmoid(z_unfused), y, reduction=reduction)
    np.testing.assert_allclose(fused.data, unfused.data, rtol=1e-10)
    upstream = rng.standard_normal(fused.shape)
    fused.backward(upstream)
    unfused.backward(upstream)
    np.testing.assert_allclose(z_fused.grad, z_unfused.grad, rtol=1e-9, atol=1e-14)


@FAST
@given(n=st.integers(1, 5), classes=st.integers(2, 5), seed=seeds)
@example(n=1, classes=2, seed=3)
@example(n=1, classes=2, seed=13)  # loss ~1e-6: the unfused -log(softmax) is off by ~1 ulp of p
def test_cross_entropy_equals_negative_log_softmax_picked(n, classes, seed):
    rng = np.random.default_rng(seed)
    z_np, labels = rng.standard_normal((n, classes)) * 3, rng.integers(0, classes, n)
    target = softmax(rng.standard_normal((n, classes)))
    z = [rp.tensor(z_np.copy(), requires_grad=True) for _ in range(5)]
    losses = [
        F.cross_entropy(z[0], labels),
        -F.log_softmax(z[1])[np.arange(n), labels].mean(),
        -F.softmax(z[2])[np.arange(n), labels].log().mean(),
        F.cross_entropy(z[3], target, reduction="sum"),
        -(F.log_softmax(z[4]) * target).sum(),
    ]
    for loss in losses:
        loss.backward()
    # softmax then log rounds p (<= 1) to an ulp of 1 first: the unfused routes carry an absolute
    # error of a few eps, which is all of a loss near 0 (the fused one does not: -z_y + logsumexp)
    atol = 4 * np.finfo(np.float64).eps
    for fused, unfused in ((0, 1), (0, 2), (3, 4)):
        np.testing.assert_allclose(losses[fused].data, losses[unfused].data, rtol=1e-12, atol=atol)
        np.testing.assert_allclose(z[fused].grad, z[unfused].grad, rtol=1e-10, atol=1e-14)


# ---------------------------------------------------------------------------- arguments
def test_float64_targets_do_not_upcast_a_float32_prediction():
    y_hat = rp.tensor([0.2, 0.7], requires_grad=True)
    y = np.array([0.0, 1.0])
    for loss in (
        F.mse_loss(y_hat, y),
        F.pseudo_mse_loss(y_hat, y),
        F.binary_cross_entropy(y_hat, y),
        F.binary_cross_entropy_with_logits(y_hat, y, pos_weight=np.array([2.0, 2.0])),
        F.cross_entropy(y_hat.reshape(1, 2), np.array([[0.3, 0.7]]), weight=np.ones(2)),
    ):
        assert loss.dtype == np.float32
        loss.backward()
        assert y_hat.grad.dtype == np.float32


@pytest.mark.parametrize(
    "loss",
    [F.mse_loss, F.pseudo_mse_loss, F.binary_cross_entropy, F.binary_cross_entropy_with_logits],
)
def test_reduction_and_shape_are_validated(loss):
    p = rp.tensor([0.5, 0.5])
    with pytest.raises(ValueError, match=r"reduction must be one of \('mean', 'sum', 'none'\)"):
        loss(p, [1.0, 0.0], reduction="average")
    with pytest.raises(rp.ShapeError, match=r"input has shape \(2,\) but target has shape \(3,\)"):
        loss(p, [1.0, 0.0, 1.0])


def test_cross_entropy_argument_errors():
    z = rp.tensor(np.zeros((4, 3)))
    with pytest.raises(
        ValueError, match=r"labels must lie in \[0, 3\).*rows \[1, 3\] hold \[3, -1\]"
    ):
        F.cross_entropy(z, np.array([0, 3, 2, -1]))
    with pytest.raises(TypeError, match="class labels must be integers, got float64"):
        F.cross_entropy(z, np.array([0.0, 1.0, 2.0, 1.0]))
    with pytest.raises(rp.ShapeError, match=r"4 rows of logits but labels of shape \(3,\)"):
        F.cross_entropy(z, np.array([0, 1, 2]))
    with pytest.raises(rp.ShapeError, match=r"weight must have shape \(3,\), got \(2,\)"):
        F.cross_entropy(z, np.array([0, 1, 2, 0]), weight=[1.0, 2.0])
    with pytest.raises(rp.ShapeError, match=r"\(N, C\) logits, got shape \(2, 2, 3\)"):
        F.cross_entropy(rp.tensor(np.zeros((2, 2, 3))), np.array([0, 1]))
