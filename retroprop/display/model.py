"""A model's rich display: its summary table (``Module.summary()``) and a drawing of it.

Reads the model through its public methods only (``summary``, ``named_modules``), so this module
imports nothing of retroprop's layers above it.
"""

from __future__ import annotations

from typing import Any

from retroprop.display.html import panel, table
from retroprop.display.svg import network_svg

__all__ = ["model_html", "layer_columns"]


def layer_columns(model: Any) -> tuple[list[int], list[list[str]]]:
    """The widths of the network's columns (input first) and the modules after each Linear.

    Every module with ``in_features`` and ``out_features`` (a Linear layer) starts a column;
    the leaf modules that follow it (activations, dropout, batch normalisation) are listed
    under it. A model without a Linear layer gives ``([], [])``.

    Examples
    --------
    >>> layer_columns(nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1)))
    ([2, 4, 1], [[], ['ReLU'], []])
    """
    widths: list[int] = []
    after: list[list[str]] = []
    for _, module in model.named_modules():
        if hasattr(module, "in_features") and hasattr(module, "out_features"):
            if not widths:
                widths.append(int(module.in_features))
                after.append([])
            widths.append(int(module.out_features))
            after.append([])
        elif widths and not any(True for _ in module.children()):
            after[-1].append(type(module).__name__)
    return widths, after


def _captions(widths: list[int], after: list[list[str]]) -> list[list[str]]:
    captions = []
    for k, width in enumerate(widths):
        plural = "" if width == 1 else "s"
        if k == 0:
            captions.append(["input", f"{width} feature{plural}"])
            continue
        kind = "output" if k == len(widths) - 1 else f"hidden {k}"
        captions.append([kind, f"{width} unit{plural}", " + ".join(after[k]) or "identity"])
    return captions


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
    widths, after = layer_columns(model)
    if widths:
        shape = " \u2192 ".join(str(w) for w in widths)
        parts.append(network_svg(widths, _captions(widths, after), title=f"[{shape}]"))
    return panel('<div class="rp-row">', *parts, "</div>", title=type(model).__name__)
