"""The charts of retroprop, as inline SVG: lines, points, bars, heat cells.

One module for every face: the HTML report (curves, predicted-vs-true, residuals, the confusion
matrix, the gradient-flow history), the notebook displays (``History``, a diagnosis, the live
plots) and the playground (loss curves, gradient-flow bars). They are built from the pieces of
:mod:`retroprop.display.svg`; numbers are written with
:func:`retroprop.display.html.format_number`.

>>> chart = line_chart([Series("training", [1, 2, 3], [0.9, 0.5, 0.4])], "Loss", "epoch", "loss")
>>> chart.startswith("<svg"), "<polyline" in chart, ">Loss</text>" in chart
(True, True, True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from retroprop.display.html import format_number
from retroprop.display.svg import (
    FRAME_OPACITY,
    INK,
    PALETTE,
    Frame,
    Series,
    data_range,
    document,
    dots,
    polyline,
    text,
    text_width,
    titled,
    y_tick_count,
)

__all__ = [
    "Series",
    "line_chart",
    "scatter_chart",
    "bar_chart",
    "heatmap",
    "plane_grid",
    "plane_chart",
    "blue",
    "BLUES",
]

# matplotlib's "Blues" at nine stops, for the heat cells
BLUES = ["#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6",
         "#4292c6", "#2171b5", "#08519c", "#08306b"]  # fmt: skip
WARNING = "#e8590c"  # a bar flagged as a problem


def _log_scale(values: np.ndarray, log_y: bool | str) -> bool:
    """``log_y`` resolved: "auto" is a log axis when the positive values span over two decades."""
    if log_y != "auto":
        return bool(log_y)
    shown = values[np.isfinite(values) & (values > 0)]
    return bool(shown.size) and float(shown.max() / shown.min()) > 100


def line_chart(
    series: Sequence[Series],
    title: str,
    xlabel: str,
    ylabel: str,
    width: float = 420,
    height: float = 300,
    log_y: bool | str = False,
    y_range: tuple[float, float] | None = None,
    x_range: tuple[float, float] | None = None,
    marks: Sequence[Series] = (),
) -> str:
    """Lines against a common x axis, with a legend above the plot.

    Parameters
    ----------
    series : sequence of Series
        The lines (each broken where its values are not finite).
    title, xlabel, ylabel : str
    width, height : float
        The SVG's size in pixels.
    log_y : bool or "auto"
        A logarithmic y axis (values <= 0 are left out); "auto": one when the positive values
        span over two decades (a loss falling from 1 to 0.001).
    y_range, x_range : (float, float), optional
        The axes' limits (default: the data's range, padded).
    marks : sequence of Series
        Lines that do not set the range (a vertical "best epoch" line), drawn dashed.

    Returns
    -------
    str
        The ``<svg>`` element.

    Examples
    --------
    >>> loss = Series("loss", [1, 2, 3], [1.0, 0.01, 0.001])
    >>> svg = line_chart([loss], "", "epoch", "", log_y="auto")
    >>> ">1e-3</text>" in svg
    True
    """
    xs = np.concatenate([np.asarray(s.x, dtype=np.float64) for s in series] or [np.zeros(0)])
    ys = np.concatenate([np.asarray(s.y, dtype=np.float64) for s in series] or [np.zeros(0)])
    log = _log_scale(ys, log_y)
    frame = Frame(0, 0, 1, 1, x_range or data_range(xs, pad=0.02), y_range or
                  data_range(ys, log), log, y_tick_count(height))  # fmt: skip
    frame.left = frame.y_label_room()
    head, frame.top = titled(title, width, [*series, *marks], frame.left)
    frame.width, frame.height = width - frame.left - 14, height - frame.top - 42
    lines = "".join(polyline(frame, s) for s in [*series, *marks])
    return document(width, height, head + frame.axes(xlabel, ylabel) + lines, title)


def scatter_chart(
    points: Series,
    title: str,
    xlabel: str,
    ylabel: str,
    lines: Sequence[Series] = (),
    width: float = 400,
    height: float = 370,
    *,
    log_x: bool = False,
    x_labels: Sequence[str] = (),
    highlight: Series | None = None,
) -> str:
    """Points, with reference lines (a diagonal, a zero line) drawn under them.

    Parameters
    ----------
    points : Series
        The points (non-finite ones, and ones <= 0 on a log x axis, left out).
    title, xlabel, ylabel : str
    lines : sequence of Series
        Reference lines, drawn under the points.
    width, height : float
        The SVG's size in pixels.
    log_x : bool, default False
        A logarithmic x axis (a learning rate sampled log-uniformly).
    x_labels : sequence of str
        A categorical x axis: x value ``i`` (0, 1, ...) is written ``x_labels[i]``.
    highlight : Series, optional
        Points drawn larger, over the others (the best trial of a search).

    Examples
    --------
    >>> svg = scatter_chart(Series("rows", [1, 2], [2, 1]), "Residuals", "predicted", "error")
    >>> svg.count("<circle")
    2
    >>> best = Series("best", [0.01], [0.2], "#d62728", width=0)
    >>> svg = scatter_chart(Series("trials", [0.001, 0.01], [0.3, 0.2], width=0), "", "lr",
    ...                     "score", log_x=True, highlight=best)
    >>> svg.count("<circle"), ">1e-3</text>" in svg, 'data-label="best"' in svg  # 3 + 2 in legend
    (5, True, True)
    """
    every = [points, *lines, *([highlight] if highlight else [])]
    xs = np.concatenate([np.asarray(s.x, dtype=np.float64) for s in every])
    ys = np.concatenate([np.asarray(s.y, dtype=np.float64) for s in every])
    x_range = (-0.5, len(x_labels) - 0.5) if x_labels else data_range(xs, log_x)
    frame = Frame(0, 0, 1, 1, x_range, data_range(ys), y_count=y_tick_count(height),
                  log_x=log_x and not x_labels, x_labels=x_labels)  # fmt: skip
    frame.left = frame.y_label_room()
    key = [*lines, points, *([highlight] if highlight else [])]
    head, frame.top = titled(title, width, key, frame.left)
    frame.width = width - frame.left - 14
    frame.height = height - frame.top - 42 - frame.x_label_depth()
    body = frame.axes(xlabel, ylabel) + "".join(polyline(frame, s) for s in lines)
    body += dots(frame, points) + (dots(frame, highlight, 4, 1.0) if highlight else "")
    return document(width, height, head + body, title)


def blue(fraction: float) -> str:
    """The "Blues" colour at ``fraction`` in [0, 1] (its nearest stop).

    Examples
    --------
    >>> blue(0.0), blue(1.0)
    ('#f7fbff', '#08306b')
    """
    index = int(round(min(max(fraction, 0.0), 1.0) * (len(BLUES) - 1)))
    return BLUES[index]


def heatmap(
    counts: np.ndarray, labels: Sequence[str], title: Sequence[str], xlabel: str, ylabel: str
) -> str:
    """A square matrix of counts as blue cells, each written in, labelled on both axes, with a
    colour bar; ``title`` is one line per entry (the SVG is made wide enough for each).

    Examples
    --------
    >>> svg = heatmap(np.array([[3, 1], [0, 2]]), ["no", "yes"], ["Test"], "predicted", "true")
    >>> svg.count("<rect"), ">3</text>" in svg
    (13, True)
    """
    k = len(labels)
    cell = max(22.0, min(64.0, 360.0 / max(k, 1)))
    longest = max((text_width(label, 11) for label in labels), default=10.0)
    rotate = longest > cell - 4
    left = 30 + longest + 8
    top = 12 + 18 * len(title)
    side = cell * k
    below = (longest * 0.72 + 12 if rotate else 18) + 30
    width = max(left + side + 80, max(text_width(t, 14) for t in title) + 24)
    height = top + side + below
    high = max(int(counts.max()) if counts.size else 0, 1)
    parts = [text(width / 2, 18 + 18 * i, t, 14, weight="600") for i, t in enumerate(title)]
    for i in range(k):
        for j in range(k):
            x, y, value = left + j * cell, top + i * cell, int(counts[i, j])
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{cell:.1f}" height="{cell:.1f}" '
                f'fill="{blue(value / high)}" stroke="white"/>'
            )
            ink = "white" if value > high / 2 else INK
            parts.append(text(x + cell / 2, y + cell / 2 + 4, str(value), 11 if k <= 10 else 8,
                              colour=ink))  # fmt: skip
    for i, label in enumerate(labels):
        middle = i * cell + cell / 2
        parts.append(text(left - 6, top + middle + 4, label, 11, anchor="end"))
        if rotate:
            parts.append(text(left + middle + 4, top + side + 10, label, 11, anchor="end",
                              rotate=-45))  # fmt: skip
        else:
            parts.append(text(left + middle, top + side + 15, label, 11))
    parts.append(text(left + side / 2, height - 8, xlabel))
    parts.append(text(14, top + side / 2, ylabel, rotate=-90))
    bar_x, steps = left + side + 16, len(BLUES)
    for s in range(steps):
        y = top + side * (steps - 1 - s) / steps
        parts.append(f'<rect x="{bar_x:.1f}" y="{y:.1f}" width="12" '
                     f'height="{side / steps + 0.5:.1f}" fill="{BLUES[s]}"/>')  # fmt: skip
    parts.append(text(bar_x + 16, top + 10, f"{high:,}", 10, anchor="start"))
    parts.append(text(bar_x + 16, top + side, "0", 10, anchor="start"))
    parts.append(text(bar_x + 16, top + side / 2, "rows", 10, anchor="start"))
    return document(width, height, "".join(parts), " ".join(title))


def _bar_scale(
    values: Sequence[float | None], log: bool, limits: tuple[float, float] | None
) -> tuple[list[float | None], float, float]:
    """Each value on the bars' scale (log10 when ``log``; None: no bar) and the scale's ends."""
    scaled = [
        (math.log10(v) if log else float(v))
        if v is not None and math.isfinite(v) and (v > 0 or not log)
        else None
        for v in values
    ]
    finite = [v for v in scaled if v is not None]
    if limits is not None:
        low, high = (math.log10(limits[0]), math.log10(limits[1])) if log else limits
    elif finite:  # a log scale starts a decade below the smallest bar, so it shows
        low, high = (min(finite) - 1 if log else min(0.0, *finite)), max(finite)
    else:
        low, high = 0.0, 1.0
    return scaled, low, (high if high > low else low + 1.0)


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    title: str = "",
    *,
    log: bool = False,
    limits: tuple[float, float] | None = None,
    flagged: Sequence[bool] = (),
    width: float = 420,
) -> str:
    """Horizontal bars, one per label (a layer), with the value written at the bar's end.

    Parameters
    ----------
    labels : sequence of str
    values : sequence of float or None
        None, NaN or inf (or a value <= 0 on a log scale): no bar, the value written as text.
    title : str
    log : bool, default False
        Bar lengths on a log10 scale (the gradient norms of a vanishing gradient span decades).
    limits : (low, high), optional
        The scale's range (default: from the values; (0, 1) suits fractions).
    flagged : sequence of bool
        Bars drawn in the warning colour (a layer with a problem).
    width : float
        In pixels.

    Examples
    --------
    >>> svg = bar_chart(["layer 1", "layer 2"], [1e-6, 0.1], log=True, flagged=[True, False])
    >>> svg.count("<rect"), "layer 2" in svg, ">1e-06</text>" in svg
    (2, True, True)
    """
    row = 22
    label_w = max((text_width(label, 11) for label in labels), default=0.0) + 12
    head, top = titled(title, width, [], 0) if title else ("", 8.0)
    scaled, low, high = _bar_scale(values, log, limits)
    span = max(width - label_w - 60, 20.0)  # room for the value written after the bar
    parts = [head]
    for k, (label, value, length) in enumerate(zip(labels, values, scaled, strict=True)):
        y = top + row * k
        parts.append(text(4, y + 15, label, 11, anchor="start"))
        pixels = 0.0
        if length is not None:
            pixels = max(0.0, min(1.0, (length - low) / (high - low))) * span
            colour = WARNING if k < len(flagged) and flagged[k] else PALETTE[0]
            parts.append(
                f'<rect x="{label_w:.1f}" y="{y + 4:.1f}" width="{max(pixels, 1):.1f}" '
                f'height="{row - 8}" fill="{colour}"/>'
            )
        number = format_number(value, 3)
        parts.append(text(label_w + pixels + 4, y + 15, number, 11, anchor="start"))
    return document(width, top + row * len(labels) + 8, "".join(parts), title or "bars")


def plane_grid(
    X: np.ndarray, resolution: int, margin: float = 0.1
) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """A grid of points covering the bounding box of 2-D data, widened by ``margin`` of its
    size each side (a side of size 0 counts as 1): where a decision boundary is shaded.

    Parameters
    ----------
    X : ndarray, shape (n, 2)
    resolution : int
        Points per side.
    margin : float

    Returns
    -------
    points : ndarray, shape (resolution**2, 2)
        Row-major from (x_min, y_min): ``points[:, 0].reshape(resolution, resolution)`` is
        the grid's x.
    extent : (x_min, x_max, y_min, y_max)

    Examples
    --------
    >>> points, extent = plane_grid(np.array([[0.0, 0.0], [1.0, 2.0]]), resolution=3)
    >>> points.shape, [round(v, 2) for v in extent]
    ((9, 2), [-0.1, 1.1, -0.2, 2.2])
    """
    low, high = X.min(axis=0), X.max(axis=0)
    pad = margin * np.where(high > low, high - low, 1.0)
    low, high = low - pad, high + pad
    grid_x, grid_y = np.meshgrid(
        np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution)
    )
    extent = (float(low[0]), float(high[0]), float(low[1]), float(high[1]))
    return np.column_stack([grid_x.ravel(), grid_y.ravel()]), extent


def plane_chart(
    background: str,
    extent: Sequence[float],
    X: np.ndarray,
    y: np.ndarray,
    held_out: np.ndarray,
    colours: Sequence[str],
    size: int = 260,
    title: str = "",
) -> str:
    """2-D points over a picture of their plane (a decision boundary's shading): training
    points with a white edge, held-out ones with a black edge, in their class's colour.

    Parameters
    ----------
    background : str
        The picture, a ``data:`` URI, covering ``extent`` = (x_min, x_max, y_min, y_max).
    X : ndarray, shape (n, 2)
    y : ndarray of int, shape (n,)
        Class indices into ``colours`` (cycled).
    held_out : ndarray of bool, shape (n,)
    size : int
        The plane's side in pixels; the title is written above it (the SVG widened to hold it).

    Examples
    --------
    >>> svg = plane_chart("data:,", (0, 1, 0, 1), np.array([[0.5, 0.5]]), np.array([1]),
    ...                   np.array([True]), ["#f59322", "#0877bd"], title="xor")
    >>> svg.count("<circle"), 'fill="#0877bd" stroke="black"' in svg
    (1, True)
    """
    x_min, x_max, y_min, y_max = extent
    px = (X[:, 0] - x_min) / (x_max - x_min) * size
    py = 18 + (1.0 - (X[:, 1] - y_min) / (y_max - y_min)) * size
    circles = "".join(
        f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3.2" fill="{colours[label % len(colours)]}" '
        f'stroke="{"black" if held else "white"}" stroke-width="1"/>'
        for cx, cy, label, held in zip(px, py, y.tolist(), held_out.tolist(), strict=True)
    )
    body = (
        text(0, 12, title, anchor="start")
        + f'<image href="{background}" y="18" width="{size}" height="{size}" '
        f'preserveAspectRatio="none"/>{circles}<rect y="18" width="{size}" height="{size}" '
        f'fill="none" stroke="{INK}" stroke-opacity="{FRAME_OPACITY}"/>'
    )
    return document(max(size, text_width(title)), size + 18, body, title or "points")
