"""Reductions, counts and losses at their boundary values and in float16 over many elements,
softmax at the largest logits, and the remaining ops; see ``tests/test_boundary_values.py``."""

from __future__ import annotations

import numpy as np
import pytest
from boundary_common import DTYPES, INF, LN2, NAN, torch
from boundary_common import check as _check
from boundary_common import silently as _silently

import retroprop as rp
import retroprop.nn.functional as F

# ---------------------------------------------------------------- reductions, ties, float16


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
