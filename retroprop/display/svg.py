"""The SVG pieces every chart and drawing of retroprop is made of: text, the document, ticks,
the plotting frame, lines, points and legends.

One home for the report's charts, the notebook displays and the playground
(:mod:`retroprop.display.charts`, :mod:`retroprop.display.network` build on it). Writing a few
hundred SVG elements takes milliseconds, where importing matplotlib alone took 0.3 s; the text
stays text (sharp at any zoom, found by the browser's search). The SVG is meant to sit inside an
HTML page, so it carries no ``xmlns`` (HTML5 needs none) and links to nothing. Text, axes and
grid are drawn in ``currentColor`` (the page's text colour: the report's ink, or a notebook's
light or dark theme); the series colours read on both backgrounds.

>>> svg = document(120, 40, text(60, 20, "a & b"), "demo")
>>> svg.startswith("<svg"), ">a &amp; b</text>" in svg
(True, True)
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from retroprop.display.html import format_number

__all__ = [
    "PALETTE",
    "BLUE",
    "ORANGE",
    "Series",
    "Frame",
    "text",
    "text_width",
    "document",
    "linear_ticks",
    "tick_label",
    "data_range",
    "polyline",
    "dots",
    "legend",
    "titled",
    "y_tick_count",
]

FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, DejaVu Sans, sans-serif"'
FONT_SIZE = 12
INK = "currentColor"  # the page's text colour
GRID_OPACITY, FRAME_OPACITY = 0.12, 0.45  # of the ink: light grey lines on white, dark on black
PALETTE = ("#3b82f6", "#f97316", "#22c55e", "#ef4444", "#a855f7", "#14b8a6", "#eab308")
# TensorFlow Playground's colours: blue for positive values (class 1), orange for negative ones
BLUE, ORANGE = (8, 119, 189), (245, 147, 34)
# matplotlib's "Blues" at nine stops, for the heat cells
BLUES = ["#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6",
         "#4292c6", "#2171b5", "#08519c", "#08306b"]  # fmt: skip


def text_width(content: str, size: float = FONT_SIZE) -> float:
    """An upper estimate of the width of ``content`` in pixels (0.65 em a character).

    Examples
    --------
    >>> text_width("abcd", 10)
    26.0
    """
    return round(0.65 * size * len(content), 6)


def text(
    x: float,
    y: float,
    content: str,
    size: float = FONT_SIZE,
    anchor: str = "middle",
    colour: str = INK,
    weight: str = "normal",
    rotate: float | None = None,
) -> str:
    """One ``<text>`` element, escaped; ``y`` is the baseline; ``rotate`` in degrees about (x, y).

    Examples
    --------
    >>> text(10, 20, "a<b", anchor="start")
    '<text x="10.0" y="20.0" font-size="12" text-anchor="start" fill="currentColor">a&lt;b</text>'
    """
    turn = f' transform="rotate({rotate:g} {x:.1f} {y:.1f})"' if rotate else ""
    bold = f' font-weight="{weight}"' if weight != "normal" else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:g}" text-anchor="{anchor}" '
        f'fill="{colour}"{bold}{turn}>{html.escape(str(content))}</text>'
    )


def document(width: float, height: float, body: str, label: str) -> str:
    """An ``<svg>`` of ``width`` x ``height`` pixels that scales down with its container.

    Examples
    --------
    >>> document(100, 50, "", "empty & blank")
    '<svg width="100" height="50" viewBox="0 0 100 50" role="img" aria-label="empty &amp; \
blank" font-family="system-ui, -apple-system, Segoe UI, Roboto, DejaVu Sans, sans-serif">\
<title>empty &amp; blank</title></svg>'
    """
    w, h = math.ceil(width), math.ceil(height)
    name = html.escape(label)
    return (
        f'<svg width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{name}" '
        f"{FONT}><title>{name}</title>{body}</svg>"
    )


def _step(span: float, count: int) -> float:
    raw = span / max(count, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * (1 - 1e-9))


def linear_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round values covering [low, high], about ``count`` of them.

    Examples
    --------
    >>> linear_ticks(0.13, 0.91)
    [0.2, 0.4, 0.6, 0.8]
    """
    if not high > low:
        return [low]
    step = _step(high - low, count)
    first = math.ceil(low / step - 1e-9)
    values = [(first + i) * step for i in range(int((high - low) / step + 1e-9) + 2)]
    return [round(v, 12) for v in values if v <= high + 1e-9 * step]


