"""``LivePlot``: the loss and metric curves redrawn in place in a notebook while ``fit`` runs.

``rp.fit(..., plot=True)`` adds one; pass ``LivePlot(...)`` in ``callbacks`` to choose what
it shows, or to the estimators (``MLPClassifier(callbacks=[LivePlot()])``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from retroprop.display.live import LiveDisplay
from retroprop.training.callbacks import Callback
from retroprop.training.history import history_html

__all__ = ["LivePlot"]


class LivePlot(Callback):
    """Redraw the training curves in place after each epoch, in a Jupyter notebook.

    The picture is the ``History``'s own display (inline SVG: no matplotlib needed): the
    losses, the metrics, the latest values. Redraws are throttled to ``1 / min_interval`` a
    second, and the final curves are always drawn when training ends. Outside a notebook the
    callback warns once (:class:`~retroprop.display.LivePlotWarning`) and draws nothing:
    training goes on.

    Parameters
    ----------
    keys : sequence of str, optional
        The logged quantities to draw ("loss", "val_loss", "accuracy", ...); default all but
        the learning rate (drawn too when it changes).
    min_interval : float, optional
        Seconds between redraws (default 0.25: at most 4 a second).
    clock : callable, optional
        Time source (default ``time.monotonic``), for tests.

    Attributes
    ----------
    display : LiveDisplay or None
        The notebook output, from ``on_train_begin`` on.
    logs : dict of str to list of float
        What was logged so far.

    Examples
    --------
    In a notebook, either of:

    >>> live = LivePlot()                                     # doctest: +SKIP
    >>> rp.fit(model, X, y, loss="mse", optimizer="adam", epochs=50,
    ...        callbacks=[live])                              # doctest: +SKIP
    >>> rp.fit(model, X, y, loss="mse", optimizer="adam", epochs=50,
    ...        plot=True)                                     # doctest: +SKIP
    """

    reads_gradients = False

    def __init__(
        self,
        keys: Sequence[str] | None = None,
        min_interval: float | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.keys = None if keys is None else list(keys)
        self.min_interval = min_interval
        self.clock = clock
        self.display: LiveDisplay | None = None
        self.logs: dict[str, list[float]] = {}
        self.epochs: list[int] = []

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        self.display = LiveDisplay("LivePlot", self.min_interval, self.clock)
        self.logs, self.epochs = {}, []

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self.epochs.append(epoch)
        for key, value in logs.items():
            if self.keys is None or key in self.keys:
                self.logs.setdefault(key, []).append(float(value))
        if self.display is not None:
            self.display.update(self.html)

    def on_train_end(self, logs: dict[str, Any]) -> None:
        if self.display is not None and self.epochs:
            self.display.update(self.html, force=True)

    def html(self) -> str:
        """The current picture: the curves so far and the latest values."""
        total = self.trainer.epochs if hasattr(self, "trainer") else len(self.epochs)
        reason = getattr(getattr(self, "trainer", None), "stop_reason", "")
        return history_html(
            self.logs, self.epochs, reason, title=f"Training: epoch {self.epochs[-1]} of {total}"
        )
