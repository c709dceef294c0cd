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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from retroprop.display import charts
from retroprop.report.record import RunRecord
from retroprop.report.sections import Section, chart

__all__ = [
    "make_callback",
    "GradientFlow",
    "history_charts",
    "summarise",
    "gradient_flow_panel",
]

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
    figure_svg : str or None
        The recorded figures over training, as inline SVG charts (:func:`history_charts`).
    table : str or None
        The last sample's figures per layer, then the problems found.
    problems : list of str
    """

    figure_svg: str | None = None
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


# viridis from 0 to 0.9 (matplotlib's colours for the layers, without matplotlib)
LAYER_COLOURS = ["#440154", "#482878", "#3e4989", "#31688e", "#26828e",
                 "#1f9e89", "#35b779", "#6ece58", "#b5de2b"]  # fmt: skip
HISTORY_PANELS = [
    ("grad_norm", "||dJ/dz|| (gradient norm)", True),
    ("dead_fraction", "dead units (fraction)", False),
    ("saturated_fraction", "saturated outputs (fraction)", False),
]


def history_charts(
    records: Sequence[Mapping[str, Any]], batches_per_epoch: Mapping[int, int] | None = None
) -> str:
    """The recorded figures against the epoch, one SVG chart each: ||dJ/dz|| per layer (log
    scale), the fraction of dead units, the fraction of saturated outputs; a quantity no layer
    measures (saturation in a ReLU network) is left out, not drawn empty.

    Examples
    --------
    >>> records = [{"epoch": 1, "batch": b, "layer": "0: Linear 2->4", "grad_norm": 0.1 * b,
    ...             "dead_fraction": 0.0, "saturated_fraction": None} for b in (1, 2)]
    >>> charts = history_charts(records, {1: 2})
    >>> charts.count("<svg"), "dead units (fraction)" in charts, "saturated" in charts
    (2, True, False)
    """
    from retroprop.diagnostics.plots import _history_x

    layers = list(dict.fromkeys(record["layer"] for record in records))
    step = (len(LAYER_COLOURS) - 1) / max(len(layers) - 1, 1)
    colours = [LAYER_COLOURS[round(i * step)] for i in range(len(layers))]
    drawn = []
    for key, label, logarithmic in HISTORY_PANELS:
        series = []
        for layer, colour in zip(layers, colours, strict=True):
            chosen = [r for r in records if r["layer"] == layer and r.get(key) is not None]
            if chosen:
                xs = _history_x(chosen, batches_per_epoch or {})
                ys = [float(r[key]) for r in chosen]
                series.append(charts.Series(layer, xs, ys, colour, 1.4, marker=True))
        if not series and key != "grad_norm":
            continue
        title = "Diagnostics during training" if not drawn else label.split(" (")[0].capitalize()
        limits = None if logarithmic else (-0.03, 1.03)
        drawn.append(charts.line_chart(series, title, "epoch", label, width=540, height=260,
                                       log_y=logarithmic, y_range=limits))  # fmt: skip
    return "".join(drawn)


def summarise(callback: Any) -> GradientFlow:
    """The figure (PNG), the per-layer table and the problems of a finished run."""
    if callback is None or not callback.records:
        return GradientFlow()
    from retroprop.diagnostics.plots import format_table

    figure = history_charts(callback.records, callback.batches_per_epoch)
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
    return GradientFlow(figure, table, problems)


def gradient_flow_panel(record: RunRecord) -> Section | None:
    """The per-layer gradient figure and table; None when the run recorded neither.

    Examples
    --------
    >>> record = RunRecord("t", "done", {}, {}, [], {}, gradient_flow=GradientFlow(table="a<b"))
    >>> gradient_flow_panel(record).body
    '<pre>a&lt;b</pre>'
    """
    flow = record.gradient_flow
    if flow is None or (flow.figure_svg is None and not flow.table):
        return None
    body = ""
    if flow.figure_svg is not None:
        body += chart(flow.figure_svg, "per-layer gradient statistics")
    if flow.table:
        body += f"<pre>{html.escape(flow.table)}</pre>"
    return Section("gradient-flow", "Gradient flow", body, NOTE)
