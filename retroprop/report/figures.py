"""The report's figures. The simple charts (curves, confusion matrix, predicted against true,
residuals) are written as inline SVG by :mod:`retroprop.display.charts`; the decision boundary, a
shaded image with a contour, is drawn with matplotlib's object API (no pyplot, no global
backend) and returned as PNG bytes, imported only for runs on 2-D data.

Each function takes plain arrays, so it can be used outside the report too.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from retroprop.display import charts
from retroprop.display.charts import plane_grid
from retroprop.display.svg import data_range
from retroprop.training.objectives import r2_score

__all__ = [
    "Boundary",
    "png_bytes",
    "training_curves",
    "decision_boundary",
    "confusion_matrix",
    "predicted_vs_true",
    "residuals",
]

# TensorFlow Playground's colours: orange for the negative class, blue for the positive one.
ORANGE, BLUE = "#f59322", "#0877bd"
CLASS_COLOURS = [ORANGE, BLUE, "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
TRAIN_COLOUR, VALIDATION_COLOUR = "#1f77b4", "#ff7f0e"
LAYOUT = "constrained"
DPI = 80  # the report shows figures at about this size; 100 cost a third more time
SCATTER_ROWS = 1000  # scatter plots draw a sample: 10,000 points cost time and show no more


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout=LAYOUT)


def png_bytes(figure: Any) -> bytes:
    """The figure as PNG bytes (without matplotlib's software tag).

    Examples
    --------
    >>> figure = _figure(2, 1)
    >>> png_bytes(figure)[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    """
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _finite(values: Sequence[float]) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(array), array, np.nan)


def training_curves(
    history: Mapping[str, Sequence[float]],
    epochs: Sequence[int],
    metric: str | None = None,
    best_epoch: int | None = None,
    loss_name: str = "loss",
) -> str:
    """Loss (and ``metric``, and the learning rate when it changed) per epoch, training and
    validation: one SVG chart per quantity, to sit side by side.

    Examples
    --------
    >>> chart = training_curves({"loss": [0.7, 0.5], "val_loss": [0.8, 0.6]}, [1, 2])
    >>> chart.count("<svg"), "Loss (loss)" in chart, 'data-label="validation"' in chart
    (1, True, True)
    """
    panels = [("loss", f"Loss ({loss_name})")]
    if metric and metric in history:
        panels.append((metric, metric.replace("_", " ").capitalize()))
    lr = history.get("lr")
    if lr is not None and len(set(np.round(lr, 12))) > 1:
        panels.append(("lr", "Learning rate"))
    x = np.asarray(epochs, dtype=np.float64)
    drawn = []
    for key, title in panels:
        series = [charts.Series("training", x, _finite(history[key]), TRAIN_COLOUR)]
        if f"val_{key}" in history:
            series.append(
                charts.Series("validation", x, _finite(history[f"val_{key}"]), VALIDATION_COLOUR)
            )
        marks = []
        if best_epoch is not None:
            values = np.concatenate([np.asarray(s.y) for s in series])
            low, high = data_range(values)
            marks.append(charts.Series(f"best (epoch {best_epoch})", [best_epoch] * 2,
                                    [low, high], "grey", 1.0, "5 4"))  # fmt: skip
        ylabel = key if key != "lr" else "learning rate"
        drawn.append(charts.line_chart(series, title, "epoch", ylabel, marks=marks))
    return "".join(drawn)


@dataclass
class Boundary:
    """What a decision-boundary figure needs, in the data's own (unscaled) coordinates.

    Attributes
    ----------
    predict_proba : callable
        (n, 2) raw points -> (n, classes) probabilities.
    X : ndarray, shape (n, 2)
        The points to draw.
    y : ndarray of int, shape (n,)
        Their class indices.
    held_out : ndarray of bool, shape (n,)
        Test (or validation) points, drawn with a dark edge.
    class_names : list of str
    feature_names : (str, str)
    """

    predict_proba: Callable[[np.ndarray], np.ndarray]
    X: np.ndarray
    y: np.ndarray
    held_out: np.ndarray
    class_names: Sequence[str]
    feature_names: Sequence[str]


def _grid(X: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray, tuple[float, ...]]:
    points, extent = plane_grid(X, steps, margin=0.08)
    return points, points[:, 0].reshape(steps, steps), extent


def _two_class_background(
    figure: Any,
    ax: Any,
    proba: np.ndarray,
    points: np.ndarray,
    grid_x: np.ndarray,
    extent: tuple[float, ...],
    positive: str,
) -> list[str]:
    """P(positive class) from orange (0) to blue (1), with the 0.5 contour and a colour bar."""
    from matplotlib.colors import LinearSegmentedColormap

    cmap = LinearSegmentedColormap.from_list("playground", [ORANGE, "#ffffff", BLUE])
    image = ax.imshow(
        proba[:, 1].reshape(grid_x.shape),
        origin="lower",
        extent=extent,
        aspect="auto",
        cmap=cmap,
        vmin=0,
        vmax=1,
        alpha=0.75,
        interpolation="bilinear",
    )
    ax.contour(
        grid_x,
        points[:, 1].reshape(grid_x.shape),
        proba[:, 1].reshape(grid_x.shape),
        levels=[0.5],
        colors="#333333",
        linewidths=1,
    )
    colourbar = figure.colorbar(image, ax=ax, shrink=0.85)
    colourbar.set_label(f"P({positive})")
    return [ORANGE, BLUE]


def _many_class_background(
    ax: Any, proba: np.ndarray, grid_x: np.ndarray, extent: tuple[float, ...]
) -> list[str]:
    """Each region in its class colour, paler where the model is unsure."""
    from matplotlib.colors import to_rgb

    n_classes = proba.shape[1]
    colours = [CLASS_COLOURS[k % len(CLASS_COLOURS)] for k in range(n_classes)]
    rgb = np.array([to_rgb(c) for c in colours])
    winner = proba.argmax(axis=1)
    confidence = (proba.max(axis=1) - 1.0 / n_classes) / (1.0 - 1.0 / n_classes)
    shade = 0.25 + 0.5 * np.clip(confidence, 0.0, 1.0)[:, None]
    pixels = 1.0 - shade * (1.0 - rgb[winner])
    ax.imshow(
        pixels.reshape(*grid_x.shape, 3),
        origin="lower",
        extent=extent,
        aspect="auto",
        interpolation="bilinear",
    )
    return colours


def _scatter_points(ax: Any, boundary: Boundary, colours: Sequence[str]) -> None:
    """The rows in their class colour: training rows with a white edge, held-out ones black."""
    for k, name in enumerate(boundary.class_names):
        for held, edge, label in ((False, "white", "train"), (True, "black", "held out")):
            rows = (boundary.y == k) & (boundary.held_out == held)
            if rows.any():
                ax.scatter(
                    boundary.X[rows, 0],
                    boundary.X[rows, 1],
                    s=26,
                    c=colours[k],
                    edgecolors=edge,
                    linewidths=0.9,
                    marker="o",
                    label=f"{name} ({label})",
                )


def decision_boundary(
    boundary: Boundary, title: str = "Decision boundary", steps: int = 200
) -> bytes:
    """The model's prediction over the plane behind the points, as TensorFlow Playground shows it.

    Two classes: the probability of the positive class, orange (0) to blue (1), with the 0.5
    contour. More classes: each region in its class colour, paler where the model is unsure.
    """
    points, grid_x, extent = _grid(boundary.X, steps)
    proba = np.asarray(boundary.predict_proba(points), dtype=np.float64)
    proba = np.nan_to_num(proba, nan=0.5)
    figure = _figure(5.6, 4.8)
    ax = figure.subplots()
    if proba.shape[1] == 2:
        colours = _two_class_background(
            figure, ax, proba, points, grid_x, extent, boundary.class_names[1]
        )
    else:
        colours = _many_class_background(ax, proba, grid_x, extent)
    _scatter_points(ax, boundary, colours)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_xlabel(boundary.feature_names[0])
    ax.set_ylabel(boundary.feature_names[1])
    ax.set_title(title)
    ax.legend(fontsize=8, loc="best", framealpha=0.85)
    return png_bytes(figure)


def confusion_matrix(
    y_true: np.ndarray, y_pred: np.ndarray, class_names: Sequence[str], title: str
) -> str:
    """Counts of (true class, predicted class), each cell written in; the diagonal is right.

    The title takes two lines (the rows and the accuracy on the second) and the chart is made
    wide enough for both; class names longer than 22 characters are cut.

    Examples
    --------
    >>> chart = confusion_matrix(np.array([0, 1, 1]), np.array([0, 1, 0]), ["a", "b"], "test")
    >>> "3 rows, accuracy 0.667" in chart, "predicted class" in chart
    (True, True)
    """
    k = len(class_names)
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    labels = [str(n) if len(str(n)) <= 22 else str(n)[:21] + "…" for n in class_names]
    accuracy = np.trace(counts) / max(1, counts.sum())
    lines = [title, f"{counts.sum()} rows, accuracy {accuracy:.3f}"]
    return charts.heatmap(counts, labels, lines, "predicted class", "true class")


def _sample(
    y_true: np.ndarray, y_pred: np.ndarray, limit: int | None = SCATTER_ROWS
) -> tuple[np.ndarray, np.ndarray]:
    """The finite pairs, at most ``limit`` of them (an evenly spaced sample; None: all)."""
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    keep = np.isfinite(y_true) & np.isfinite(y_pred)
    y_true, y_pred = y_true[keep], y_pred[keep]
    step = 1 if limit is None else max(1, -(-len(y_true) // limit))
    return y_true[::step], y_pred[::step]


def titled_with_r2(title: str, y_true: np.ndarray, y_pred: np.ndarray) -> str:
    """``title`` followed by R² of the rows (retroprop's one R²: ``objectives.r2_score``).

    Examples
    --------
    >>> titled_with_r2("test", np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0]))
    'test: R² = 0.500'
    """
    r2 = r2_score(y_true, y_pred)
    return f"{title}: R² = {r2:.3f}" if abs(r2) < 1e3 else f"{title}: R² = {r2:.3g}"


def predicted_vs_true(
    y_true: np.ndarray, y_pred: np.ndarray, title: str, name: str = "target"
) -> str:
    """Predictions against true values; a perfect model puts every point on the diagonal.

    Examples
    --------
    >>> chart = predicted_vs_true(np.array([1.0, 2.0]), np.array([1.1, 1.9]), "test")
    >>> "test: R² = 0.960" in chart, "true target" in chart, chart.count("<circle")  # + legend
    (True, True, 3)
    """
    y_true, y_pred = _sample(y_true, y_pred, limit=None)
    titled = titled_with_r2(title, y_true, y_pred) if y_true.size else title
    shown = f"{len(y_true):,} rows" + (
        f", {SCATTER_ROWS:,} drawn" if y_true.size > SCATTER_ROWS else ""
    )
    y_true, y_pred = _sample(y_true, y_pred)  # R² above is on every row, not the sample
    lines = []
    if y_true.size:
        low = float(min(y_true.min(), y_pred.min()))
        high = float(max(y_true.max(), y_pred.max()))
        pad = 0.05 * (high - low or 1.0)
        ends = [low - pad, high + pad]
        lines.append(charts.Series("perfect prediction", ends, ends, "grey", 1.0, "5 4"))
    points = charts.Series(shown, y_true, y_pred, TRAIN_COLOUR, width=0)
    return charts.scatter_chart(points, titled, f"true {name}", f"predicted {name}", lines)


def residuals(y_true: np.ndarray, y_pred: np.ndarray, title: str, name: str = "target") -> str:
    """Residuals (true - predicted) against the prediction: a good fit scatters them evenly
    around 0; a funnel, a curve or a vertical line of points (one value predicted for many
    rows) shows what the model misses.

    Examples
    --------
    >>> chart = residuals(np.array([1.0, 2.0]), np.array([1.1, 1.9]), "test")
    >>> "true - predicted target" in chart, chart.count("<circle")  # 2 rows + legend dot
    (True, 3)
    """
    y_true, y_pred = _sample(y_true, y_pred)
    zero = []
    if y_pred.size:
        zero.append(charts.Series("zero error", [y_pred.min(), y_pred.max()], [0.0, 0.0], "grey",
                               1.0, "5 4"))  # fmt: skip
    drawn = f"{len(y_true):,} rows drawn"
    points = charts.Series(drawn, y_pred, y_true - y_pred, TRAIN_COLOUR, width=0)
    xlabel, ylabel = f"predicted {name}", f"true - predicted {name}"
    return charts.scatter_chart(points, title, xlabel, ylabel, zero)
