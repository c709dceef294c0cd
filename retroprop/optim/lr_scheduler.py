"""Learning-rate schedulers: change ``optimizer.param_groups[i]["lr"]`` between epochs.

Call ``scheduler.step()`` once per epoch, *after* the epoch's ``optimizer.step()`` calls, as in
PyTorch. Each scheduler computes the next rate from the group's current one (PyTorch's
"chainable" form), so two schedulers, or a scheduler and a manual change, compose; without
other changes the rates equal the closed forms given in the docstrings.
"""

from __future__ import annotations

import copy
import math
from typing import Any, Literal

from retroprop.optim.optimizer import Optimizer

__all__ = [
    "LRScheduler",
    "ExponentialLR",
    "StepLR",
    "CosineAnnealingLR",
    "ReduceLROnPlateau",
]


class LRScheduler:
    """Base class: remembers each group's initial rate and sets the rates at each ``step()``.

    Parameters
    ----------
    optimizer : Optimizer
        The optimiser whose learning rates are scheduled.
    last_epoch : int, default -1
        The index of the last epoch; -1 starts a new schedule, a larger value resumes one (the
        groups must then hold ``"initial_lr"``, as a loaded optimiser state does).

    Attributes
    ----------
    base_lrs : list of float
        The initial learning rate of each group.
    last_epoch : int
        How many times ``step()`` has been called since the start (0 right after construction).
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        for number, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(
                    f"param_groups[{number}] has no 'initial_lr' to resume from "
                    f"last_epoch={last_epoch}; load the optimizer's state dict first"
                )
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._initial = True  # the constructor's step keeps the current rates
        self.step()
        self._initial = False

    def get_lr(self) -> list[float]:
        """The rates for the epoch ``last_epoch``, from the groups' current rates."""
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and set each group's learning rate."""
        self._step_count += 1
        self.last_epoch += 1
        groups = self.optimizer.param_groups
        lrs = [group["lr"] for group in groups] if self._initial else self.get_lr()
        for group, lr in zip(groups, lrs, strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in groups]

    def get_last_lr(self) -> list[float]:
        """The learning rate of each group as set by the last ``step()``."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state: every attribute but the optimiser (a copy)."""
        return copy.deepcopy({key: v for key, v in self.__dict__.items() if key != "optimizer"})

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state returned by :meth:`state_dict`."""
        self.__dict__.update(copy.deepcopy(state_dict))

    def _group_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every epoch: ``lr = base_lr * gamma**epoch``.

    The course's ``lr_decay`` per epoch.

    Parameters
    ----------
    optimizer : Optimizer
        The optimiser whose learning rates are scheduled.
    gamma : float
        The factor applied each epoch.
    last_epoch : int, default -1
        The index of the last epoch (-1 for a new schedule).

    Examples
    --------
    >>> from retroprop.optim import SGD
    >>> optimizer = SGD([rp.tensor([1.0], requires_grad=True)], lr=1.0)
    >>> scheduler = ExponentialLR(optimizer, gamma=0.5)
    >>> for epoch in range(3):
    ...     optimizer.step()
    ...     scheduler.step()
    ...     print(scheduler.last_epoch, scheduler.get_last_lr())
    1 [0.5]
    2 [0.25]
    3 [0.125]
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        if not gamma >= 0:
            raise ValueError(f"gamma must be >= 0, got gamma={gamma!r}")
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [lr * self.gamma for lr in self._group_lrs()]


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    ``lr = base_lr * gamma**(epoch // step_size)``

    Parameters
    ----------
    optimizer : Optimizer
        The optimiser whose learning rates are scheduled.
    step_size : int
        The number of epochs between two decays.
    gamma : float, default 0.1
        The factor applied at each decay.
    last_epoch : int, default -1
        The index of the last epoch (-1 for a new schedule).

    Examples
    --------
    >>> from retroprop.optim import SGD
    >>> optimizer = SGD([rp.tensor([1.0], requires_grad=True)], lr=1.0)
    >>> scheduler = StepLR(optimizer, step_size=2, gamma=0.5)
    >>> lrs = []
    >>> for epoch in range(5):
    ...     lrs.append(scheduler.get_last_lr()[0])
    ...     scheduler.step()
    >>> lrs
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        if not (isinstance(step_size, int) and step_size >= 1):
            raise ValueError(f"step_size must be an integer >= 1, got step_size={step_size!r}")
        if not gamma >= 0:
            raise ValueError(f"gamma must be >= 0, got gamma={gamma!r}")
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch % self.step_size != 0:
            return self._group_lrs()
        return [lr * self.gamma for lr in self._group_lrs()]


class CosineAnnealingLR(LRScheduler):
    """Anneal the learning rate from its initial value to ``eta_min`` along half a cosine.

    ``lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2``; past
    ``T_max`` the rate climbs back along the cosine, as in PyTorch (no restart).

    Parameters
    ----------
    optimizer : Optimizer
        The optimiser whose learning rates are scheduled.
    T_max : int
        The number of epochs of the descent.
    eta_min : float, default 0
        The smallest learning rate.
    last_epoch : int, default -1
        The index of the last epoch (-1 for a new schedule).

    Examples
    --------
    >>> from retroprop.optim import SGD
    >>> optimizer = SGD([rp.tensor([1.0], requires_grad=True)], lr=1.0)
    >>> scheduler = CosineAnnealingLR(optimizer, T_max=4)
    >>> lrs = []
    >>> for epoch in range(5):
    ...     lrs.append(round(scheduler.get_last_lr()[0], 6))
    ...     scheduler.step()
    >>> lrs
    [1.0, 0.853553, 0.5, 0.146447, 0.0]
    """

    def __init__(
        self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1
    ) -> None:
        if not T_max > 0:
            raise ValueError(f"T_max must be > 0, got T_max={T_max!r}")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        epoch, period, eta_min = self.last_epoch, self.T_max, self.eta_min
        if (epoch - 1 - period) % (2 * period) == 0:
            # Just past the bottom, where the ratio below would divide by 1 + cos(pi) = 0.
            rise = (1 - math.cos(math.pi / period)) / 2
            return [
                lr + (base_lr - eta_min) * rise
                for lr, base_lr in zip(self._group_lrs(), self.base_lrs, strict=True)
            ]
        ratio = (1 + math.cos(math.pi * epoch / period)) / (
            1 + math.cos(math.pi * (epoch - 1) / period)
        )
        return [ratio * (lr - eta_min) + eta_min for lr in self._group_lrs()]


class ReduceLROnPlateau(LRScheduler):
    """Multiply the learning rate by ``factor`` when a metric stops improving.

    Call ``step(metric)`` once per epoch with the validation loss (``mode="min"``) or score
    (``mode="max"``). A metric is an improvement when it beats the best so far by more than
    ``threshold`` (relative: ``metric < best * (1 - threshold)``; absolute:
    ``metric < best - threshold``). After more than ``patience`` epochs in a row without
    improvement, each rate becomes ``max(lr * factor, min_lr)`` (a change smaller than ``eps``
    is skipped), then ``cooldown`` epochs pass before bad epochs count again.

    Parameters
    ----------
    optimizer : Optimizer
        The optimiser whose learning rates are scheduled.
    mode : {"min", "max"}, default "min"
        Whether the metric should go down or up.
    factor : float, default 0.1
        The factor applied at each reduction (< 1).
    patience : int, default 10
        The number of epochs without improvement tolerated before a reduction.
    threshold : float, default 1e-4
        The smallest change that counts as an improvement.
    threshold_mode : {"rel", "abs"}, default "rel"
        Whether ``threshold`` is relative to the best value or absolute.
    cooldown : int, default 0
        The number of epochs to wait after a reduction before counting bad epochs again.
    min_lr : float or list of float, default 0
        The lower bound of the rate (one per group with a list).
    eps : float, default 1e-8
        A reduction smaller than this is not applied.

    Examples
    --------
    >>> from retroprop.optim import SGD
    >>> optimizer = SGD([rp.tensor([1.0], requires_grad=True)], lr=1.0)
    >>> scheduler = ReduceLROnPlateau(optimizer, patience=2, factor=0.5)
    >>> for loss in [1.0, 0.9, 0.9, 0.9, 0.9, 0.8]:
    ...     scheduler.step(loss)
    ...     print(scheduler.num_bad_epochs, scheduler.get_last_lr())
    0 [1.0]
    0 [1.0]
    1 [1.0]
    2 [1.0]
    0 [0.5]
    0 [0.5]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: Literal["min", "max"] = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: Literal["rel", "abs"] = "rel",
        cooldown: int = 0,
        min_lr: float | list[float] = 0,
        eps: float = 1e-8,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got mode={mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(
                f"threshold_mode must be 'rel' or 'abs', got threshold_mode={threshold_mode!r}"
            )
        if not 0 <= factor < 1:
            raise ValueError(f"factor must be in [0, 1), got factor={factor!r}")
        if not patience >= 0:
            raise ValueError(f"patience must be >= 0, got patience={patience!r}")
        groups = optimizer.param_groups
        if isinstance(min_lr, list | tuple):
            if len(min_lr) != len(groups):
                raise ValueError(f"min_lr has {len(min_lr)} values for {len(groups)} groups")
            self.min_lrs = list(min_lr)
        else:
            self.min_lrs = [min_lr] * len(groups)
        self.optimizer = optimizer
        self.mode, self.factor, self.patience = mode, factor, patience
        self.threshold, self.threshold_mode = threshold, threshold_mode
        self.cooldown, self.eps = cooldown, eps
        self.last_epoch = 0
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self._last_lr = self._group_lrs()

    @property
    def in_cooldown(self) -> bool:
        """Whether the scheduler is waiting after a reduction."""
        return self.cooldown_counter > 0

    def is_better(self, metric: float, best: float) -> bool:
        """Whether ``metric`` improves on ``best`` by more than the threshold."""
        if self.mode == "min":
            bound = (
                best * (1 - self.threshold)
                if self.threshold_mode == "rel"
                else best - self.threshold
            )
            return metric < bound
        bound = (
            best * (1 + self.threshold) if self.threshold_mode == "rel" else best + self.threshold
        )
        return metric > bound

    def step(self, metric: float) -> None:  # type: ignore[override]
        """Record this epoch's metric and reduce the rates after ``patience`` bad epochs."""
        current = float(metric)
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during the cooldown do not count
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs, strict=True):
                old_lr = float(group["lr"])
                new_lr = max(old_lr * self.factor, min_lr)
                if old_lr - new_lr > self.eps:
                    group["lr"] = new_lr
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._group_lrs()
