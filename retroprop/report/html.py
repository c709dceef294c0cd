"""The training report: one self-contained HTML file that opens from disk, offline.

Every figure is a PNG embedded as base64; the style sheet is inline; no script, font or image
is fetched from anywhere, so the file can be mailed, archived or opened on a machine without a
network and look the same.
"""

from __future__ import annotations

import base64
import datetime
import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["build_report", "Evaluation"]

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       margin: 0; background: #f6f7f9; color: #1d2530; line-height: 1.45; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 28px 40px; }
header { background: #1d2530; color: #fff; padding: 22px 28px; }
header h1 { margin: 0 0 4px; font-size: 1.6em; }
header p { margin: 0; color: #c9d1db; }
section { background: #fff; border: 1px solid #dde2e8; border-radius: 8px;
          padding: 16px 20px; margin: 18px 0; }
h2 { font-size: 1.2em; margin: 0 0 10px; }
p.note { color: #4b5563; margin: 6px 0 0; font-size: 0.92em; }
.status { padding: 10px 14px; border-radius: 6px; margin: 18px 0 0; font-weight: 600; }
.status.ok { background: #e6f4ea; color: #1e5631; }
.status.warn { background: #fff4e5; color: #7a4100; }
.status.bad { background: #fdecea; color: #8a1c1c; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 5px 14px 5px 0; text-align: left; border-bottom: 1px solid #eef0f3; }
td.num, th.num { text-align: right; padding-left: 14px; }
dl.settings { display: grid; grid-template-columns: max-content 1fr max-content 1fr;
               gap: 4px 16px; margin: 0; font-size: 0.93em; }
dl.settings dt { color: #4b5563; }
dl.settings dd { margin: 0 12px 0 0; font-variant-numeric: tabular-nums; }
.grid { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
img { max-width: 100%; height: auto; border-radius: 4px; }
pre { background: #f3f4f6; padding: 10px; border-radius: 6px; overflow-x: auto;
      font-size: 0.85em; }
footer { color: #6b7280; font-size: 0.85em; text-align: center; margin-top: 20px; }
"""


class Evaluation:
    """Predictions on one split, for the confusion matrix or the predicted-vs-true plot.

    Parameters
    ----------
    split : str
        "test", "validation" or "train".
    y_true, y_pred : ndarray
        Class indices (classification) or values (regression).
    """

    def __init__(self, split: str, y_true: np.ndarray, y_pred: np.ndarray) -> None:
        self.split = split
        self.y_true = np.asarray(y_true)
        self.y_pred = np.asarray(y_pred)


def _image(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _section(anchor: str, title: str, body: str, note: str = "") -> str:
    note_html = f'<p class="note">{html.escape(note)}</p>' if note else ""
    return f'<section id="{anchor}"><h2>{html.escape(title)}</h2>{body}{note_html}</section>'


def _number(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, float):
        if value != 0 and not 1e-4 <= abs(value) < 1e6:
            return f"{value:.4g}"
        return f"{value:.4f}" if abs(value) < 1e4 else f"{value:,.1f}"
    return html.escape(str(value))


def _metrics_table(metrics: Mapping[str, Mapping[str, Any]]) -> str:
    names = list(dict.fromkeys(k for row in metrics.values() for k in row))
    head = "".join(f'<th class="num">{html.escape(n)}</th>' for n in names)
    rows = []
    for split, row in metrics.items():
        cells = "".join(f'<td class="num">{_number(row.get(n))}</td>' for n in names)
        rows.append(f"<tr><td>{html.escape(split)}</td>{cells}</tr>")
    return f"<table><tr><th>split</th>{head}</tr>{''.join(rows)}</table>"


def _settings_table(settings: Mapping[str, Any]) -> str:
    items = "".join(
        f"<dt>{html.escape(str(k))}</dt><dd>{html.escape(_plain(v))}</dd>"
        for k, v in settings.items()
    )
    return f'<dl class="settings">{items}</dl>'


def _plain(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value)) if value else "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def build_report(
    *,
    title: str,
    status: str,
    settings: Mapping[str, Any],
    history: Mapping[str, Sequence[float]],
    epochs: Sequence[int],
    metrics: Mapping[str, Mapping[str, Any]],
    model: Any = None,
    class_names: Sequence[str] | None = None,
    evaluation: Evaluation | None = None,
    boundary: Any = None,
    status_level: str = "ok",
    best_epoch: int | None = None,
    loss_name: str = "loss",
    target_name: str = "target",
    diagnostics_figure_png: bytes | None = None,
    diagnostics_table: str | None = None,
) -> str:
    """The report of a training run, as one self-contained HTML page.

    Parameters
    ----------
    title : str
        The page's heading ("retroprop: circles").
    status : str
        One sentence on how the run ended (completed, early stopped, interrupted, diverged).
    settings : mapping
        Name -> value: the run's options, shown as a table.
    history : mapping
        ``History.history``: per-epoch "loss", "val_loss", metrics, "lr".
    epochs : sequence of int
        The epoch numbers of ``history``.
    metrics : mapping
        Split name -> {"loss": ..., "accuracy": ...}: the final figures.
    model : Module, optional
        Drawn with its layer widths and parameter counts.
    class_names : sequence of str, optional
        Classification: the names of the classes, in the model's order.
    evaluation : Evaluation, optional
        Predictions on a held-out split: a confusion matrix (classification) or predicted
        against true values (regression).
    boundary : retroprop.report.figures.Boundary, optional
        For 2-D data: the decision boundary with the points.
    status_level : {"ok", "warn", "bad"}
        The colour of the status line.
    best_epoch : int, optional
        The epoch whose weights were kept (early stopping), marked on the curves.
    loss_name, target_name : str
        For the axis labels.
    diagnostics_figure_png : bytes, optional
        A per-layer gradient figure (PNG) for the "Gradient flow" section.
    diagnostics_table : str, optional
        Plain text (a per-layer table) for the same section, shown preformatted.
        Without either, the section is left out.

    Returns
    -------
    str
        The HTML document.

    Examples
    --------
    >>> page = build_report(title="demo", status="completed 2 epochs", settings={"lr": 0.3},
    ...                     history={"loss": [0.7, 0.5]}, epochs=[1, 2],
    ...                     metrics={"train": {"loss": 0.5}})
    >>> page.startswith("<!DOCTYPE html>"), "Gradient flow" in page, "http" in page
    (True, False, False)
    """
    from retroprop.report import figures

    classification = class_names is not None
    metric = "accuracy" if classification else ("r2" if "r2" in history else None)
    parts = [
        _section("results", "Results", _metrics_table(metrics)),
        _section("settings", "Settings", _settings_table(settings)),
    ]
    if epochs:
        png = figures.training_curves(history, epochs, metric, best_epoch, loss_name)
        parts.append(
            _section(
                "curves",
                "Training curves",
                _image(png, "loss and metric per epoch"),
                "Per epoch: the training loss is the mean over the epoch's batches (with dropout "
                "active); the validation loss is computed after the epoch in eval mode.",
            )
        )
    figures_row = []
    if boundary is not None:
        png = figures.decision_boundary(boundary)
        figures_row.append(_image(png, "decision boundary"))
    if evaluation is not None and classification:
        png = figures.confusion_matrix(
            evaluation.y_true,
            evaluation.y_pred,
            class_names,
            f"Confusion matrix ({evaluation.split})",
        )
        figures_row.append(_image(png, "confusion matrix"))
    if evaluation is not None and not classification:
        png = figures.predicted_vs_true(
            evaluation.y_true,
            evaluation.y_pred,
            f"Predicted vs true ({evaluation.split})",
            target_name,
        )
        figures_row.append(_image(png, "predicted against true values"))
    if figures_row:
        note = (
            "Background: the model's prediction over the plane; circles: training rows (white "
            "edge) and held-out rows (black edge)."
            if boundary is not None
            else ""
        )
        parts.append(
            _section(
                "predictions",
                "Predictions",
                f'<div class="grid">{"".join(figures_row)}</div>',
                note,
            )
        )
    if model is not None:
        from retroprop.report.network import network_diagram

        summary = html.escape(str(model.summary(print_table=False)))
        parts.append(
            _section(
                "network",
                "Network",
                _image(network_diagram(model), "the network") + f"<pre>{summary}</pre>",
            )
        )
    if diagnostics_figure_png is not None or diagnostics_table:
        body = ""
        if diagnostics_figure_png is not None:
            body += _image(diagnostics_figure_png, "per-layer gradient statistics")
        if diagnostics_table:
            body += f"<pre>{html.escape(diagnostics_table)}</pre>"
        parts.append(
            _section(
                "gradient-flow",
                "Gradient flow",
                body,
                "Per layer, sampled during training: the norm of the back-propagated gradient "
                "dJ/dz (it should stay of a similar size from layer to layer; shrinking toward "
                "the input is the vanishing gradient), and the fractions of dead and saturated "
                "units.",
            )
        )
    level = status_level if status_level in ("ok", "warn", "bad") else "ok"
    from retroprop import __version__

    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<header><h1>{html.escape(title)}</h1>"
        f"<p>Training report written by retroprop {__version__} on {stamp}</p></header>"
        f'<main><div class="status {level}">{html.escape(status)}</div>'
        + "".join(parts)
        + "<footer>Self-contained: every figure is embedded in this file.</footer>"
        "</main></body></html>\n"
    )
