"""``AdamW``: Adam with weight decay applied to the weights, not added to the gradient."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from retroprop.optim.adam import Adam

__all__ = ["AdamW"]


class AdamW(Adam, name="adamw"):
    """AdamW (Loshchilov & Hutter, 2019; PyTorch's ``torch.optim.AdamW``).

    Adam's rule, with the weight decay *decoupled* from the gradient: the weights shrink by
    ``lr * weight_decay`` of themselves before the Adam step, so the decay is not rescaled by
    ``1 / sqrt(v_hat)`` as an L2 term in the gradient would be. At the t-th update::

        g = -grad if maximize else grad
        p = p * (1 - lr * weight_decay)                 # decoupled weight decay
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)
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
    weight_decay : float, default 0.01
        Decoupled weight decay coefficient.
    amsgrad : bool, default False
        Use the running maximum of ``v``.
    maximize : bool, default False
        Ascend the objective instead of descending.

    Raises
    ------
    ValueError
        If lr, eps or weight_decay is negative, or a beta is outside [0, 1).

    Examples
    --------
    >>> w = rp.tensor(np.array([2.0]), requires_grad=True)
    >>> w.grad = np.array([0.5])
    >>> AdamW([w], lr=0.1, weight_decay=0.5).step()   # 2 * (1 - 0.05) - 0.1 * sign(g)
    >>> w.data.round(6)
    array([1.8])
    """

    decoupled_weight_decay = True

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)
