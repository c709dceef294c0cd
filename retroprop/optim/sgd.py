"""``SGD``: gradient descent with optional momentum, Nesterov momentum and weight decay."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from retroprop._blas import axpy
from retroprop.optim.optimizer import Optimizer, check_nonnegative, gradient, register_optimizer

__all__ = ["SGD"]


class SGD(Optimizer, name="sgd", defaults={"lr": 0.01}):
    """Stochastic gradient descent (PyTorch's ``torch.optim.SGD``).

    For each parameter ``p`` with gradient ``grad``, at its t-th update::

        g = -grad if maximize else grad
        if weight_decay != 0:
            g = g + weight_decay * p                    # L2 penalty (weight_decay/2) * ||p||^2
        if momentum != 0:
            b = g                                       if t == 1
            b = momentum * b + (1 - dampening) * g      if t > 1
            g = g + momentum * b  if nesterov else  b
        p = p - lr * g

    With ``momentum=0`` this is the course's update ``W = W - learning_rate * dJ/dW``; with
    ``momentum=0.9`` the buffer ``b`` is the velocity, an exponentially weighted sum of past
    gradients (no ``1 - beta`` factor, as in PyTorch).

    Parameters
    ----------
    params : iterable of Tensor or iterable of dict
        Parameters to optimise, or parameter groups (dicts with ``"params"`` and options).
    lr : float, default 1e-3
        The learning rate (PyTorch's default since 2.0).
    momentum : float, default 0
        Momentum factor.
    dampening : float, default 0
        Dampening of the momentum: the new gradient enters the buffer times ``1 - dampening``.
    weight_decay : float, default 0
        L2 penalty coefficient, added to the gradient.
    nesterov : bool, default False
        Nesterov momentum: step along ``g + momentum * b`` (needs momentum > 0, dampening = 0).
    maximize : bool, default False
        Ascend the objective instead of descending.

    Raises
    ------
    ValueError
        If lr, momentum or weight_decay is negative, or nesterov is asked for without
        momentum or with dampening.

    Examples
    --------
    >>> w = rp.tensor(np.array([1.0, -2.0]), requires_grad=True)
    >>> optimizer = SGD([w], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     optimizer.zero_grad()
    ...     (w * w).sum().backward()       # grad = 2 w
    ...     optimizer.step()
    >>> w.data                             # w1 = 0.8 w0;  w2 = w1 - 0.1 (0.9 * 2 w0 + 2 w1)
    array([ 0.46, -0.92])
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check(self, options: Mapping[str, Any]) -> None:
        check_nonnegative(options, "lr", "momentum", "weight_decay")
        momentum, dampening = options["momentum"], options["dampening"]
        if options["nesterov"] and (momentum <= 0 or dampening != 0):
            raise ValueError(
                "nesterov=True needs momentum > 0 and dampening = 0, "
                f"got momentum={momentum!r}, dampening={dampening!r}"
            )

    def _update(self, param: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        momentum = float(group["momentum"])
        direction = gradient(param, float(group["weight_decay"]), group["maximize"])
        if momentum != 0:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buffer = state["momentum_buffer"] = direction.astype(param.data.dtype, copy=True)
            else:
                dampening = float(group["dampening"])
                np.multiply(buffer, momentum, out=buffer)
                buffer += direction if dampening == 0 else (1.0 - dampening) * direction
            direction = direction + momentum * buffer if group["nesterov"] else buffer
        data = param.data
        axpy(-float(group["lr"]), direction, data)  # p -= lr * g, one pass, no temporary
        param.data = data  # through the setter: the version counter sees the change


register_optimizer("momentum", SGD, lr=0.01, momentum=0.9)
register_optimizer("nesterov", SGD, lr=0.01, momentum=0.9, nesterov=True)
