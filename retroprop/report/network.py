"""The network drawn as the course draws it: a column of units per layer, with its width, its
activation and its parameter count."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from retroprop.report.figures import _figure, png_bytes

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


def network_diagram(model: Any) -> bytes:
    """A column of units per layer (at most 8 drawn, the rest elided), with the layer's width,
    activation and parameter count written below it.

    Examples
    --------
    >>> network_diagram(nn.mlp([2, 4, 4, 1], output_activation="sigmoid"))[:4]
    b'\\x89PNG'
    """
    layers = describe_layers(model)
    if not layers:
        raise ValueError("network_diagram: the model has no Linear layer")
    widths = [layers[0].fan_in, *(layer.width for layer in layers)]
    columns = len(widths)
    figure = _figure(max(5.0, 2.0 * columns), 4.4)
    ax = figure.subplots()
    ax.set_axis_off()
    positions = [_unit_positions(w) for w in widths]
    for c in range(columns - 1):
        (left, _), (right, _) = positions[c], positions[c + 1]
        for y0 in left:
            for y1 in right:
                ax.plot([c, c + 1], [y0, y1], color="#9aa5b1", lw=0.6, alpha=0.6, zorder=1)
    for c, (ys, elided) in enumerate(positions):
        colour = "#f2f2f2" if c == 0 else ("#0877bd" if c == columns - 1 else "#f59322")
        ax.scatter(np.full(len(ys), c), ys, s=260, c=colour, edgecolors="#333333", zorder=3)
        if elided:
            ax.text(
                c,
                0,
                "⋮",
                ha="center",
                va="center",
                fontsize=16,
                zorder=4,
                bbox={"boxstyle": "round", "fc": "white", "ec": "none"},
            )
    for c in range(columns):
        if c == 0:
            lines = ["input", f"{widths[0]} feature{'s' if widths[0] != 1 else ''}"]
        else:
            layer = layers[c - 1]
            kind = "output" if c == columns - 1 else f"hidden {c}"
            lines = [kind, f"{layer.width} unit{'s' if layer.width != 1 else ''}"]
            if layer.after:
                lines.append(" + ".join(layer.after))
            elif c == columns - 1:
                lines.append("logits")
            lines.append(f"{layer.params:,} params")
        ax.text(c, -1.15, "\n".join(lines), ha="center", va="top", fontsize=9)
    total = sum(layer.params for layer in layers)
    shape = " → ".join(str(w) for w in widths)
    ax.set_title(f"Network [{shape}]: {total:,} trainable parameters")
    ax.set_xlim(-0.6, columns - 0.4)
    ax.set_ylim(-1.9, 1.15)
    return png_bytes(figure)
