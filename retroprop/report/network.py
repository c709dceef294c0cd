"""The network drawn as the course draws it: a column of units per layer, with its width, its
activation and its parameter count."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from retroprop.report import svg

__all__ = ["Layer", "describe_layers", "network_diagram"]

MAX_DRAWN_UNITS = 8


@dataclass
class Layer:
    """One Linear layer and the modules that follow it up to the next Linear.

    Attributes
    ----------
    fan_in, width : int
    params : int
        Parameters of the Linear layer and of what follows it (BatchNorm's scale and shift).
    after : list of str
        The modules after the Linear ("ReLU", "Dropout(p=0.2)", "BatchNorm1d").
    """

    fan_in: int
    width: int
    params: int
    after: list[str] = field(default_factory=list)


def _label(module: Any) -> str:
    name = type(module).__name__
    if name == "Dropout":
        return f"Dropout({getattr(module, 'p', '?')})"
    return name


def describe_layers(model: Any) -> list[Layer]:
    """The Linear layers of a Sequential model and what follows each.

    Examples
    --------
    >>> [(l.width, l.params, l.after) for l in describe_layers(nn.mlp([2, 4, 1], "tanh"))]
    [(4, 12, ['Tanh']), (1, 5, [])]
    """
    layers: list[Layer] = []
    children = list(model) if hasattr(model, "__iter__") else [model]
    for module in children:
        count = sum(p.size for p in module.parameters())
        if hasattr(module, "in_features") and hasattr(module, "out_features"):
            layers.append(Layer(module.in_features, module.out_features, count))
        elif layers:
            layers[-1].params += count
            layers[-1].after.append(_label(module))
    return layers


def _unit_positions(width: int) -> tuple[np.ndarray, bool]:
    """Heights of the drawn units; a wide layer shows 4 at each end and a gap between."""
    if width <= MAX_DRAWN_UNITS:
        return np.linspace(1, -1, width) * min(1.0, 0.18 * (width - 1) + 0.001), False
    half = MAX_DRAWN_UNITS // 2
    return np.concatenate([np.linspace(1, 0.35, half), np.linspace(-0.35, -1, half)]), True


def _column_labels(layers: list[Layer], widths: list[int], c: int) -> list[str]:
    """The lines written under column ``c``: its role, width, what follows, parameters."""
    if c == 0:
        return ["input", f"{widths[0]} feature{'s' if widths[0] != 1 else ''}"]
    layer, last = layers[c - 1], c == len(widths) - 1
    lines = [
        "output" if last else f"hidden {c}",
        f"{layer.width} unit{'s' if layer.width != 1 else ''}",
    ]
    if layer.after:
        lines.append(" + ".join(layer.after))
    elif last:
        lines.append("logits")
    return [*lines, f"{layer.params:,} params"]


def network_diagram(model: Any) -> str:
    """A column of units per layer (at most 8 drawn, the rest elided), with the layer's width,
    activation and parameter count written below it, as an SVG chart.

    Examples
    --------
    >>> chart = network_diagram(nn.mlp([2, 4, 4, 1], output_activation="sigmoid"))
    >>> chart.count("<circle"), "hidden 2" in chart, "Sigmoid" in chart
    (11, True, True)
    """
    layers = describe_layers(model)
    if not layers:
        raise ValueError("network_diagram: the model has no Linear layer")
    widths = [layers[0].fan_in, *(layer.width for layer in layers)]
    labels = [_column_labels(layers, widths, c) for c in range(len(widths))]
    column = max(130.0, max(svg.text_width(line, 11) for lines in labels for line in lines) + 16)
    total = sum(layer.params for layer in layers)
    title = f"Network [{' → '.join(map(str, widths))}]: {total:,} trainable parameters"
    width = max(column * len(widths), svg.text_width(title, 14) + 24)
    left = (width - column * len(widths)) / 2 + column / 2
    xs = [left + c * column for c in range(len(widths))]
    positions = [_unit_positions(w) for w in widths]
    ys = [130 - 90 * heights for heights, _ in positions]  # +1 at the top (y 40), -1 at 220
    parts = [svg.text(width / 2, 20, title, 14, weight="600")]
    for c in range(len(widths) - 1):
        parts += [
            f'<line x1="{xs[c]:.1f}" y1="{y0:.1f}" x2="{xs[c + 1]:.1f}" y2="{y1:.1f}" '
            'stroke="#9aa5b1" stroke-width="0.6" stroke-opacity="0.6"/>'
            for y0 in ys[c]
            for y1 in ys[c + 1]
        ]
    for c, (_, elided) in enumerate(positions):
        colour = "#f2f2f2" if c == 0 else ("#0877bd" if c == len(widths) - 1 else "#f59322")
        parts += [f'<circle cx="{xs[c]:.1f}" cy="{y:.1f}" r="9" fill="{colour}" '
                  'stroke="#333333"/>' for y in ys[c]]  # fmt: skip
        if elided:
            parts.append(svg.text(xs[c], 136, "⋮", 18))
        parts += [svg.text(xs[c], 246 + 15 * i, line, 11) for i, line in enumerate(labels[c])]
    return svg.document(width, 246 + 15 * 4, "".join(parts), title)
