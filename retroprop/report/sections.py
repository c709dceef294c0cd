"""The pieces a report panel is made of: a section, an embedded image or inline SVG chart,
tables of values."""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Section", "image", "chart", "metrics_table", "settings_table"]


@dataclass(frozen=True)
class Section:
    """One titled box of the report.

    Attributes
    ----------
    anchor : str
        The section's ``id`` (a link target: ``report.html#curves``).
    title : str
        Its heading, as plain text.
    body : str
        Its content, as HTML (already escaped).
    note : str
        An explanation under the content, as plain text ("" for none).

    Examples
    --------
    >>> Section("a", "Results & more", "<p>1</p>").html()
    '<section id="a"><h2>Results &amp; more</h2><p>1</p></section>'
    """

    anchor: str
    title: str
    body: str
    note: str = ""

    def html(self) -> str:
        """The section as HTML."""
        note = f'<p class="note">{html.escape(self.note)}</p>' if self.note else ""
        return (
            f'<section id="{self.anchor}"><h2>{html.escape(self.title)}</h2>'
            f"{self.body}{note}</section>"
        )


def image(png: bytes, alt: str) -> str:
    """An ``<img>`` with the PNG embedded as base64, so the page needs no other file.

    Examples
    --------
    >>> image(b"png", "a <figure>")
    '<img alt="a &lt;figure&gt;" src="data:image/png;base64,cG5n">'
    """
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def chart(svg: str, alt: str) -> str:
    """Inline SVG chart(s) in a box that names them for screen readers and tests.

    Examples
    --------
    >>> chart("<svg></svg>", "a <chart>")
    '<div class="chart" role="figure" aria-label="a &lt;chart&gt;"><svg></svg></div>'
    """
    return f'<div class="chart" role="figure" aria-label="{html.escape(alt)}">{svg}</div>'


def _number(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, float):
        if value != 0 and not 1e-4 <= abs(value) < 1e6:
            return f"{value:.4g}"
        return f"{value:.4f}" if abs(value) < 1e4 else f"{value:,.1f}"
    return html.escape(str(value))


def metrics_table(metrics: Mapping[str, Mapping[str, Any]], first: str = "split") -> str:
    """One row per split, one column per figure; missing or non-finite values as a dash.

    Examples
    --------
    >>> metrics_table({"test": {"loss": float("nan")}}).split("</tr>")[1]
    '<tr><td>test</td><td class="num">—</td>'
    """
    names = list(dict.fromkeys(k for row in metrics.values() for k in row))
    head = "".join(f'<th class="num">{html.escape(n)}</th>' for n in names)
    rows = []
    for split, row in metrics.items():
        cells = "".join(f'<td class="num">{_number(row.get(n))}</td>' for n in names)
        rows.append(f"<tr><td>{html.escape(split)}</td>{cells}</tr>")
    return f"<table><tr><th>{html.escape(first)}</th>{head}</tr>{''.join(rows)}</table>"


def settings_table(settings: Mapping[str, Any]) -> str:
    """Name and value pairs; None as a dash, lists joined with commas, booleans as yes/no.

    Examples
    --------
    >>> settings_table({"batch norm": False})
    '<dl class="settings"><dt>batch norm</dt><dd>no</dd></dl>'
    """
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
