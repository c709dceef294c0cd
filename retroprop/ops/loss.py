"""Losses, fused with the output activation where the course simplifies the gradient.

With ``reduction="mean"`` the per-example losses are averaged, so dJ/dz carries a 1/N: the
course's "average of the gradients over the batch". float16 losses are summed and divided in
float32 and cast back, so a mean over more than 65504 elements stays right.
"""

from __future__ import annotations

import numpy as np

from retroprop.function import Function
from retroprop.ops._numerics import divide_by_count, wide_sum
from retroprop.ops.activation import sigmoid_array, softplus_array

__all__ = ["SquaredError", "BinaryCrossEntropy", "BinaryCrossEntropyWithLogits", "CrossEntropy"]

_LOG_FLOOR = -100.0  # PyTorch's clamp of log(p) in binary_cross_entropy


def _reduce(losses, reduction, count=None):
    """Apply ``reduction`` to per-element losses; ``count`` overrides the mean's divisor."""
    if reduction == "none":
        return losses
    if reduction == "sum":
        return wide_sum(losses)
    count = losses.size if count is None else count
    if losses.dtype.char == "e":  # a float16 total may pass 65504 before it is divided
        return (losses.sum(dtype=np.float32) / count).astype(np.float16)
    return losses.sum() / count


def _scale(grad_output, reduction, count):
    """dJ/d(per-element loss): the upstream gradient spread by the reduction."""
    if reduction != "mean":
        return grad_output
    if grad_output.dtype.char != "e":  # not float16: the hot path
        return grad_output / count
    return divide_by_count(grad_output, count)


class SquaredError(Function):
    """l = scale * (input - target)**2;  dl/d(input) = 2 * scale * (input - target).

    ``scale = 1`` is the MSE; ``scale = 1/2`` the course's pseudo-MSE, whose gradient is the
    error itself: epsilon = y_hat - y.
    """

    @staticmethod
    def forward(ctx, prediction, target, *, reduction="mean", scale=1.0):
        error = prediction - target
        ctx.save_for_backward(error)
        ctx.reduction, ctx.scale = reduction, scale
        squared = error * error
        if scale != 1.0:
            squared *= scale
        return _reduce(squared, reduction)

    @staticmethod
    def backward(ctx, grad_output):
        (error,) = ctx.saved_tensors
        factor = _scale(grad_output, ctx.reduction, error.size) * (2 * ctx.scale)
        grad = error * factor
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class BinaryCrossEntropy(Function):
    """l = -[y log p + (1 - y) log(1 - p)], each log clamped at -100 as PyTorch does;
    dl/dp = (p - y) / (p (1 - p)) (denominator floored at 1e-12),
    dl/dy = log(1 - p) - log(p) (clamped logs)."""

    @staticmethod
    def forward(ctx, p, y, weight=None, *, reduction="mean"):
        # Clamp the logs, not p: -100 stays exact in float32, where exp(-100) is subnormal.
        with np.errstate(divide="ignore"):  # log(0) = -inf, then clamped
            log_p = np.maximum(np.log(p), _LOG_FLOOR)
            log_not_p = np.maximum(np.log1p(-p), _LOG_FLOOR)
        losses = -(y * log_p + (1 - y) * log_not_p)
        if weight is not None:
            losses *= weight
        ctx.save_for_backward(p, y, weight, log_p, log_not_p)
        ctx.reduction = reduction
        return _reduce(losses, reduction)

    @staticmethod
    def backward(ctx, grad_output):
        p, y, weight, log_p, log_not_p = ctx.saved_tensors
        scale = _scale(grad_output, ctx.reduction, p.size)
        if weight is not None:
            scale = scale * weight
        grad_p = grad_y = None
        if ctx.needs_input_grad[0]:
            # float16 has no 1e-12 (it rounds to 0): floor in float32, then +-inf as PyTorch
            wide = p.astype(np.float32) if p.dtype.char == "e" else p
            grad_p = (wide - y) / np.maximum(wide * (1 - wide), 1e-12)
            grad_p *= scale
            if wide is not p:
                with np.errstate(over="ignore"):
                    grad_p = grad_p.astype(p.dtype)
        if ctx.needs_input_grad[1]:
            grad_y = (log_not_p - log_p) * scale
        return grad_p, grad_y, None


