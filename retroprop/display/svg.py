"""Small inline SVG charts for the rich displays and the live plots: no matplotlib needed.

Text and axes are drawn in ``currentColor`` (the notebook's text colour, light or dark); the
series colours read on both backgrounds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from retroprop.display.html import escape, format_number

__all__ = ["PALETTE", "line_chart", "bar_chart", "network_svg", "nice_ticks"]

PALETTE = ("#3b82f6", "#f97316", "#22c55e", "#ef4444", "#a855f7", "#14b8a6", "#eab308")
_FONT = 'font-family="sans-serif" font-size="11" fill="currentColor"'
_LEFT, _RIGHT, _TOP, _BOTTOM = 56, 12, 36, 30


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values covering [low, high].

    Examples
    --------
    >>> nice_ticks(0.0, 1.0)
    [0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
    """
    if not high > low:
        return [low]
    raw = (high - low) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step - 1e-9)
    return [k * step for k in range(first, int(math.floor(high / step + 1e-9)) + 1)]


def _svg(width: int, height: int, body: list[str], label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">'
        f"<title>{escape(label)}</title>{''.join(body)}</svg>"
    )


def _log_scale(values: np.ndarray, log_y: bool | str) -> bool:
    positive = values[np.isfinite(values)]
    if log_y == "auto":
        return bool(positive.size) and positive.min() > 0 and positive.max() / positive.min() > 100
    return bool(log_y) and bool(positive.size) and positive.min() > 0


def line_chart(
    series: Mapping[str, Sequence[float]],
    x: Sequence[float] | None = None,
    *,
    title: str = "",
    x_label: str = "epoch",
    log_y: bool | str = "auto",
    width: int = 420,
    height: int = 240,
) -> str:
    """Curves as an inline SVG line chart, one colour per series, with a legend.

    Parameters
    ----------
    series : mapping of str to sequence of float
        Name -> values (NaN and inf leave a gap).
    x : sequence of float, optional
        The shared x values (default 1, 2, ...: epochs).
    title, x_label : str
    log_y : bool or "auto", default "auto"
        A logarithmic y axis; "auto" uses one when positive values span over two decades.
    width, height : int
        In pixels.

    Returns
    -------
    str
        ``<svg ...>...</svg>``.

    Examples
    --------
    >>> svg = line_chart({"loss": [1.0, 0.5, 0.25], "val_loss": [1.1, 0.7, 0.4]}, title="Loss")
    >>> svg.startswith("<svg"), "val_loss" in svg, svg.count("<polyline")
    (True, True, 2)
    """
    arrays = {name: np.asarray(values, dtype=float) for name, values in series.items()}
    longest = max((len(a) for a in arrays.values()), default=0)
    xs = np.arange(1, longest + 1, dtype=float) if x is None else np.asarray(x, dtype=float)
    every = np.concatenate([a for a in arrays.values()] or [np.empty(0)])
    log = _log_scale(every, log_y)
    shown = every[np.isfinite(every) & ((every > 0) if log else True)]
    transform = np.log10 if log else (lambda v: v)
    low, high = (transform(shown.min()), transform(shown.max())) if shown.size else (0.0, 1.0)
    if high - low < 1e-12:
        low, high = low - 0.5, high + 0.5
    margin = 0.05 * (high - low)  # the curves do not touch the frame
    low, high = low - margin, high + margin
    x_low, x_high = (float(xs.min()), float(xs.max())) if xs.size else (0.0, 1.0)
    if x_high <= x_low:
        x_low, x_high = x_low - 0.5, x_high + 0.5
    plot_w, plot_h = width - _LEFT - _RIGHT, height - _TOP - _BOTTOM

    def px(value: float) -> float:
        return _LEFT + (value - x_low) / (x_high - x_low) * plot_w

    def py(value: float) -> float:
        return _TOP + (high - value) / (high - low) * plot_h

    body = _axes(width, height, title, x_label)
    for tick in nice_ticks(low, high, 4):
        label = format_number(10**tick if log else tick, 3)
        body.append(
            f'<line x1="{_LEFT}" x2="{width - _RIGHT}" y1="{py(tick):.1f}" y2="{py(tick):.1f}" '
            'stroke="currentColor" stroke-opacity="0.15"/>'
            f'<text x="{_LEFT - 4}" y="{py(tick) + 4:.1f}" text-anchor="end" {_FONT}>'
            f"{escape(label)}</text>"
        )
    for tick in nice_ticks(x_low, x_high, 5):
        body.append(
            f'<text x="{px(tick):.1f}" y="{height - _BOTTOM + 14}" text-anchor="middle" '
            f"{_FONT}>{escape(format_number(tick, 4))}</text>"
        )
    for k, (name, values) in enumerate(arrays.items()):
        colour = PALETTE[k % len(PALETTE)]
        count = min(len(xs), len(values))
        body.extend(_curve(xs[:count], values[:count], log, px, py, colour))
        legend_x = _LEFT + 8 + 110 * k
        body.append(
            f'<rect x="{legend_x}" y="{_TOP - 16}" width="12" height="4" fill="{colour}"/>'
            f'<text x="{legend_x + 16}" y="{_TOP - 11}" {_FONT}>{escape(name)}</text>'
        )
    return _svg(width, height, body, title or ", ".join(arrays))


