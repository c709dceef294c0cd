"""HTML pieces shared by every rich display: the style sheet, numbers, tables, a panel.

Everything is self-contained (inline CSS, no script, no outside URL) and escaped with
``html.escape``. Colours are chosen to read on a light and on a dark notebook theme: text keeps
the page's colour (``inherit``/``currentColor``), rules and highlights are semi-transparent.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

__all__ = ["STYLE", "escape", "format_number", "format_array", "matrix", "table", "panel"]

STYLE = """<style>
.rp-display { line-height: 1.35; max-width: 100%; overflow-x: auto; }
.rp-display h4 { margin: 6px 0 4px; font-size: 1.02em; }
.rp-display table { border-collapse: collapse; margin: 4px 0 8px;
  font-variant-numeric: tabular-nums; }
.rp-display th, .rp-display td { padding: 2px 10px; text-align: left; color: inherit;
  background: transparent; border-bottom: 1px solid rgba(127, 127, 127, 0.3);
  vertical-align: top; }
.rp-display th { font-weight: 600; }
.rp-display td.num, .rp-display th.num { text-align: right; }
.rp-display tr.rp-problem td { background: rgba(230, 80, 40, 0.18); }
.rp-display .rp-flag { color: #e8590c; font-weight: 600; }
.rp-display .rp-ok { color: #2f9e44; font-weight: 600; }
.rp-display .rp-muted { opacity: 0.7; }
.rp-display td { white-space: nowrap; }
.rp-display table.rp-matrix { margin: 0; display: inline-table; vertical-align: middle;
  border-left: 1px solid currentColor; border-right: 1px solid currentColor; }
.rp-display table.rp-matrix td { border: none; padding: 0 4px; text-align: right; }
.rp-display ul { margin: 4px 0; padding-left: 20px; }
.rp-display svg { display: block; max-width: 100%; height: auto; }
.rp-display .rp-row { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
</style>"""


def escape(value: Any) -> str:
    """``str(value)`` escaped for HTML text and attribute values (quotes included)."""
    return html.escape(str(value), quote=True)


def format_number(value: Any, precision: int | None = 4) -> str:
    """A number with ``precision`` significant digits (None: every digit, the shortest text
    that reads back to the same float); never ``-0``.

    Examples
    --------
    >>> format_number(1.2e-05), format_number(-0.0), format_number(2 / 3, None)
    ('1.2e-05', '0', '0.6666666666666666')
    >>> format_number(np.float32(-1e-9), 3), format_number(float("nan")), format_number(7)
    ('-1e-09', 'nan', '7')
    """
    if value is None:
        return "-"
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    number = float(value)
    if number == 0.0:
        return "0"  # covers -0.0: a ReLU's blocked gradient is zero, not "minus zero"
    if not math.isfinite(number):
        return str(number)
    if precision is None:
        # the shortest text that reads back to the same value, in the value's own precision
        return str(value if isinstance(value, np.floating) else number)
    return f"{number:.{precision}g}"


def format_array(value: Any, precision: int | None = 4, max_items: int = 64) -> str:
    """An array as text with ``precision`` significant digits per entry (see
    :func:`format_number`); long arrays are summarised with "...".

    Examples
    --------
    >>> format_array(np.array([1.2e-05, -0.0, 0.25]))
    '[1.2e-05 0 0.25]'
    """
    if value is None:
        return "-"
    array = np.asarray(value)
    if array.ndim == 0 or array.size == 1:
        return format_number(array.reshape(-1)[0], precision)
    return np.array2string(
        array,
        threshold=max_items,
        edgeitems=3,
        max_line_width=100,
        separator=" ",
        formatter={"all": lambda entry: format_number(entry, precision)},
    )


def matrix(value: Any, precision: int | None = 4, max_side: int = 8) -> str:
    """A vector or matrix as a small HTML grid of numbers (a scalar as plain text); at most
    ``max_side`` rows and columns are shown, the rest elided with "...".

    Examples
    --------
    >>> grid = matrix(np.array([[1.0, -0.0], [1.2e-05, 2.0]]))
    >>> grid.count("<tr>"), "<td>1.2e-05</td>" in grid, "<td>-0" in grid
    (2, True, False)
    >>> matrix(np.float64(0.5)), matrix(None)
    ('0.5', '-')
    """
    if value is None:
        return "-"
    array = np.asarray(value)
    if array.size == 1:
        return escape(format_number(array.reshape(-1)[0], precision))
    grid = array.reshape(1, -1) if array.ndim == 1 else array.reshape(array.shape[0], -1)

    def cut(count: int) -> list[int | None]:
        if count <= max_side:
            return list(range(count))
        half = max_side // 2
        return [*range(half), None, *range(count - half, count)]

    columns = cut(grid.shape[1])
    lines = []
    for i in cut(grid.shape[0]):
        cells = [
            "\u22ef" if i is None or j is None else escape(format_number(grid[i, j], precision))
            for j in columns
        ]
        lines.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f'<table class="rp-matrix">{"".join(lines)}</table>'


def table(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    numeric: Iterable[int] = (),
    row_classes: Sequence[str] | None = None,
    raw: bool = False,
) -> str:
    """An HTML table; every cell is escaped unless ``raw`` (cells already HTML).

    Parameters
    ----------
    header : sequence of str
    rows : iterable of sequences
        One sequence of cells per row.
    numeric : iterable of int
        Columns aligned right.
    row_classes : sequence of str, optional
        A CSS class per row ("rp-problem" highlights a row); "" for none.
    raw : bool, default False
        True: the cells and headers are HTML fragments, inserted as they are (escape what
        came from data with :func:`escape` first).

    Examples
    --------
    >>> page = table(["a", "b"], [["<x>", 1]], numeric=[1], row_classes=["rp-problem"])
    >>> "<td>&lt;x&gt;</td>" in page, '<td class="num">1</td>' in page
    (True, True)
    >>> '<tr class="rp-problem">' in page
    True
    """
    right = set(numeric)

    def cell(tag: str, index: int, content: Any) -> str:
        text = str(content) if raw else escape(content)
        css = ' class="num"' if index in right else ""
        return f"<{tag}{css}>{text}</{tag}>"

    head = "".join(cell("th", i, name) for i, name in enumerate(header))
    body = []
    for k, row in enumerate(rows):
        css = row_classes[k] if row_classes is not None and k < len(row_classes) else ""
        attribute = f' class="{escape(css)}"' if css else ""
        cells = "".join(cell("td", i, content) for i, content in enumerate(row))
        body.append(f"<tr{attribute}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def panel(*parts: str, title: str | None = None) -> str:
    """The root ``<div class="rp-display">`` of a display: the style sheet, an optional title
    (escaped) and the HTML ``parts`` as they are."""
    heading = f"<h4>{escape(title)}</h4>" if title else ""
    return f'<div class="rp-display">{STYLE}{heading}{"".join(parts)}</div>'
