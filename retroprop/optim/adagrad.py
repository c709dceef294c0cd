"""``Adagrad``: per-coordinate learning rates that shrink with the sum of squared gradients."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from retroprop.optim.optimizer import Optimizer, check_nonnegative, gradient

__all__ = ["Adagrad"]


class Adagrad(Optimizer, name="adagrad"):
    """Adagrad (Duchi, Hazan & Singer, 2011; PyTorch's ``torch.optim.Adagrad``).

    For each parameter ``p`` with gradient ``grad``, at its t-th update (``s`` starts at
    ``initial_accumulator_value``)::

        g = -grad if maximize else grad
        if weight_decay != 0:
            g = g + weight_decay * p
        lr_t = lr / (1 + (t - 1) * lr_decay)
        s = s + g**2                                    # sum of all squared gradients
        p = p - lr_t * g / (sqrt(s) + eps)

    Parameters
    ----------
    params : iterable of Tensor or iterable of dict
        Parameters to optimise, or parameter groups.
    lr : float, default 0.01
        The learning rate.
    lr_decay : float, default 0
        Learning-rate decay per update.
    weight_decay : float, default 0
        L2 penalty coefficient, added to the gradient.
    initial_accumulator_value : float, default 0
        Starting value of the sum of squared gradients.
    eps : float, default 1e-10
        Added to the denominator for numerical stability.
    maximize : bool, default False
        Ascend the objective instead of descending.

    Raises
    ------
    ValueError
        If any of lr, lr_decay, weight_decay, initial_accumulator_value, eps is negative.

    Examples
    --------
    >>> w = rp.tensor(np.array([1.0]), requires_grad=True)
    >>> optimizer = Adagrad([w], lr=0.5)
    >>> for grad in (3.0, 4.0):
    ...     w.grad = np.array([grad])
    ...     optimizer.step()               # 1 - 0.5 * 3/3 - 0.5 * 4/5
    >>> w.data.round(6)
    array([0.1])
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "eps": eps,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check(self, options: Mapping[str, Any]) -> None:
        check_nonnegative(
            options, "lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"
        )

    def _update(self, param: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        g = gradient(param, float(group["weight_decay"]), group["maximize"])
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(param.data, float(group["initial_accumulator_value"]))
        state["step"] += 1
        step_lr = float(group["lr"]) / (1.0 + (state["step"] - 1) * float(group["lr_decay"]))

        scratch = np.square(g)  # one temporary per step, reused below
        state["sum"] += scratch
        np.sqrt(state["sum"], out=scratch)
        scratch += float(group["eps"])
        np.divide(g, scratch, out=scratch)
        scratch *= step_lr
        param.data -= scratch
