"""The "Gradient flow" panel, whole: the recorder wired into training, its summary, its section.

During training a ``retroprop.diagnostics.Diagnostics`` callback samples one batch in
``every`` and records, per layer, the norm of the back-propagated gradient dJ/dz, the fractions
of dead and saturated units and the relative size of the update. After the run,
:func:`summarise` turns it into a figure, a per-layer table and the problems found (vanishing
or exploding gradient, dead or saturated units, with the course's remedy); the CLI prints the
problems, and :func:`gradient_flow_panel` shows the rest in the report.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from retroprop.report.record import RunRecord
from retroprop.report.sections import Section, image

__all__ = ["make_callback", "GradientFlow", "summarise", "gradient_flow_panel"]

SAMPLES = 100  # sampled batches per run, at most

NOTE = (
    "Per layer, sampled during training: the norm of the back-propagated gradient dJ/dz (it "
    "should stay of a similar size from layer to layer; shrinking toward the input is the "
    "vanishing gradient), and the fractions of dead and saturated units."
)


def make_callback(total_batches: int) -> Any:
    """A ``Diagnostics`` callback sampling about :data:`SAMPLES` batches, or None when the
    diagnostics layer is not available."""
    try:
        from retroprop.diagnostics import Diagnostics
    except ImportError:  # pragma: no cover - the layer ships with retroprop
        return None
    return Diagnostics(every=max(1, total_batches // SAMPLES), warn=False)


@dataclass(frozen=True)
class GradientFlow:
    """What the report and the terminal show of a ``Diagnostics`` run.

    Attributes
    ----------
    figure_png : bytes or None
    table : str or None
        The last sample's figures per layer, then the problems found.
    problems : list of str
    """

    figure_png: bytes | None = None
    table: str | None = None
    problems: list[str] = field(default_factory=list)


def _cell(value: Any, form: str) -> str:
    return "-" if value is None else format(value, form)


# what to try, as flags of `retroprop train` (the course's remedies name library options)
FLAGS_TO_TRY = {
    "vanishing_gradient": "--activation relu (or leaky_relu), --init he_normal, --batch-norm",
    "exploding_gradient": "a lower --lr, --batch-norm",
    "dead_units": "--activation leaky_relu, a lower --lr, --batch-norm",
    "saturated_units": "--init xavier_normal, --batch-norm, --activation relu",
    "non_finite": "a lower --lr, --batch-norm",
}


def command_line_advice(problem: Any) -> str:
    """A problem's line with the flags to try instead of the library's remedy.

    Examples
    --------
    >>> from retroprop.diagnostics.problems import Problem
    >>> print(command_line_advice(Problem("dead_units", ["0: Linear 2->4"], "90% dead",
    ...                                   "use Leaky ReLU", epoch=3, batch=1)))
    [dead_units] (epoch 3, batch 1) 90% dead
      try: --activation leaky_relu, a lower --lr, --batch-norm
    """
    flags = FLAGS_TO_TRY.get(problem.kind)
    if flags is None:
        return str(problem)
    where = f" (epoch {problem.epoch}, batch {problem.batch})" if problem.epoch is not None else ""
    return f"[{problem.kind}]{where} {problem.message}\n  try: {flags}"


def summarise(callback: Any) -> GradientFlow:
    """The figure (PNG), the per-layer table and the problems of a finished run."""
    if callback is None or not callback.records:
        return GradientFlow()
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
    problems = [command_line_advice(problem) for problem in callback.problems]
    table += "\n\n" + ("\n".join(problems) if problems else "No problem found.")
    return GradientFlow(png, table, problems)


def gradient_flow_panel(record: RunRecord) -> Section | None:
    """The per-layer gradient figure and table; None when the run recorded neither.

    Examples
    --------
    >>> record = RunRecord("t", "done", {}, {}, [], {}, gradient_flow=GradientFlow(table="a<b"))
    >>> gradient_flow_panel(record).body
    '<pre>a&lt;b</pre>'
    """
    flow = record.gradient_flow
    if flow is None or (flow.figure_png is None and not flow.table):
        return None
    body = ""
    if flow.figure_png is not None:
        body += image(flow.figure_png, "per-layer gradient statistics")
    if flow.table:
        body += f"<pre>{html.escape(flow.table)}</pre>"
    return Section("gradient-flow", "Gradient flow", body, NOTE)
