"""Figures and text tables of the diagnostics.

matplotlib is imported inside each plotting function, never when ``retroprop`` is imported, and
figures are drawn on an Agg canvas without pyplot: no window opens, no global backend changes,
and nothing accumulates in pyplot's list of open figures. Each function returns the
``matplotlib.figure.Figure``; given ``path`` it also saves it there (PNG, SVG or PDF, from the
extension).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "format_table",
    "plot_layer_histograms",
    "plot_histogram_rows",
    "plot_history",
    "plot_gradient_norms",
]


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]], left: int = 2) -> str:
    """A plain-text table: the first ``left`` columns left-aligned, the others right-aligned.

    Examples
    --------
    >>> print(format_table(["Layer", "std"], [["0: Linear 2->4", "0.5"], ["1", "12.25"]], 1))
    Layer             std
    --------------  -----
    0: Linear 2->4    0.5
    1               12.25
    """
    table = [list(header)] + [list(row) for row in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = []
    for k, row in enumerate(table):
        cells = [
            cell.ljust(widths[i]) if i < left else cell.rjust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
        if k == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _figure(rows: int, columns: int = 1, size: tuple[float, float] | None = None) -> tuple:
    """A Figure on an Agg canvas and its axes (a flat list)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=size or (7.0 * columns, 3.2 * rows), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(rows, columns, squeeze=False)
    return figure, [ax for line in axes for ax in line]


def _save(figure: Any, path: Any) -> Any:
    if path is not None:
        directory = os.path.dirname(os.fspath(path))
        if directory:
            os.makedirs(directory, exist_ok=True)
        figure.savefig(path, dpi=110)
    return figure


def _finite(values: np.ndarray | None) -> np.ndarray:
    if values is None:
        return np.empty(0)
    flat = np.asarray(values, dtype=np.float64).reshape(-1)
    return flat[np.isfinite(flat)]


def _histogram(ax: Any, series: Sequence[tuple[str, np.ndarray | None]], xlabel: str) -> None:
    """One normalised step histogram per layer, on shared bins (Glorot & Bengio's style)."""
    data = [(name, _finite(values)) for name, values in series]
    pooled = np.concatenate([values for _, values in data if values.size] or [np.zeros(1)])
    # The range leaves out the rarest 1% of values (a few outliers would squash the rest);
    # fractions stay fractions of all values, so a curve's missing mass is the part left out.
    low, high = np.percentile(pooled, [0.5, 99.5])
    if not high > low:
        low, high = low - 0.5, high + 0.5
    bins = np.linspace(low, high, 61)
    colors = _colors(len(data))
    for (name, values), color in zip(data, colors, strict=True):
        if values.size == 0:
            continue
        counts, edges = np.histogram(values, bins=bins)
        density = counts / values.size
        ax.stairs(density, edges, label=name, color=color, linewidth=1.4)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("fraction")
    ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, 3))
    ax.legend(fontsize=7, loc="upper right")


def _colors(count: int) -> list[Any]:
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return [cmap(0.9 * i / max(count - 1, 1)) for i in range(count)]