def tick_label(value: float, ticks: Sequence[float], log: bool = False) -> str:
    """``value`` with as many decimals as its neighbours need; powers of ten on a log axis.

    Examples
    --------
    >>> [tick_label(v, [0.0, 0.25, 0.5]) for v in (0.0, 0.25)], tick_label(12000.0, [0, 12000])
    (['0.00', '0.25'], '12,000')
    >>> tick_label(0.001, [], log=True), tick_label(0.00025, [], log=True)
    ('1e-3', '0.00025')
    >>> tick_label(0.5, [0.5])  # no neighbour: the decimals the value itself needs
    '0.5'
    """
    exponent = round(math.log10(abs(value))) if value else 0
    if log and math.isclose(value, 10.0**exponent):  # a power of ten
        return f"{value:g}" if -2 <= exponent <= 3 else f"1e{exponent}"
    if log or abs(value) >= 1e7:
        return format_number(value, 3)
    gaps = (abs(b - a) for a, b in zip(ticks, ticks[1:], strict=False))
    step = min(gaps, default=abs(value) or 1.0)
    decimals = next((d for d in range(8) if abs(round(step, d) - step) < 1e-9 * max(step, 1)), 8)
    return f"{value:,.{decimals}f}"


def data_range(
    values: Sequence[float], log: bool = False, pad: float = 0.05
) -> tuple[float, float]:
    """The finite (and, on a log axis, positive) values' range, widened by ``pad`` each side.

    Examples
    --------
    >>> data_range([1.0, 3.0, float("nan")])
    (0.9, 3.1)
    >>> data_range([])
    (0.0, 1.0)
    """
    array = np.asarray(values, dtype=np.float64).ravel()
    array = array[np.isfinite(array) & ((array > 0) if log else True)]
    if array.size == 0:
        return (0.1, 10.0) if log else (0.0, 1.0)
    low, high = float(array.min()), float(array.max())
    if log:
        low, high = math.log10(low), math.log10(high)
    span = high - low or max(abs(high), 1.0)
    low, high = round(low - pad * span, 12), round(high + pad * span, 12)
    return (10.0**low, 10.0**high) if log else (low, high)


