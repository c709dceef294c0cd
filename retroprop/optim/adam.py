"""``Adam``: momentum on the gradient, RMSprop's scaling, and bias correction of both."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from retroprop._blas import axpby, axpy
from retroprop.optim.optimizer import (
    Optimizer,
    bias_correction,
    check_decay_rate,
    check_nonnegative,
    gradient,
    state_buffer,
)

__all__ = ["Adam"]


class Adam(Optimizer, name="adam"):
    """Adam (Kingma & Ba, 2015; PyTorch's ``torch.optim.Adam``).

    For each parameter ``p`` with gradient ``grad``, at its t-th update (``m``, ``v``,
    ``v_max`` start at 0)::

        g = -grad if maximize else grad
        if weight_decay != 0:
            g = g + weight_decay * p                    # L2 penalty, coupled (see AdamW)
        m = beta1 * m + (1 - beta1) * g                 # first moment: momentum
        v = beta2 * v + (1 - beta2) * g**2              # second moment: RMSprop
        m_hat = m / (1 - beta1**t)                      # bias corrections
        if amsgrad:
            v_max = max(v_max, v)
            v_hat = v_max / (1 - beta2**t)
        else:
            v_hat = v / (1 - beta2**t)
        p = p - lr * m_hat / (sqrt(v_hat) + eps)

    Parameters
    ----------
    params : iterable of Tensor or iterable of dict
        Parameters to optimise, or parameter groups.
    lr : float, default 1e-3
        The learning rate.
    betas : tuple of float, default (0.9, 0.999)
        Decay rates of the running means of the gradient and of its square.
    eps : float, default 1e-8
        Added to the denominator for numerical stability.
    weight_decay : float, default 0
        L2 penalty coefficient, added to the gradient.
    amsgrad : bool, default False
        Use the running maximum of ``v`` (Reddi et al., 2018).
    maximize : bool, default False
        Ascend the objective instead of descending.

    Raises
    ------
    ValueError
        If lr, eps or weight_decay is negative, or a beta is outside [0, 1).

    Examples
    --------
    >>> w = rp.tensor(np.array([1.0, 1.0]), requires_grad=True)
    >>> w.grad = np.array([4.0, -0.25])
    >>> Adam([w], lr=0.1).step()            # first step: m_hat = g, v_hat = g**2
    >>> w.data.round(6)                     # so p moves by lr * sign(g)
    array([0.9, 1.1])
    """

    decoupled_weight_decay = False

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check(self, options: Mapping[str, Any]) -> None:
        check_nonnegative(options, "lr", "eps", "weight_decay")
        beta1, beta2 = options["betas"]
        check_decay_rate("betas[0]", beta1)
        check_decay_rate("betas[1]", beta2)

    def _update(self, param: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        lr, eps, weight_decay = (
            float(group["lr"]),
            float(group["eps"]),
            float(group["weight_decay"]),
        )
        beta1, beta2 = (float(beta) for beta in group["betas"])
        if self.decoupled_weight_decay:
            if weight_decay != 0:
                param.data *= 1.0 - lr * weight_decay
            g = gradient(param, 0.0, group["maximize"])
        else:
            g = gradient(param, weight_decay, group["maximize"])
        state["step"] = step = state.get("step", 0) + 1
        exp_avg = state_buffer(state, "exp_avg", param.data)
        exp_avg_sq = state_buffer(state, "exp_avg_sq", param.data)

        # Seven passes over the parameter's values: each moment by one axpby (y = a x + b y),
        # then PyTorch's p -= (lr / c1) m / (sqrt(v) / sqrt(c2) + eps) with sqrt(c2) moved
        # into the step size: p -= (lr sqrt(c2) / c1) m / (sqrt(v) + eps sqrt(c2)).
        scratch = self._scratch(param.data)  # one work array for every parameter and step
        axpby(1.0 - beta1, g, beta1, exp_avg)
        np.square(g, out=scratch)  # the same bits as g * g, in half the time
        axpby(1.0 - beta2, scratch, beta2, exp_avg_sq)
        second_moment = exp_avg_sq
        if group["amsgrad"]:
            second_moment = state_buffer(state, "max_exp_avg_sq", param.data)
            np.maximum(second_moment, exp_avg_sq, out=second_moment)

        root_c2 = bias_correction(beta2, step) ** 0.5
        np.sqrt(second_moment, out=scratch)
        scratch += eps * root_c2
        np.divide(exp_avg, scratch, out=scratch)
        data = param.data
        axpy(-lr * root_c2 / bias_correction(beta1, step), scratch, data)
        param.data = data  # through the setter: the version counter sees the change
