"""Callbacks: code that runs at fixed points of ``fit``'s loop (Keras's protocol).

``fit`` calls, in order: ``on_train_begin``, then per epoch ``on_epoch_begin``,
``on_batch_end`` after every update, ``on_epoch_end`` with the epoch's logs, and finally
``on_train_end``. A callback stops training by setting ``self.trainer.stop_training = True``
and ``self.trainer.stop_reason``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:
    from retroprop.training.trainer import Trainer

__all__ = ["Callback", "StopAtLoss", "EarlyStopping", "LRScheduler"]


class Callback:
    """Base class: override the hooks you need. ``self.trainer`` is set by ``fit``.

    Attributes
    ----------
    reads_gradients : bool, class attribute, default True
        Whether the hooks may read the parameters' ``.grad``. When no callback of a run does
        (every built-in one sets it False), ``fit`` may update plain SGD inside the
        weight-gradient product, where no ``.grad`` is written
        (:mod:`retroprop.training.captured`).
    """

    trainer: Trainer
    reads_gradients: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Each class says it for itself: a subclass of a built-in callback that does not
        # (and may read .grad in the hooks it adds) is taken to read gradients.
        super().__init_subclass__(**kwargs)
        if "reads_gradients" not in cls.__dict__:
            cls.reads_gradients = True

    def set_trainer(self, trainer: Trainer) -> None:
        """Attach to a run (gives access to ``trainer.model``, ``trainer.optimizer``...)."""
        self.trainer = trainer

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        """Before the first epoch."""

    def on_epoch_begin(self, epoch: int) -> None:
        """Before each epoch (1-based)."""

    def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None:
        """After each parameter update; logs hold the batch's "loss"."""

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        """After each epoch, with its loss, val_loss and metrics."""

    def on_train_end(self, logs: dict[str, Any]) -> None:
        """After the last epoch (also when a callback stopped the run)."""


class StopAtLoss(Callback):
    """Stop when the epoch's training loss falls below ``threshold``.

    Parameters
    ----------
    threshold : float
        Training stops at the end of the first epoch whose loss is below it.
    monitor : str, default "loss"
        The logged quantity compared with the threshold.
    """

    reads_gradients = False

    def __init__(self, threshold: float, monitor: str = "loss") -> None:
        self.threshold = float(threshold)
        self.monitor = monitor

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        value = logs.get(self.monitor)
        if value is not None and value < self.threshold:
            self.trainer.stop_training = True
            self.trainer.stop_reason = (
                f"{self.monitor} {value:.5g} < {self.threshold:g} at epoch {epoch}"
            )


class EarlyStopping(Callback):
    """Stop when a monitored quantity stops improving, and restore the best weights.

    Parameters
    ----------
    monitor : str, default "val_loss"
        A key of the epoch logs ("val_loss", "loss", "val_accuracy", ...).
    patience : int, default 10
        Epochs without improvement before stopping.
    min_delta : float, default 0.0
        The smallest change that counts as an improvement.
    mode : {"auto", "min", "max"}, default "auto"
        Whether lower or higher is better; "auto" picks "max" for accuracy-like names.
    restore_best_weights : bool, default True
        Put back the weights of the best epoch when training ends, whether it ended by
        early stopping or by running out of epochs.
    """

    reads_gradients = False

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 10,
        min_delta: float = 0.0,
        mode: str = "auto",
        restore_best_weights: bool = True,
    ) -> None:
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be >= 0, got {patience}")
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'auto', 'min' or 'max', got {mode!r}")
        self.monitor = monitor
        self.patience = int(patience)
        self.min_delta = abs(float(min_delta))
        if mode == "auto":
            higher_better = any(k in monitor for k in ("acc", "r2", "score", "auc"))
            mode = "max" if higher_better else "min"
        self.mode = mode
        self.restore_best_weights = restore_best_weights

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch: int | None = None
        self.best_state: dict[str, np.ndarray] | None = None
        self.wait = 0

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if self.monitor not in logs:
            raise ValueError(
                f"EarlyStopping monitors {self.monitor!r}, which is not logged; logged: "
                f"{sorted(logs)}"
            )
        value = logs[self.monitor]
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_state = {k: v.copy() for k, v in self.trainer.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.trainer.stop_training = True
            self.trainer.stop_reason = (
                f"early stopping at epoch {epoch}: {self.monitor} did not improve for "
                f"{self.patience} epochs (best {self.best:.5g} at epoch {self.best_epoch})"
            )

    def on_train_end(self, logs: dict[str, Any]) -> None:
        if self.restore_best_weights and self.best_state is not None:
            self.trainer.model.load_state_dict(self.best_state)
            self.trainer.history.best_epoch = self.best_epoch
            self.trainer.log(
                f"Restored the weights of epoch {self.best_epoch} ({self.monitor} {self.best:.5g})"
            )


class LRScheduler(Callback):
    """Step a learning-rate scheduler once per epoch (``ReduceLROnPlateau`` gets a metric).

    ``fit`` wraps any scheduler object passed in ``callbacks`` with this class.

    Parameters
    ----------
    scheduler : object
        A scheduler from ``retroprop.optim.lr_scheduler``.
    monitor : str, default "val_loss"
        For ``ReduceLROnPlateau``: the logged value it watches ("loss" when there is no
        validation data).
    """

    reads_gradients = False

    def __init__(self, scheduler: Any, monitor: str = "val_loss") -> None:
        self.scheduler = scheduler
        self.monitor = monitor

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if type(self.scheduler).__name__ == "ReduceLROnPlateau":
            key = self.monitor if self.monitor in logs else "loss"
            self.scheduler.step(logs[key])
        else:
            self.scheduler.step()