class BinaryCrossEntropyWithLogits(Function):
    """l = max(z, 0) - z y + log(1 + exp(-|z|)), the BCE of sigmoid(z) computed stably;
    dl/dz = sigmoid(z) - y  (with ``pos_weight`` w: sigmoid(z) (w y + 1 - y) - w y)."""

    @staticmethod
    def forward(ctx, z, y, weight=None, pos_weight=None, *, reduction="mean"):
        if pos_weight is None:
            losses = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
        else:
            losses = (1 - y) * z + (1 + (pos_weight - 1) * y) * softplus_array(-z)
        if weight is not None:
            losses *= weight
        ctx.save_for_backward(z, y, weight, pos_weight)
        ctx.reduction = reduction
        return _reduce(losses, reduction)

    @staticmethod
    def backward(ctx, grad_output):
        z, y, weight, pos_weight = ctx.saved_tensors
        s = sigmoid_array(z)
        if pos_weight is None:
            grad_z = s - y
        else:
            grad_z = s * (pos_weight * y + 1 - y) - pos_weight * y
        scale = _scale(grad_output, ctx.reduction, z.size)
        if weight is not None:
            scale = scale * weight
        grad_z *= scale
        grad_y = None
        if ctx.needs_input_grad[1]:
            grad_y = -z if pos_weight is None else -z + (pos_weight - 1) * softplus_array(-z)
            grad_y = grad_y * scale
        return grad_z, grad_y, None, None


class CrossEntropy(Function):
    """l = -sum_c y_c log softmax(z)_c on logits z (log-sum-exp with the max subtracted);
    dl/dz = softmax(z) - y.

    Logits that differ by more than the dtype's largest value give NumPy's overflow warning in
    the max subtraction (the hot path does not pay for ``np.errstate``); the values stay right
    (an infinite loss for the far class, as PyTorch).

    ``target`` holds integer class labels, shape (N,), or class probabilities, shape (N, C).
    ``weight`` (C,) rescales each class; with labels, the mean divides by the summed weights of
    the targets, as PyTorch does.
    """

    @staticmethod
    def forward(ctx, z, target, weight=None, *, reduction="mean"):
        shifted = z - z.max(axis=1, keepdims=True)
        log_sum = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        log_probs = shifted
        log_probs -= log_sum
        rows = np.arange(z.shape[0])
        labels = target.dtype.kind in "iu"
        if labels:
            losses = -log_probs[rows, target]
            example_weight = None if weight is None else weight[target]
            if example_weight is not None:
                losses *= example_weight
            count = z.shape[0] if example_weight is None else example_weight.sum()
        else:
            weighted_target = target if weight is None else target * weight
            losses = -(weighted_target * log_probs).sum(axis=1)
            count = z.shape[0]
        ctx.save_for_backward(log_probs, target, weight)
        ctx.labels, ctx.reduction, ctx.count = labels, reduction, count
        return _reduce(losses, reduction, count)

    @staticmethod
    def backward(ctx, grad_output):
        log_probs, target, weight = ctx.saved_tensors
        rows = np.arange(log_probs.shape[0])
        grad_z = np.exp(log_probs)  # softmax(z)
        scale = _scale(grad_output, ctx.reduction, ctx.count)
        if ctx.reduction == "none":
            scale = scale[:, None]
        grad_target = None
        if ctx.labels:
            grad_z[rows, target] -= 1
            if weight is not None:
                grad_z *= weight[target][:, None]
        else:
            weighted_target = target if weight is None else target * weight
            grad_z *= weighted_target.sum(axis=1, keepdims=True)
            grad_z -= weighted_target
            if ctx.needs_input_grad[1]:
                factor = -log_probs if weight is None else -log_probs * weight
                grad_target = factor * scale
        grad_z *= scale
        return grad_z, grad_target, None
