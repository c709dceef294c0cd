"""The network as the course draws it: a column of units per layer, every unit joined to every
unit of the next layer, with captions under each column.

One drawing for every face: the report's network panel and a model's notebook display
(:func:`model_network_svg`), and the playground (:func:`network_svg` with its weights as lines
and each neuron's activation as a small picture). Reads a model through its public methods only
(``named_modules``, ``children``, ``parameters``), so it imports nothing of retroprop above it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from retroprop.display.svg import BLUE, ORANGE, document, text, text_width

__all__ = ["Layer", "describe_layers", "column_captions", "network_svg", "model_network_svg"]

MAX_DRAWN_UNITS = 8  # a wider layer shows 4 units at each end and a gap
NODE = 34  # the side of a unit drawn as a picture
UNIT_COLOURS = ("#f2f2f2", "#f59322", "#0877bd")  # input, hidden, output


@dataclass
class Layer:
    """One Linear layer and the modules that follow it up to the next Linear.

    Attributes
    ----------
    fan_in, width : int
    params : int
        Parameters of the Linear layer and of what follows it (BatchNorm's scale and shift).
    after : list of str
        The modules after the Linear ("ReLU", "Dropout(0.2)", "BatchNorm1d").
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
    """The Linear layers of a model (every module with ``in_features`` and ``out_features``)
    and the leaf modules that follow each; modules before the first Linear are left out.

    Examples
    --------
    >>> [(l.width, l.params, l.after) for l in describe_layers(nn.mlp([2, 4, 1], "tanh"))]
    [(4, 12, ['Tanh']), (1, 5, [])]
    """
    layers: list[Layer] = []
    for _, module in model.named_modules():
        if hasattr(module, "in_features") and hasattr(module, "out_features"):
            count = sum(p.size for p in module.parameters())
            layers.append(Layer(int(module.in_features), int(module.out_features), count))
        elif layers and not any(True for _ in module.children()):
            layers[-1].params += sum(p.size for p in module.parameters())
            layers[-1].after.append(_label(module))
    return layers


def column_captions(layers: Sequence[Layer]) -> list[list[str]]:
    """The lines written under each column, the input's first: its role, width, what follows
    the Linear layer and its parameter count.

    Examples
    --------
    >>> column_captions(describe_layers(nn.mlp([2, 3, 1])))[1:]
    [['hidden 1', '3 units', 'ReLU', '9 params'], ['output', '1 unit', 'logits', '4 params']]
    """
    if not layers:
        return []
    features = layers[0].fan_in
    captions = [["input", f"{features} feature{'s' if features != 1 else ''}"]]
    for c, layer in enumerate(layers, start=1):
        last = c == len(layers)
        units = f"{layer.width} unit{'s' if layer.width != 1 else ''}"
        lines = ["output" if last else f"hidden {c}", units]
        if layer.after:
            lines.append(" + ".join(layer.after))
        elif last:
            lines.append("logits")
        captions.append([*lines, f"{layer.params:,} params"])
    return captions


def _drawn_units(width: int) -> list[tuple[int, int]]:
    """(unit index, slot) of the units drawn in a column; 9 slots, the middle one the gap."""
    if width <= MAX_DRAWN_UNITS:
        return [(k, k) for k in range(width)]
    half = MAX_DRAWN_UNITS // 2
    return [(k, k) for k in range(half)] + [(width - half + k, half + 1 + k) for k in range(half)]


def _weight_lines(
    weights: Sequence[np.ndarray], xs: list[float], units: list[list[tuple[int, float]]]
) -> list[str]:
    """W_l[i, j] as a line from unit i of column l-1 to unit j of column l: blue when
    positive, orange when negative, as thick as its magnitude relative to the largest."""
    largest = max((float(np.abs(W).max()) for W in weights if np.size(W)), default=1.0) or 1.0
    lines = []
    for layer, W in enumerate(weights, start=1):
        for i, y0 in units[layer - 1]:
            for j, y1 in units[layer]:
                w = float(W[i, j])
                colour = BLUE if w >= 0 else ORANGE
                lines.append(
                    f'<line x1="{xs[layer - 1]:.1f}" y1="{y0:.1f}" x2="{xs[layer]:.1f}" '
                    f'y2="{y1:.1f}" stroke="rgb{colour}" '
                    f'stroke-width="{0.4 + 5 * abs(w) / largest:.2f}" stroke-opacity="0.8">'
                    f"<title>W_{layer}[{i},{j}] = {w:.4g}</title></line>"
                )
    return lines


def _unit(c: int, last: int, i: int, x: float, y: float, image: str | None, chosen: bool) -> str:
    """One unit: a circle coloured by its role, or a picture (a data URI) framed."""
    name = f"x{i + 1}" if c == 0 else f"layer {c}, unit {i}"
    if image is None:
        colour = UNIT_COLOURS[0 if c == 0 else (2 if c == last else 1)]
        return (f'<circle cx="{x:.1f}" cy="{y:.1f}" r="9" fill="{colour}" stroke="#333333">'
                f"<title>{name}</title></circle>")  # fmt: skip
    left, top = x - NODE / 2, y - NODE / 2
    return (
        f'<g><title>{name}</title><image href="{image}" x="{left:.1f}" y="{top:.1f}" '
        f'width="{NODE}" height="{NODE}" preserveAspectRatio="none"/><rect x="{left:.1f}" '
        f'y="{top:.1f}" width="{NODE}" height="{NODE}" fill="none" '
        f'stroke="{"#d00" if chosen else "#777"}" stroke-width="{3 if chosen else 1}"/></g>'
    )


def network_svg(
    widths: Sequence[int],
    captions: Sequence[Sequence[str]] = (),
    title: str = "",
    *,
    weights: Sequence[np.ndarray] | None = None,
    images: Sequence[Sequence[str]] | None = None,
    selected: tuple[int, int] | None = None,
) -> str:
    """The network drawn as columns of units (at most 8 drawn a column, the rest elided).

    Parameters
    ----------
    widths : sequence of int
        Units per column, the input's first.
    captions : sequence of sequence of str
        Lines written under each column ("hidden 1", "4 units", "ReLU").
    title : str
    weights : sequence of arrays (in, out), optional
        W_l of each layer: drawn as lines coloured by sign and sized by magnitude (default:
        thin grey lines).
    images : sequence of sequence of str, optional
        A picture per unit (a ``data:`` URI), per column: the units are drawn as pictures.
    selected : (column, unit), optional
        The unit outlined in red (column 0: the input).

    Examples
    --------
    >>> svg = network_svg([2, 4, 1], [["input"], ["hidden 1"], ["output"]])
    >>> svg.count("<circle"), svg.count("<line")
    (7, 12)
    >>> network_svg([3, 100, 1]).count("<circle")
    12
    >>> network_svg([2, 1], [["input"]])
    Traceback (most recent call last):
    ...
    ValueError: network_svg: captions give 1 columns for 2 widths
    """
    if captions and len(captions) != len(widths):
        raise ValueError(
            f"network_svg: captions give {len(captions)} columns for {len(widths)} widths"
        )
    pitch = NODE + 10 if images is not None else 26
    longest = max((text_width(str(line), 11) for lines in captions for line in lines), default=0)
    column = max(112.0 if images is not None else 130.0, longest + 16)
    width = max(column * len(widths), text_width(title, 14) + 24)
    xs = [(width - column * len(widths)) / 2 + column * (c + 0.5) for c in range(len(widths))]
    top = 40.0 if title else 16.0
    slots = min(max(widths, default=1), MAX_DRAWN_UNITS + 1)
    middle = top + pitch * (slots - 1) / 2 + 12
    units = []
    for w in widths:
        drawn = _drawn_units(w)
        count = drawn[-1][1] + 1 if drawn else 0
        units.append([(i, middle + pitch * (slot - (count - 1) / 2)) for i, slot in drawn])
    if weights is not None:
        parts = _weight_lines(weights, xs, units)
    else:
        parts = [
            f'<line x1="{xs[c]:.1f}" y1="{y0:.1f}" x2="{xs[c + 1]:.1f}" y2="{y1:.1f}" '
            'stroke="#9aa5b1" stroke-width="0.6" stroke-opacity="0.6"/>'
            for c in range(len(widths) - 1)
            for _, y0 in units[c]
            for _, y1 in units[c + 1]
        ]
    parts.insert(0, text(width / 2, 20, title, 14, weight="600") if title else "")
    below = middle + pitch * (slots - 1) / 2 + 36
    for c, x in enumerate(xs):
        for i, y in units[c]:
            image = images[c][i] if images is not None else None
            parts.append(_unit(c, len(widths) - 1, i, x, y, image, selected == (c, i)))
        if widths[c] > MAX_DRAWN_UNITS:
            parts.append(text(x, middle + 6, "\u22ee", 18))
        lines = captions[c] if captions else ()
        parts += [text(x, below + 15 * k, str(line), 11) for k, line in enumerate(lines)]
    height = below + 15 * max((len(lines) for lines in captions), default=0)
    return document(width, height, "".join(parts), title or "network")


def model_network_svg(model: Any) -> str:
    """A model's Linear layers drawn by :func:`network_svg`, each column captioned with its
    width, activation and parameter count.

    Raises
    ------
    ValueError
        When the model has no Linear layer.

    Examples
    --------
    >>> chart = model_network_svg(nn.mlp([2, 4, 4, 1], output_activation="sigmoid"))
    >>> chart.count("<circle"), "hidden 2" in chart, "Sigmoid" in chart
    (11, True, True)
    """
    layers = describe_layers(model)
    if not layers:
        raise ValueError(f"model_network_svg: the model {type(model).__name__} has no Linear layer")
    widths = [layers[0].fan_in, *(layer.width for layer in layers)]
    total = sum(layer.params for layer in layers)
    title = f"Network [{' → '.join(map(str, widths))}]: {total:,} trainable parameters"
    return network_svg(widths, column_captions(layers), title)