def _axes(width: int, height: int, title: str, x_label: str) -> list[str]:
    bottom = height - _BOTTOM
    return [
        f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{bottom}" stroke="currentColor" '
        'stroke-opacity="0.5"/>',
        f'<line x1="{_LEFT}" y1="{bottom}" x2="{width - _RIGHT}" y2="{bottom}" '
        'stroke="currentColor" stroke-opacity="0.5"/>',
        f'<text x="{width - _RIGHT}" y="{height - 4}" text-anchor="end" {_FONT} '
        f'fill-opacity="0.7">{escape(x_label)}</text>',
        f'<text x="4" y="12" {_FONT} font-weight="bold">{escape(title)}</text>',
    ]


def _curve(
    xs: np.ndarray,
    values: np.ndarray,
    log: bool,
    px: Callable[[float], float],
    py: Callable[[float], float],
    colour: str,
) -> list[str]:
    """Polylines through the finite points (a gap at each NaN or inf), and a dot if alone."""
    ok = np.isfinite(values) & ((values > 0) if log else True)
    shapes, run = [], []
    last = len(values) - 1
    for index, (x_value, value, good) in enumerate(zip(xs, values, ok, strict=True)):
        if good:
            y_value = math.log10(value) if log else value
            run.append(f"{px(x_value):.1f},{py(y_value):.1f}")
        if (not good or index == last) and run:
            if len(run) == 1:
                cx, cy = run[0].split(",")
                shapes.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{colour}"/>')
            else:
                shapes.append(
                    f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" '
                    'stroke-width="1.8"/>'
                )
            run = []
    return shapes


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    title: str = "",
    log: bool = False,
    limits: tuple[float, float] | None = None,
    flagged: Sequence[bool] = (),
    width: int = 420,
) -> str:
    """Horizontal bars, one per label (a layer), with the value written at the bar's end.

    Parameters
    ----------
    labels : sequence of str
    values : sequence of float or None
        None, NaN or inf: no bar, the value written as text.
    title : str
    log : bool, default False
        Bar lengths on a log10 scale (the gradient norms of a vanishing gradient span decades).
    limits : (low, high), optional
        The scale's range (default: from the values; (0, 1) suits fractions).
    flagged : sequence of bool
        Bars drawn in the warning colour (a layer with a problem).
    width : int

    Examples
    --------
    >>> svg = bar_chart(["layer 1", "layer 2"], [1e-6, 0.1], log=True, flagged=[True, False])
    >>> svg.count("<rect"), "layer 2" in svg
    (2, True)
    """
    row, label_w = 20, 150
    height = _TOP + row * len(labels) + 8
    finite = [float(v) for v in values if v is not None and math.isfinite(v) and (v > 0 or not log)]
    scale = (lambda v: math.log10(v)) if log else (lambda v: v)
    if limits is not None:
        low, high = scale(limits[0]), scale(limits[1])
    elif finite:
        low = min(0.0, *(scale(v) for v in finite)) if not log else min(map(scale, finite)) - 1
        high = max(scale(v) for v in finite)
    else:
        low, high = 0.0, 1.0
    high = high if high > low else low + 1.0
    span = width - label_w - 70
    body = [f'<text x="4" y="14" {_FONT} font-weight="bold">{escape(title)}</text>']
    for k, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = _TOP + row * k
        body.append(f'<text x="4" y="{y + 13}" {_FONT}>{escape(label)}</text>')
        drawable = value is not None and math.isfinite(value) and (value > 0 or not log)
        length = 0.0
        if drawable:
            length = max(0.0, min(1.0, (scale(float(value)) - low) / (high - low))) * span
            colour = "#e8590c" if k < len(flagged) and flagged[k] else PALETTE[0]
            body.append(
                f'<rect x="{label_w}" y="{y + 3}" width="{max(length, 1):.1f}" height="{row - 6}" '
                f'fill="{colour}"/>'
            )
        text = format_number(value, 3)
        body.append(f'<text x="{label_w + length + 4:.1f}" y="{y + 13}" {_FONT}>{text}</text>')
    return _svg(width, height, body, title or "bars")


