"""``get_optimizer``: build an optimiser from its name, for configs and the command line."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from retroprop.optim.adagrad import Adagrad
from retroprop.optim.adam import Adam
from retroprop.optim.adamw import AdamW
from retroprop.optim.optimizer import Optimizer
from retroprop.optim.rmsprop import RMSprop
from retroprop.optim.sgd import SGD

__all__ = ["OPTIMIZERS", "get_optimizer"]

# name -> (class, defaults that differ from the class's own)
OPTIMIZERS: dict[str, tuple[Callable[..., Optimizer], dict[str, Any]]] = {
    "sgd": (SGD, {"lr": 0.01}),
    "momentum": (SGD, {"lr": 0.01, "momentum": 0.9}),
    "nesterov": (SGD, {"lr": 0.01, "momentum": 0.9, "nesterov": True}),
    "rmsprop": (RMSprop, {}),
    "adam": (Adam, {}),
    "adamw": (AdamW, {}),
    "adagrad": (Adagrad, {}),
}


def get_optimizer(name: str, params: Iterable[Any], **kwargs: Any) -> Optimizer:
    """Build the optimiser called ``name`` over ``params``.

    Parameters
    ----------
    name : str
        One of "sgd", "momentum" (SGD with momentum 0.9), "nesterov" (SGD with Nesterov
        momentum 0.9), "rmsprop", "adam", "adamw", "adagrad" (case does not matter).
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
    cls, defaults = OPTIMIZERS[key]
    return cls(params, **{**defaults, **kwargs})
