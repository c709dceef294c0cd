"""``History``: what ``fit`` returns, one list per tracked quantity, one entry per epoch."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["History", "history_charts", "history_html"]


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

    def _repr_html_(self) -> str:
        """Jupyter's display: the curves as inline SVG charts, and the final values."""
        return history_html(self.history, self.epoch, self.stop_reason)


def history_charts(history: dict[str, list[float]], epochs: list[int] | None = None) -> str:
    """The curves of a training run as inline SVG: the losses in one chart, the metrics
    (every other key but the learning rate) in a second, the learning rate in a third when it
    changed. ``rp.fit(..., plot=True)`` redraws these each epoch.

    Examples
    --------
    >>> svg = history_charts({"loss": [0.9, 0.4], "val_loss": [1.0, 0.6], "accuracy": [0.5, 0.8],
    ...                       "lr": [0.1, 0.1]})
    >>> svg.count("<svg"), "val_loss" in svg, "accuracy" in svg
    (2, True, True)
    """
    from retroprop.display.charts import Series, line_chart
    from retroprop.display.svg import PALETTE

    def chart(curves: dict[str, list[float]], title: str, log_y: bool | str) -> str:
        series = [
            Series(name, epochs or range(1, len(values) + 1), values, PALETTE[k % len(PALETTE)])
            for k, (name, values) in enumerate(curves.items())
        ]
        return line_chart(series, title, "epoch", "", log_y=log_y)

    losses = {k: v for k, v in history.items() if k in ("loss", "val_loss")}
    metrics = {k: v for k, v in history.items() if k not in losses and k != "lr"}
    charts = [chart(curves, title, "auto") for title, curves in (("Loss", losses),
              ("Metrics", metrics)) if curves]  # fmt: skip
    rates = history.get("lr", [])
    if len(set(rates)) > 1:
        charts.append(chart({"lr": rates}, "Learning rate", False))
    return '<div class="rp-row">' + "".join(charts) + "</div>"


def history_html(
    history: dict[str, list[float]], epochs: list[int], stop_reason: str = "", title: str = ""
) -> str:
    """The HTML of a ``History``: its charts, a table of the last epoch's values and why the
    run stopped."""
    from retroprop.display.html import escape, format_number, panel, table

    if not epochs:
        return panel("<p>No epoch recorded yet.</p>", title=title or "History")
    last = [[key, format_number(values[-1], 5)] for key, values in history.items() if values]
    stop = f'<p class="rp-muted">{escape(stop_reason)}</p>' if stop_reason else ""
    heading = title or f"History: {len(epochs)} epoch{'s' if len(epochs) != 1 else ''}"
    return panel(
        history_charts(history, epochs),
        table([f"epoch {epochs[-1]}", "value"], last, numeric=[1]),
        stop,
        title=heading,
    )