def plot_histogram_rows(
    rows: Sequence[tuple[str, Sequence[str], Sequence[np.ndarray | None]]],
    xlabel: str,
    path: Any = None,
    title: str | None = None,
) -> Any:
    """One panel per row, each with one histogram curve per layer.

    Parameters
    ----------
    rows : sequence of (panel title, layer names, arrays)
        E.g. ("standard init", ["layer 1", ...], [a_1, ...]).
    xlabel : str
    path : path-like, optional
        Where to save the figure.
    title : str, optional
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    figure, axes = _figure(len(rows))
    for ax, (panel, names, arrays) in zip(axes, rows, strict=True):
        _histogram(ax, list(zip(names, arrays, strict=True)), xlabel)
        ax.set_title(panel, fontsize=10)
    if title:
        figure.suptitle(title)
    return _save(figure, path)


def plot_layer_histograms(
    names: Sequence[str],
    activations: Sequence[np.ndarray | None],
    gradients: Sequence[np.ndarray | None],
    path: Any = None,
) -> Any:
    """Histograms of each layer's activations a_l and back-propagated gradients dJ/dz_l.

    Glorot & Bengio (2010), Figures 6 and 7, for one network: a healthy one shows curves of
    similar width in every layer; a vanishing gradient shows the first layers' gradient
    histograms collapsed to a spike at 0.

    Returns
    -------
    matplotlib.figure.Figure
    """
    return plot_histogram_rows(
        [
            ("activations a_l (Glorot & Bengio, Figure 6)", names, activations),
            ("back-propagated gradients dJ/dz_l (Figure 7)", names, gradients),
        ],
        xlabel="value",
        path=path,
    )


def _history_x(records: Sequence[Mapping[str, Any]], batches_per_epoch: Mapping[int, int]) -> list:
    xs = []
    for record in records:
        count = batches_per_epoch.get(record["epoch"])
        if count:
            xs.append(record["epoch"] - 1 + record["batch"] / count)
        else:
            xs.append(record["epoch"] - 1 + 0.5)
    return xs


def plot_history(
    records: Sequence[Mapping[str, Any]],
    path: Any = None,
    batches_per_epoch: Mapping[int, int] | None = None,
) -> Any:
    """The recorded figures over training: ||dJ/dz|| per layer, dead and saturated fractions.

    Parameters
    ----------
    records : sequence of dict
        ``Diagnostics.records``: one dict per layer and sampled batch, with "epoch", "batch",
        "layer", "grad_norm", "dead_fraction", "saturated_fraction".
    path : path-like, optional
    batches_per_epoch : mapping, optional
        epoch -> number of batches, to place a batch within its epoch on the x axis.

    Returns
    -------
    matplotlib.figure.Figure
    """
    batches_per_epoch = batches_per_epoch or {}
    layers = list(dict.fromkeys(record["layer"] for record in records))
    panels = [
        ("grad_norm", "||dJ/dz|| (gradient norm)", True),
        ("dead_fraction", "dead units (fraction)", False),
        ("saturated_fraction", "saturated outputs (fraction)", False),
    ]
    # a panel no layer measures (saturation of a ReLU network) is left out, not drawn empty
    panels = [
        p for p in panels if p[0] == "grad_norm" or any(r.get(p[0]) is not None for r in records)
    ]
    figure, axes = _figure(len(panels), size=(7.0, 2.7 * len(panels)))
    for ax, (key, label, logarithmic) in zip(axes, panels, strict=True):
        drawn = False
        for layer, color in zip(layers, _colors(len(layers)), strict=True):
            chosen = [r for r in records if r["layer"] == layer and r.get(key) is not None]
            values = np.array([r[key] for r in chosen], dtype=np.float64)
            keep = np.isfinite(values) & ((values > 0) if logarithmic else True)
            if not keep.any():
                continue
            xs = np.array(_history_x(chosen, batches_per_epoch))[keep]
            ax.plot(xs, values[keep], marker=".", label=layer, color=color)
            drawn = True
        if logarithmic and drawn:
            ax.set_yscale("log")
        if not logarithmic:
            ax.set_ylim(-0.03, 1.03)
        if not drawn:
            ax.text(0.5, 0.5, "not measured", ha="center", va="center", transform=ax.transAxes)
        ax.set_ylabel(label)
        ax.set_xlabel("epoch")
        if drawn:
            ax.legend(fontsize=7)
    axes[0].set_title("Diagnostics during training")
    return _save(figure, path)


def plot_gradient_norms(
    series: Mapping[str, Sequence[float]],
    path: Any = None,
    title: str | None = None,
    ylabel: str = "||dJ/dz_l||",
) -> Any:
    """One line per configuration: a per-layer figure against the layer (1 = input side).

    Returns
    -------
    matplotlib.figure.Figure
    """
    figure, (ax,) = _figure(1, size=(7.0, 4.0))
    for (label, values), color in zip(series.items(), _colors(len(series)), strict=True):
        values = np.asarray(values, dtype=np.float64)
        layers = np.arange(1, values.size + 1)
        keep = np.isfinite(values) & (values > 0)
        ax.plot(layers[keep], values[keep], marker="o", label=label, color=color)
    ax.set_yscale("log")
    ax.set_xlabel("layer (1 = nearest the input)")
    ax.set_ylabel(ylabel)
    ax.legend()
    if title:
        ax.set_title(title)
    return _save(figure, path)
