"""Training: ``fit`` (the face for scripts), the ``Trainer`` that runs the loop, its callbacks,
the ``History`` it returns, the divergence guard.

A face that has checked its data itself hands them over as :class:`Dataset` objects to a
:class:`Trainer` (``Trainer(model, objective, optimizer, train, validation, epochs=...).run()``);
:func:`check_data` is the check ``fit`` makes, for a face that has none of its own.
"""

from retroprop.training import callbacks
from retroprop.training.callbacks import Callback, EarlyStopping, LRScheduler, StopAtLoss
from retroprop.training.data import Dataset, check_data
from retroprop.training.fit import fit
from retroprop.training.guard import DivergenceError
from retroprop.training.history import History
from retroprop.training.live import LivePlot
from retroprop.training.trainer import Trainer

__all__ = [
    "Callback",
    "Dataset",
    "DivergenceError",
    "EarlyStopping",
    "History",
    "LRScheduler",
    "LivePlot",
    "StopAtLoss",
    "Trainer",
    "callbacks",
    "check_data",
    "fit",
]
