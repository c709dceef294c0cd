"""``rp.callbacks``: the callbacks ``fit`` accepts (re-exported from ``retroprop.training``)."""

from retroprop.diagnostics.callback import Diagnostics
from retroprop.training.callbacks import Callback, EarlyStopping, LRScheduler, StopAtLoss

__all__ = ["Callback", "Diagnostics", "EarlyStopping", "LRScheduler", "StopAtLoss"]
