"""``get_optimizer``: build an optimiser from its name, for configs and the command line."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from retroprop.optim.optimizer import OPTIMIZERS, Optimizer

__all__ = ["OPTIMIZERS", "get_optimizer"]


def get_optimizer(name: str, params: Iterable[Any], **kwargs: Any) -> Optimizer:
    """Build the optimiser called ``name`` over ``params``.

    Parameters
    ----------
    name : str
        A name in :data:`~retroprop.optim.OPTIMIZERS`: "sgd", "momentum" (SGD with momentum
        0.9), "nesterov" (SGD with Nesterov momentum 0.9), "rmsprop", "adam", "adamw",
        "adagrad", and any optimiser registered since (case does not matter).
    params : iterable of Tensor or iterable of dict
        Parameters to optimise, or parameter groups.
    **kwargs
        Options passed to the optimiser; they override the defaults (lr=0.01 for the three SGD
        names, the class's own defaults otherwise).

    Returns
    -------
    Optimizer

    Raises
    ------
    ValueError
        If ``name`` is not one of the names above.

    Examples
    --------
    >>> w = rp.tensor([1.0], requires_grad=True)
    >>> optimizer = get_optimizer("nesterov", [w])
    >>> optimizer.defaults["lr"], optimizer.defaults["momentum"], optimizer.defaults["nesterov"]
    (0.01, 0.9, True)
    >>> get_optimizer("adam", [w], lr=0.1).defaults["lr"]
    0.1
    """
    key = name.lower() if isinstance(name, str) else name
    if key not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    spec = OPTIMIZERS[key]
    return spec.cls(params, **{**spec.defaults, **kwargs})
