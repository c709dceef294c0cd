"""``RMSprop``: divide the gradient by a running root mean square of recent gradients."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from retroprop.optim.optimizer import (
    Optimizer,
    check_decay_rate,
    check_nonnegative,
    gradient,
    state_buffer,
)

__all__ = ["RMSprop"]


class RMSprop(Optimizer, name="rmsprop"):
    """RMSprop (Hinton's lecture 6e; PyTorch's ``torch.optim.RMSprop``).

    For each parameter ``p`` with gradient ``grad`` (``v``, ``g_avg``, ``b`` start at 0)::

        g = -grad if maximize else grad
        if weight_decay != 0:
            g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g**2              # running mean of squared gradients
        if centered:
            g_avg = alpha * g_avg + (1 - alpha) * g     # running mean of gradients
            denominator = sqrt(v - g_avg**2) + eps      # ... so v - g_avg**2 is a variance
        else:
            denominator = sqrt(v) + eps
        if momentum > 0:
            b = momentum * b + g / denominator
            p = p - lr * b
        else:
            p = p - lr * g / denominator

    Note that ``eps`` is added *outside* the square root, as in PyTorch (Keras adds it inside).

    Parameters
    ----------
    params : iterable of Tensor or iterable of dict
        Parameters to optimise, or parameter groups.
    lr : float, default 0.01
        The learning rate.
    alpha : float, default 0.99
        Decay rate of the running mean of squared gradients.
    eps : float, default 1e-8
        Added to the denominator for numerical stability.
    weight_decay : float, default 0
        L2 penalty coefficient, added to the gradient.
    momentum : float, default 0
        Momentum factor.
    centered : bool, default False
        Normalise by an estimate of the gradient's variance instead of its second moment.
    maximize : bool, default False
        Ascend the objective instead of descending.

    Raises
    ------
    ValueError
        If lr, eps, weight_decay or momentum is negative, or alpha is outside [0, 1).

    Examples
    --------
    >>> w = rp.tensor(np.array([1.0, -1.0]), requires_grad=True)
    >>> w.grad = np.array([3.0, -0.5])
    >>> RMSprop([w], lr=0.01).step()        # first step: v = 0.01 g**2, so p -= 0.01 * 10 sign(g)
    >>> w.data.round(6)
    array([ 0.9, -0.9])
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "alpha": alpha,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "centered": centered,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check(self, options: Mapping[str, Any]) -> None:
        check_nonnegative(options, "lr", "eps", "weight_decay", "momentum")
        check_decay_rate("alpha", options["alpha"])

    def _update(self, param: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        alpha, eps, momentum = float(group["alpha"]), float(group["eps"]), float(group["momentum"])
        g = gradient(param, float(group["weight_decay"]), group["maximize"])
        state["step"] = state.get("step", 0) + 1
        square_avg = state_buffer(state, "square_avg", param.data)

        scratch = np.square(g)  # one temporary per step, reused below
        scratch *= 1.0 - alpha
        np.multiply(square_avg, alpha, out=square_avg)
        square_avg += scratch
        if group["centered"]:
            grad_avg = state_buffer(state, "grad_avg", param.data)
            np.multiply(g, 1.0 - alpha, out=scratch)
            np.multiply(grad_avg, alpha, out=grad_avg)
            grad_avg += scratch
            np.square(grad_avg, out=scratch)
            np.subtract(square_avg, scratch, out=scratch)
            np.sqrt(scratch, out=scratch)
        else:
            np.sqrt(square_avg, out=scratch)
        scratch += eps
        np.divide(g, scratch, out=scratch)  # g / denominator

        if momentum > 0:
            buffer = state_buffer(state, "momentum_buffer", param.data)
            np.multiply(buffer, momentum, out=buffer)
            buffer += scratch
            np.multiply(buffer, float(group["lr"]), out=scratch)
        else:
            scratch *= float(group["lr"])
        param.data -= scratch
