"""``rp.callbacks``: the callbacks ``fit`` accepts (re-exported from ``retroprop.training``)."""

from retroprop.diagnostics.callback import Diagnostics
from retroprop.diagnostics.live import LiveGradientFlow
from retroprop.training.callbacks import Callback, EarlyStopping, LRScheduler, StopAtLoss
from retroprop.training.live import LivePlot

__all__ = [
    "Callback",
    "Diagnostics",
    "EarlyStopping",
    "LRScheduler",
    "LiveGradientFlow",
    "LivePlot",
    "StopAtLoss",
]
