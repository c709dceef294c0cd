"""``LiveGradientFlow``: the gradient-flow bars of each layer, redrawn in place during ``fit``.

The :class:`~retroprop.diagnostics.Diagnostics` callback's figures (||dJ/dz|| per layer, dead
and saturated fractions), drawn as the diagnosis draws them, updated after every sampled batch
in a Jupyter notebook.
"""

from __future__ import annotations

from typing import Any

from retroprop.diagnostics.callback import Diagnostics
from retroprop.diagnostics.problems import Thresholds
from retroprop.diagnostics.report import gradient_flow_svg
from retroprop.diagnostics.stats import LayerStats
from retroprop.display.live import LiveDisplay

__all__ = ["LiveGradientFlow"]


class LiveGradientFlow(Diagnostics):
    """:class:`~retroprop.diagnostics.Diagnostics` that also redraws its bars in a notebook.

    Takes the parameters of ``Diagnostics`` (``every``, ``thresholds``, ``warn``) and keeps
    its ``records`` and ``problems``; after each sampled batch the gradient-flow bars of that
    batch replace the previous ones (throttled to ``1 / min_interval`` redraws a second; the
    last sample is always drawn when training ends). Outside a notebook it warns once
    (:class:`~retroprop.display.LivePlotWarning`) and only records.

    Examples
    --------
    >>> flow = LiveGradientFlow(every=5)                      # doctest: +SKIP
    >>> rp.fit(model, X, y, loss="mse", optimizer="sgd", epochs=20,
    ...        callbacks=[flow])                              # doctest: +SKIP
    """

    reads_gradients = False  # its samples take the plain step (probes' hooks)

    def __init__(
        self,
        every: int = 10,
        thresholds: Thresholds | None = None,
        warn: bool = True,
        min_interval: float | None = None,
        clock: Any = None,
    ) -> None:
        super().__init__(every=every, thresholds=thresholds, warn=warn)
        self.min_interval = min_interval
        self.clock = clock
        self.display: LiveDisplay | None = None

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        super().on_train_begin(logs)
        self.display = LiveDisplay("LiveGradientFlow", self.min_interval, self.clock)

    def _record(self, batch: int, loss: float | None) -> None:
        super()._record(batch, loss)
        if self.display is not None:
            self.display.update(self.html)

    def on_train_end(self, logs: dict[str, Any]) -> None:
        super().on_train_end(logs)
        if self.display is not None and self.records:
            self.display.update(self.html, force=True)

    def latest(self) -> list[LayerStats]:
        """The figures of the last sampled batch, one ``LayerStats`` per layer."""
        if not self.records:
            return []
        step = self.records[-1]["step"]
        fields = LayerStats.__dataclass_fields__
        return [
            LayerStats(name=r["layer"], index=k, **{key: r[key] for key in fields if key in r})
            for k, r in enumerate(r for r in self.records if r["step"] == step)
        ]

    def html(self) -> str:
        """The bars of the last sampled batch, with where training was."""
        from retroprop.display import escape, panel

        last = self.records[-1]
        where = f"epoch {last['epoch']}, batch {last['batch']}"
        if last.get("loss") is not None:
            where += f", loss {last['loss']:.4g}"
        problems = "".join(
            f'<li><span class="rp-flag">{escape(p.kind)}</span> (epoch {p.epoch}, batch '
            f"{p.batch}): {escape(p.message)}</li>"
            for p in self.problems
        )
        return panel(
            f'<p class="rp-muted">{escape(where)}</p>',
            gradient_flow_svg(self.latest(), self.problems),
            f"<ul>{problems}</ul>" if problems else "",
            title="Gradient flow during training",
        )
