"""The comparison an experiment writes: one table row and one curve per run."""

from __future__ import annotations

import base64
import csv
import html
import io
from pathlib import Path
from typing import Any

from retroprop.cli.files import atomic_write

__all__ = ["write_comparison"]


def _curves_png(runs: list[tuple[str, Any]]) -> bytes:
    from retroprop.report.figures import _figure, png_bytes

    figure = _figure(10, 3.8)
    left, right = figure.subplots(1, 2)
    for label, result in runs:
        history = result.history
        line = left.plot(history.epoch, history.history.get("loss", []), label=label)[0]
        if "val_loss" in history.history:
            right.plot(
                history.epoch, history.history["val_loss"], color=line.get_color(), label=label
            )
    for ax, title in ((left, "Training loss"), (right, "Validation loss")):
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend(frameon=False, fontsize=8)
    return png_bytes(figure)


def write_comparison(out: Path, key: str, runs: list[tuple[str, Any]]) -> None:
    """``comparison.csv`` (one row per run) and ``report.html`` (the curves on shared axes)."""
    columns = ["run", "outcome", "epochs"]
    rows = []
    for label, result in runs:
        row = {"run": label, "outcome": result.outcome, "epochs": len(result.history.epoch)}
        for split, values in result.metrics.items():
            for name, value in values.items():
                row[f"{split}_{name}"] = value
                if f"{split}_{name}" not in columns:
                    columns.append(f"{split}_{name}")
        rows.append(row)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write(out / "comparison.csv", buffer.getvalue())
    # the page shows the headline figures (comparison.csv has them all), so it fits 1400 px
    shown = [c for c in columns if c in ("run", "outcome", "epochs") or c.endswith(HEADLINE)]
    shown = [c for c in shown if not c.startswith("train_")] if len(shown) > 9 else shown
    head = "".join(f"<th>{html.escape(c.replace('_', ' '))}</th>" for c in shown)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(row.get(c)))}</td>" for c in shown) + "</tr>"
        for row in rows
    )
    image = base64.b64encode(_curves_png(runs)).decode("ascii")
    links = " · ".join(
        f'<a href="{html.escape(label)}/report.html">{html.escape(label)}</a>' for label, _ in runs
    )
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>retroprop experiment: {html.escape(key)}</title><style>"
        "body{font-family:system-ui,sans-serif;max-width:1100px;margin:24px auto;color:#1d2530}"
        "table{border-collapse:collapse;display:block;max-width:100%;overflow-x:auto}"
        "td,th{padding:4px 12px;border-bottom:1px solid #ddd;"
        "text-align:right}img{max-width:100%}</style></head><body>"
        f"<h1>Experiment: varying {html.escape(key)}</h1><table><tr>{head}</tr>{body}</table>"
        f'<p><img alt="loss curves" src="data:image/png;base64,{image}"></p>'
        f"<p>Each run's own report: {links}</p></body></html>\n"
    )
    atomic_write(out / "report.html", page)


HEADLINE = ("_loss", "_accuracy", "_roc_auc", "_r2")


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "" if value is None else str(value)