@dataclass
class Frame:
    """A chart's plotting area: the data's coordinates mapped to pixels, and its axes.

    Attributes
    ----------
    left, top, width, height : float
        The plotting area, in pixels of the SVG.
    x_range, y_range : (float, float)
        The data values at its edges (on a log axis, positive values).
    log_y : bool
        A logarithmic y axis.
    y_count : int
        About how many ticks the y axis gets (fixed before the layout, which depends on them).
    log_x : bool
        A logarithmic x axis.
    x_labels : sequence of str
        Categories: x value ``i`` is ``x_labels[i]``, each a tick (empty: a numeric x axis).
    """

    left: float
    top: float
    width: float
    height: float
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    log_y: bool = False
    y_count: int = 5
    log_x: bool = False
    x_labels: Sequence[str] = ()

    def x(self, values: Sequence[float] | np.ndarray) -> np.ndarray:
        """Pixel columns of x values."""
        return self.left + _pixels(values, self.x_range, self.log_x, self.width)

    def x_ticks(self) -> list[float]:
        """The x axis's tick values (every category's position on a categorical axis)."""
        if self.x_labels:
            return [float(i) for i in range(len(self.x_labels))]
        if self.log_x:
            return _log_ticks(*self.x_range)
        return linear_ticks(*self.x_range, count=max(2, int(self.width // 70)))

    def y(self, values: Sequence[float] | np.ndarray) -> np.ndarray:
        """Pixel rows of y values (up is larger)."""
        return self.top + self.height - _pixels(values, self.y_range, self.log_y, self.height)

    def y_ticks(self) -> list[float]:
        """The y axis's tick values."""
        low, high = self.y_range
        return _log_ticks(low, high) if self.log_y else linear_ticks(low, high, self.y_count)

    def x_label_depth(self) -> float:
        """Extra pixels under the axis for category labels turned 30 degrees (0: written flat,
        when each fits its category's width)."""
        longest = max((text_width(label, 11) for label in self.x_labels), default=0.0)
        room = self.width / max(len(self.x_labels), 1)
        return 0.5 * longest if longest > room - 4 else 0.0

    def _x_tick_labels(self, ticks: list[float], bottom: float) -> list[str]:
        """The x tick labels, turned 30 degrees when categories would overlap."""
        if not self.x_labels:
            return [text(px, bottom + 15, tick_label(v, ticks, self.log_x), 11)
                    for v, px in zip(ticks, self.x(ticks), strict=True)]  # fmt: skip
        turn = self.x_label_depth() > 0
        return [text(px + 4 if turn else px, bottom + 15, label, 11,
                     anchor="end" if turn else "middle", rotate=-30 if turn else None)
                for label, px in zip(self.x_labels, self.x(ticks), strict=True)]  # fmt: skip

    def axes(self, xlabel: str, ylabel: str, grid: bool = True) -> str:
        """The frame, the grid, the ticks with their labels and the two axis labels."""
        parts = []
        x_ticks, y_ticks = self.x_ticks(), self.y_ticks()
        bottom, right = self.top + self.height, self.left + self.width
        if grid:
            parts += [_line(px, self.top, px, bottom, INK, opacity=GRID_OPACITY)
                      for px in self.x(x_ticks)]  # fmt: skip
        parts += self._x_tick_labels(x_ticks, bottom)
        for value, py in zip(y_ticks, self.y(y_ticks), strict=True):
            if grid:
                parts.append(_line(self.left, py, right, py, INK, opacity=GRID_OPACITY))
            label = tick_label(value, y_ticks, self.log_y)
            parts.append(text(self.left - 5, py + 4, label, 11, anchor="end"))
        parts.append(
            f'<rect x="{self.left:.1f}" y="{self.top:.1f}" width="{self.width:.1f}" '
            f'height="{self.height:.1f}" fill="none" stroke="{INK}" '
            f'stroke-opacity="{FRAME_OPACITY}"/>'
        )
        parts.append(text(self.left + self.width / 2, bottom + 33 + self.x_label_depth(), xlabel))
        middle = self.top + self.height / 2
        parts.append(text(16, middle, ylabel, rotate=-90))
        return "".join(parts)

    def y_label_room(self) -> float:
        """Pixels the y tick labels need left of the area (with the axis label)."""
        ticks = self.y_ticks()
        longest = max(text_width(tick_label(v, ticks, self.log_y), 11) for v in ticks)
        return longest + 36


def _pixels(
    values: Sequence[float] | np.ndarray, value_range: tuple[float, float], log: bool, span: float
) -> np.ndarray:
    """Pixels from the low end of an axis ``span`` pixels long (log10 scale when ``log``;
    values <= 0 on a log axis are NaN)."""
    array = np.asarray(values, dtype=np.float64)
    low, high = value_range
    if log:
        with np.errstate(divide="ignore", invalid="ignore"):
            array = np.log10(np.where(array > 0, array, np.nan))
        low, high = math.log10(low), math.log10(high)
    scale = span / ((high - low) or 1.0)
    return (array - low) * scale


def _log_ticks(low: float, high: float) -> list[float]:
    """Ticks of a log axis over [low, high] (positive): powers of ten, or round values between
    when fewer than two powers of ten fall inside.

    Examples
    --------
    >>> _log_ticks(0.0005, 2.0), _log_ticks(0.02, 0.09)
    ([0.001, 0.01, 0.1, 1.0], [0.025, 0.05, 0.075])
    """
    first, last = math.ceil(math.log10(low) - 1e-9), math.floor(math.log10(high) + 1e-9)
    if last < first + 1:
        return [v for v in linear_ticks(low, high, 3) if v > 0]
    step = max(1, math.ceil((last - first + 1) / 6))
    return [10.0**k for k in range(first, last + 1, step)]


def _line(
    x0: float, y0: float, x1: float, y1: float, colour: str, width: float = 1.0, opacity: float = 1
) -> str:
    fade = f' stroke-opacity="{opacity:g}"' if opacity != 1 else ""
    return (
        f'<line x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" '
        f'stroke="{colour}" stroke-width="{width:g}"{fade}/>'
    )


@dataclass
class Series:
    """One line (or set of points) of a chart, with its legend label.

    ``dash``: an SVG ``stroke-dasharray`` ("5 4"); ``marker``: a dot at each point; ``width``
    0: points only (:func:`scatter_chart`), shown as a dot in the legend.
    """

    label: str
    x: Sequence[float] | np.ndarray
    y: Sequence[float] | np.ndarray
    colour: str = "#1f77b4"
    width: float = 1.8
    dash: str = ""
    marker: bool = False


def polyline(frame: Frame, series: Series) -> str:
    """The series as polylines, broken where a value is not finite (or not positive on a log
    axis), with a dot at each point when ``series.marker`` (and at a point alone between gaps,
    which a line cannot show).

    Examples
    --------
    >>> frame = Frame(0, 0, 100, 100, (0.0, 4.0), (0.0, 1.0))
    >>> svg = polyline(frame, Series("s", [0, 1, 2, 3, 4], [0.1, 0.2, np.nan, 0.5, np.inf]))
    >>> svg.count("<polyline"), svg.count("<circle")
    (1, 1)
    """
    xs, ys = frame.x(series.x), frame.y(series.y)
    good = np.isfinite(xs) & np.isfinite(ys)
    dash = f' stroke-dasharray="{series.dash}"' if series.dash else ""
    parts, start = [], None
    for i in range(len(xs) + 1):
        if i < len(xs) and good[i]:
            start = i if start is None else start
            continue
        if start is not None and i - start == 1 and not series.marker:
            parts.append(f'<circle cx="{xs[start]:.1f}" cy="{ys[start]:.1f}" r="2.5" '
                         f'fill="{series.colour}"/>')  # fmt: skip
        elif start is not None:
            pairs = zip(xs[start:i], ys[start:i], strict=True)
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y in pairs)
            parts.append(
                f'<polyline points="{points}" fill="none" stroke="{series.colour}" '
                f'stroke-width="{series.width:g}"{dash}/>'
            )
        start = None
    if series.marker:
        parts += [
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.2" fill="{series.colour}"/>'
            for x, y in zip(xs[good], ys[good], strict=True)
        ]
    return f'<g class="series" data-label="{html.escape(series.label)}">{"".join(parts)}</g>'


def dots(frame: Frame, series: Series, radius: float = 2.5, opacity: float = 0.7) -> str:
    """The series as points (non-finite ones left out)."""
    xs, ys = frame.x(series.x), frame.y(series.y)
    good = np.isfinite(xs) & np.isfinite(ys)
    circles = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius:g}"/>' for x, y in
                      zip(xs[good], ys[good], strict=True))  # fmt: skip
    return (
        f'<g class="series" data-label="{html.escape(series.label)}" fill="{series.colour}" '
        f'fill-opacity="{opacity:g}" stroke="white" stroke-width="0.4">{circles}</g>'
    )


