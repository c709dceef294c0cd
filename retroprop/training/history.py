"""``History``: what ``fit`` returns, one list per tracked quantity, one entry per epoch."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["History"]


@dataclass
class History:
    """The record of a training run, as Keras keeps it.

    Attributes
    ----------
    history : dict[str, list[float]]
        "loss" (mean training loss over the epoch's batches), "val_loss" when there is
        validation data, each metric and "val_" + metric, and "lr".
    epoch : list[int]
        The epoch numbers (1-based) that ran.
    params : dict
        The run's settings (epochs, batch size, number of samples, seed...).
    stop_reason : str
        Why training ended ("completed 30 epochs", "loss 0.0098 < 0.01 at epoch 12", ...).
    best_epoch : int or None
        The epoch whose weights were restored by early stopping, if any.
    interrupted : bool
        True when Ctrl-C stopped the run: ``fit`` returns normally with the weights reached.
    """

    history: dict[str, list[float]] = field(default_factory=dict)
    epoch: list[int] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    stop_reason: str = ""
    best_epoch: int | None = None
    interrupted: bool = False

    def record(self, epoch: int, logs: dict[str, float]) -> None:
        """Append one epoch's figures."""
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __len__(self) -> int:
        return len(self.epoch)

    def __repr__(self) -> str:
        keys = ", ".join(self.history)
        return f"History({len(self.epoch)} epochs: {keys}; {self.stop_reason})"