MAX_DRAWN_UNITS = 8


def _unit_heights(width: int, middle: float, half_span: float) -> tuple[list[float], bool]:
    """The y of each drawn unit; a wide layer shows 4 at each end and a gap (elided)."""
    if width <= MAX_DRAWN_UNITS:
        step = min(2 * half_span / max(width - 1, 1), 26.0)
        top = middle - step * (width - 1) / 2
        return [top + step * k for k in range(width)], False
    half = MAX_DRAWN_UNITS // 2
    step = 2 * half_span / (MAX_DRAWN_UNITS + 1)
    top = [middle - half_span + step * k for k in range(half)]
    return top + [middle + half_span - step * (half - 1 - k) for k in range(half)], True


def network_svg(widths: Sequence[int], captions: Sequence[Sequence[str]], title: str = "") -> str:
    """The network as the course draws it: a column of units per layer, every unit joined to
    every unit of the next layer; a layer wider than 8 shows 8 units and a gap.

    Parameters
    ----------
    widths : sequence of int
        Units per column, the input's first.
    captions : sequence of sequence of str
        Lines written under each column ("hidden 1", "4 units", "ReLU").
    title : str

    Examples
    --------
    >>> svg = network_svg([2, 4, 1], [["input"], ["hidden 1"], ["output"]])
    >>> svg.count("<circle"), svg.count("<line")
    (7, 12)
    """
    column_w, top, units_h = 110, 22, 200
    width = column_w * len(widths)
    lines_below = max((len(c) for c in captions), default=0)
    height = top + units_h + 14 * lines_below + 12
    middle, half_span = top + units_h / 2, units_h / 2 - 12
    columns = [_unit_heights(w, middle, half_span) for w in widths]
    xs = [column_w * (k + 0.5) for k in range(len(widths))]
    body = [f'<text x="4" y="14" {_FONT} font-weight="bold">{escape(title)}</text>']
    for k in range(len(widths) - 1):
        for y0 in columns[k][0]:
            for y1 in columns[k + 1][0]:
                body.append(
                    f'<line x1="{xs[k]:.1f}" y1="{y0:.1f}" x2="{xs[k + 1]:.1f}" y2="{y1:.1f}" '
                    'stroke="currentColor" stroke-opacity="0.25" stroke-width="0.8"/>'
                )
    for k, (heights, elided) in enumerate(columns):
        colour = "#9ca3af" if k == 0 else (PALETTE[0] if k == len(widths) - 1 else PALETTE[1])
        for y in heights:
            body.append(
                f'<circle cx="{xs[k]:.1f}" cy="{y:.1f}" r="8" fill="{colour}" '
                'stroke="currentColor" stroke-opacity="0.6"/>'
            )
        if elided:
            body.append(
                f'<text x="{xs[k]:.1f}" y="{middle + 6:.1f}" text-anchor="middle" '
                'font-family="sans-serif" font-size="18" fill="currentColor">\u22ee</text>'
            )
        for line, caption in enumerate(captions[k] if k < len(captions) else ()):
            body.append(
                f'<text x="{xs[k]:.1f}" y="{top + units_h + 14 * line + 4}" text-anchor="middle" '
                f"{_FONT}>{escape(caption)}</text>"
            )
    return _svg(width, height, body, title or "network")
