"""Errors that explain: each names the op and the shapes or dtypes involved."""

from __future__ import annotations

import numpy as np
import pytest

import retroprop as rp
import retroprop.nn.functional as F


def test_matmul_of_mismatched_shapes():
    a, W = rp.tensor(np.ones((2, 3))), rp.tensor(np.ones((4, 5)))
    with pytest.raises(
        rp.ShapeError,
        match=r"MatMul: shapes \(2, 3\) and \(4, 5\) are not aligned: a has 3 columns but b has 4",
    ):
        a @ W
    with pytest.raises(rp.ShapeError, match=r"MatMul: .*\(3,\) @ \(\)"):
        rp.tensor(np.ones(3)) @ rp.tensor(np.array(2.0))


def test_matmul_of_unbroadcastable_batches():
    with pytest.raises(rp.ShapeError, match=r"MatMul: .*shape \(2, 3, 4\) .*shape \(3, 4, 5\)"):
        rp.tensor(np.ones((2, 3, 4))) @ rp.tensor(np.ones((3, 4, 5)))


def test_shape_error_is_a_value_error():
    assert issubclass(rp.ShapeError, ValueError)


@pytest.mark.parametrize(
    ("op", "symbol"),
    [
        (lambda a, b: a + b, "add"),
        (lambda a, b: a - b, "sub"),
        (lambda a, b: a * b, "mul"),
        (lambda a, b: a / b, "div"),
        (lambda a, b: a**b, "pow"),
        (lambda a, b: a @ b, "matmul"),
        (rp.maximum, "maximum"),
        (rp.minimum, "minimum"),
        (lambda a, b: rp.where(np.array([True, False]), a, b), "where"),
    ],
)
def test_mixing_float32_and_float64_is_an_error_naming_both(op, symbol):
    single = rp.tensor(np.ones(2, dtype=np.float32))
    double = rp.tensor(np.ones(2, dtype=np.float64))
    with pytest.raises(
        TypeError,
        match=rf"{symbol}: cannot combine float32 \(shape \(2,\)\) with float64 \(shape \(2,\)\)",
    ):
        op(single, double)
    with pytest.raises(TypeError, match=rf"{symbol}: cannot combine float64 .* with float32"):
        op(double, single)


def test_mixing_dtypes_with_a_plain_array_or_numpy_scalar():
    single = rp.tensor(np.ones(3, dtype=np.float32))
    with pytest.raises(
        TypeError, match=r"add: cannot combine float32 \(shape \(3,\)\) with float64"
    ):
        single + np.zeros(3)
    # A NumPy scalar acts as a Python number (PyTorch's rule): no error and no upcast.
    assert (single * np.float64(2.0)).dtype == np.float32
    assert (np.sqrt(2.0) * single).dtype == np.float32
    with pytest.raises(
        TypeError, match=r"mul: cannot combine float32 .* with float64 \(shape \(1,\)\)"
    ):
        single * np.array([2.0])


def test_concatenate_and_stack_of_mixed_dtypes():
    parts = [rp.tensor(np.ones(2, dtype=np.float32)), rp.tensor(np.ones(2))]
    with pytest.raises(TypeError, match=r"concatenate: .*\['float32', 'float64'\]"):
        rp.concatenate(parts)
    with pytest.raises(TypeError, match=r"stack: .*\['float32', 'float64'\]"):
        rp.stack(parts)


def test_broadcast_failure_names_the_op_and_shapes():
    with pytest.raises(rp.ShapeError, match=r"Add: .*shape \(2, 3\) float64, shape \(4,\) float64"):
        rp.tensor(np.ones((2, 3))) + rp.tensor(np.ones(4))


def test_bad_reshape_names_the_op():
    with pytest.raises(rp.ShapeError, match=r"Reshape: .*size 6 into shape \(4,\).*\(2, 3\)"):
        rp.tensor(np.ones((2, 3))).reshape(4)


def test_backward_on_a_non_scalar_without_grad():
    x = rp.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"backward\(\) without grad on a non-scalar .*\(2, 3\)"):
        (x * 2).backward()


def test_backward_with_a_grad_of_the_wrong_shape():
    x = rp.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(
        RuntimeError, match=r"grad has shape \(3,\) but the tensor has shape \(2, 3\)"
    ):
        (x * 2).backward(np.ones(3))


def test_backward_on_a_tensor_that_does_not_require_grad():
    with pytest.raises(RuntimeError, match=r"backward\(\) on a tensor that does not require grad"):
        rp.tensor(np.ones(3)).sum().backward()
    w = rp.tensor(np.ones(3), requires_grad=True)
    with rp.no_grad():
        loss = (w * 2).sum()
    with pytest.raises(RuntimeError, match=r"does not require grad \(shape \(\)\).*no_grad"):
        loss.backward()


def test_second_backward_through_a_freed_graph_names_the_op():
    w = rp.tensor(np.ones(3), requires_grad=True)
    loss = (w.exp() * 2).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match=r"second time \(at Sum\).*retain_graph=True"):
        loss.backward()
    # A new loss that reuses a freed part of the graph fails the same way.
    hidden = w.exp()
    (hidden * 2).sum().backward()
    with pytest.raises(RuntimeError, match=r"second time \(at Exp\)"):
        (hidden * 3).sum().backward()


def test_cross_entropy_labels_out_of_range_name_the_rows():
    logits = rp.tensor(np.zeros((5, 3)), requires_grad=True)
    with pytest.raises(ValueError, match=r"rows \[2, 4\] hold \[3, 7\]"):
        F.cross_entropy(logits, np.array([0, 1, 3, 2, 7]))


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="got dtype int64"):
        rp.tensor(np.array([1, 2]), requires_grad=True)
    with pytest.raises(TypeError, match="got int32"):
        rp.tensor(np.array([1, 2], dtype=np.int32)).requires_grad_()


def test_requires_grad_only_changes_leaves():
    w = rp.tensor(np.ones(2), requires_grad=True)
    with pytest.raises(RuntimeError, match="only change leaf tensors"):
        (w * 2).requires_grad_(False)


def test_hook_on_a_tensor_without_grad():
    with pytest.raises(RuntimeError, match="hook on a tensor that does not require grad"):
        rp.tensor(np.ones(2)).register_hook(lambda g: g)


def test_reduction_over_a_missing_axis():
    with pytest.raises(ValueError, match="axis 2 is out of bounds for an array of dimension 2"):
        rp.tensor(np.ones((2, 3))).mean(axis=(0, 2))


def test_clip_without_bounds():
    with pytest.raises(ValueError, match="Clip: clip needs min or max"):
        rp.tensor(np.ones(2)).clip()
