"""Gradient flow during ``retroprop train``: ``retroprop.diagnostics.Diagnostics`` wired in.

The callback samples one training batch in ``every`` and records, per layer, the norm of the
back-propagated gradient dJ/dz, the fractions of dead and saturated units and the relative size
of the update. After the run its figure and a per-layer table go into the report's "Gradient
flow" section, and any problem it found (vanishing or exploding gradient, dead or saturated
units) is printed with the course's remedy.
"""

from __future__ import annotations

from typing import Any

__all__ = ["make_callback", "GradientFlow", "summarise"]

SAMPLES = 100  # sampled batches per run, at most


def make_callback(total_batches: int) -> Any:
    """A ``Diagnostics`` callback sampling about :data:`SAMPLES` batches, or None when the
    diagnostics layer is not available."""
    try:
        from retroprop.diagnostics import Diagnostics
    except ImportError:  # pragma: no cover - the layer ships with retroprop
        return None
    return Diagnostics(every=max(1, total_batches // SAMPLES), warn=False)


class GradientFlow:
    """What the report and the terminal show of a ``Diagnostics`` run.

    Attributes
    ----------
    figure_png : bytes or None
    table : str or None
        The last sample's figures per layer, then the problems found.
    problems : list of str
    """

    def __init__(self, figure_png: bytes | None, table: str | None, problems: list[str]) -> None:
        self.figure_png = figure_png
        self.table = table
        self.problems = problems


def _cell(value: Any, form: str) -> str:
    return "-" if value is None else format(value, form)


def summarise(callback: Any) -> GradientFlow:
    """The figure (PNG), the per-layer table and the problems of a finished run."""
    if callback is None or not callback.records:
        return GradientFlow(None, None, [])
    from retroprop.diagnostics.plots import format_table
    from retroprop.report.figures import png_bytes

    png = png_bytes(callback.plot_history())
    last_step = callback.records[-1]["step"]
    rows = [
        [
            record["layer"],
            str(record.get("activation") or "-"),
            _cell(record.get("grad_norm"), ".3g"),
            _cell(record.get("dead_fraction"), ".0%"),
            _cell(record.get("saturated_fraction"), ".0%"),
            _cell(record.get("update_ratio"), ".2g"),
        ]
        for record in callback.records
        if record["step"] == last_step
    ]
    header = ["layer", "activation", "||dJ/dz||", "dead", "saturated", "update/weight"]
    last = callback.records[-1]
    table = (
        f"Last sample: epoch {last['epoch']}, batch {last['batch']} "
        f"({len({r['step'] for r in callback.records})} batches sampled)\n\n"
        + format_table(header, rows, left=2)
    )
    problems = [str(problem) for problem in callback.problems]
    table += "\n\n" + ("\n".join(problems) if problems else "No problem found.")
    return GradientFlow(png, table, problems)
