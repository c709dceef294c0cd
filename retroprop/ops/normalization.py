"""Batch normalisation as one fused op: its backward is a closed formula, not a chain of ops."""

from __future__ import annotations

import numpy as np

from retroprop.function import Function

__all__ = ["BatchNorm"]


class BatchNorm(Function):
    """y = gamma * x_hat + beta,  x_hat = (x - mu) / sqrt(var + eps), per feature (axis 1).

    ``mean`` and ``var`` (shape (C,)) are given by the caller: the batch's own statistics in
    training (``batch_stats=True``), the running ones in evaluation. With batch statistics mu
    and var depend on x, and over the n values of a feature, with g = dJ/dy * gamma,

        dJ/dx = (g - mean(g) - x_hat * mean(g * x_hat)) / sqrt(var + eps);

    with fixed statistics dJ/dx = g / sqrt(var + eps). In both cases
    dJ/dgamma = sum(dJ/dy * x_hat) and dJ/dbeta = sum(dJ/dy). ``gamma`` and ``beta`` may be
    None (no affine transform). Inputs are (N, C) or (N, C, L).
    """

    @staticmethod
    def forward(ctx, x, gamma, beta, *, mean, var, eps, batch_stats):
        view = (1, -1) + (1,) * (x.ndim - 2)
        inv_std = 1.0 / np.sqrt(var + eps)
        x_hat = (x - mean.reshape(view)) * inv_std.reshape(view)
        ctx.view = view
        ctx.axes = (0,) + tuple(range(2, x.ndim))
        ctx.batch_stats = batch_stats
        ctx.save_for_backward(x_hat, inv_std, gamma)
        if gamma is None:
            y = x_hat if beta is None else x_hat + beta.reshape(view)
        else:
            y = x_hat * gamma.reshape(view)
            if beta is not None:
                y += beta.reshape(view)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        x_hat, inv_std, gamma = ctx.saved_tensors
        needs_x, needs_gamma, needs_beta = ctx.needs_input_grad
        view, axes = ctx.view, ctx.axes
        grad_gamma = (grad_output * x_hat).sum(axis=axes) if needs_gamma else None
        grad_beta = grad_output.sum(axis=axes) if needs_beta else None
        grad_x = None
        if needs_x:
            g = grad_output if gamma is None else grad_output * gamma.reshape(view)
            if ctx.batch_stats:
                correction = g.mean(axis=axes, keepdims=True)
                correction = correction + x_hat * (g * x_hat).mean(axis=axes, keepdims=True)
                grad_x = (g - correction) * inv_std.reshape(view)
            else:
                grad_x = g * inv_std.reshape(view)
        return grad_x, grad_gamma, grad_beta
