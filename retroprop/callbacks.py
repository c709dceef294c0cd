"""``rp.callbacks``: the callbacks ``fit`` accepts (re-exported from ``retroprop.training``)."""

from retroprop.training.callbacks import Callback, EarlyStopping, LRScheduler, StopAtLoss

__all__ = ["Callback", "EarlyStopping", "LRScheduler", "StopAtLoss"]
