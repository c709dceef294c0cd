"""A model's rich display: its summary table (``Module.summary()``) and a drawing of it.

Reads the model through its public methods only (``summary``, ``named_modules``), so this module
imports nothing of retroprop's layers above it.
"""

from __future__ import annotations

from typing import Any

from retroprop.display.html import panel, table
from retroprop.display.network import describe_layers, model_network_svg

__all__ = ["model_html"]


def model_html(model: Any) -> str:
    """The HTML of ``model``'s display: the summary table and the network drawing.

    Examples
    --------
    >>> page = model_html(nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1)))
    >>> "Tanh" in page, "<svg" in page, "Total params: 17" in page
    (True, True, True)
    """
    summary = model.summary(print_table=False)
    rows = [
        ["\u00a0\u00a0" * max(depth, 0) + name, label, "?" if out is None else out, f"{count:,}"]
        for name, depth, label, out, count in summary.rows
    ]
    totals = (
        f"<p>Total params: {summary.total_params:,} (trainable: {summary.trainable_params:,})</p>"
    )
    parts = ["<div>", table(["Layer", "Type", "Output", "Params"], rows, numeric=[2, 3]), totals]
    parts.append("</div>")
    if describe_layers(model):
        parts.append(model_network_svg(model))
    return panel('<div class="rp-row">', *parts, "</div>", title=type(model).__name__)