def legend(series: Sequence[Series], left: float, top: float, width: float) -> tuple[str, float]:
    """The labels with their line sample, in rows that wrap at ``width``; (SVG, height)."""
    parts, x, y = [], left, top + 10
    for item in series:
        room = 28 + text_width(item.label, 11) + 14
        if x > left and x + room > left + width:
            x, y = left, y + 17
        dash = f' stroke-dasharray="{item.dash}"' if item.dash else ""
        if item.width == 0:  # points: a dot
            parts.append(f'<circle cx="{x + 11:.1f}" cy="{y - 4:.1f}" r="3" fill="{item.colour}"/>')
        else:
            parts.append(
                f'<line x1="{x:.1f}" y1="{y - 4:.1f}" x2="{x + 22:.1f}" y2="{y - 4:.1f}" '
                f'stroke="{item.colour}" stroke-width="{max(item.width, 2):g}"{dash}/>'
            )
        parts.append(text(x + 28, y, item.label, 11, anchor="start"))
        x += room
    return "".join(parts), (y - top + 8) if series else 0.0


def titled(
    title: str, width: float, legend_series: Sequence[Series], left: float
) -> tuple[str, float]:
    """The title line (a second line when it is too wide) and the legend below it; (SVG, top
    of the plotting area)."""
    lines = [title]
    if text_width(title, 14) > width - 10 and ": " in title:
        head, tail = title.split(": ", 1)
        lines = [head + ":", tail]
    parts = [text(width / 2, 18 + 17 * i, line, 14, weight="600") for i, line in enumerate(lines)]
    if not title:
        lines = []
    key, height = legend(legend_series, left, 12 + 17 * len(lines), width - left - 10)
    return "".join(parts) + key, 20 + 17 * len(lines) + height


def y_tick_count(height: float) -> int:
    """About how many y ticks a chart ``height`` pixels tall has room for."""
    return max(2, int((height - 100) // 45))
