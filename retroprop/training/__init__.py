"""Training: ``fit`` (the loop), its callbacks, the ``History`` it returns, the divergence guard."""

from retroprop.training import callbacks
from retroprop.training.callbacks import Callback, EarlyStopping, LRScheduler, StopAtLoss
from retroprop.training.fit import Trainer, fit
from retroprop.training.guard import DivergenceError
from retroprop.training.history import History

__all__ = [
    "Callback",
    "DivergenceError",
    "EarlyStopping",
    "History",
    "LRScheduler",
    "StopAtLoss",
    "Trainer",
    "callbacks",
    "fit",
]
