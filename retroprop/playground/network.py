"""The network as TensorFlow Playground draws it, and the neuron inspector, as SVG and HTML.

Each neuron is a small heatmap of its activation over the input plane; each weight W_l[i, j] is
a line from neuron i of layer l-1 to neuron j of layer l, blue when positive, orange when
negative, as thick as its magnitude (relative to the largest weight of the network). Hovering
a line shows its value.
"""

from __future__ import annotations

import html

import numpy as np

from retroprop.playground.drawing import (
    BLUE,
    CLASS_COLOURS,
    ORANGE,
    class_shading,
    data_uri,
    diverging,
    png,
)
from retroprop.playground.views import NeuronTrace, PlaygroundState

__all__ = ["network_svg", "inspector_html", "neuron_images"]

NODE = 34
COLUMN = 112
ROW = 44


def neuron_images(state: PlaygroundState) -> list[list[bytes]]:
    """PNG heatmaps per layer, inputs first: x1 and x2, each hidden neuron's a_l[j] (scaled by
    its largest |a| over the plane), then the output (the decision boundary)."""
    resolution = state.boundary.shape[0]
    x_min, x_max, y_min, y_max = state.extent
    xs = np.linspace(x_min, x_max, resolution)
    ys = np.linspace(y_min, y_max, resolution)
    grid_x, grid_y = np.meshgrid(xs, ys)
    inputs = [g / max(np.abs(g).max(), 1e-12) for g in (grid_x, grid_y)]
    layers = [[png(diverging(image)) for image in inputs]]
    for activations in state.neurons:
        scale = np.maximum(np.abs(activations).max(axis=(1, 2), keepdims=True), 1e-12)
        layers.append([png(diverging(image)) for image in activations / scale])
    outputs = state.weights[-1].shape[1]
    layers.append([png(class_shading(state.boundary))] * outputs)
    return layers


def _centres(widths: list[int], height: float) -> list[list[tuple[float, float]]]:
    return [
        [(20 + COLUMN * column, height / 2 + ROW * (row - (width - 1) / 2)) for row in range(width)]
        for column, width in enumerate(widths)
    ]


def _weight_lines(state: PlaygroundState, centres: list[list[tuple[float, float]]]) -> list[str]:
    largest = max((float(np.abs(W).max()) for W in state.weights if W.size), default=1.0)
    largest = largest if largest > 0 else 1.0
    lines = []
    for layer, W in enumerate(state.weights, start=1):
        for i, (x0, y0) in enumerate(centres[layer - 1]):
            for j, (x1, y1) in enumerate(centres[layer]):
                w = float(W[i, j])
                colour = BLUE if w >= 0 else ORANGE
                lines.append(
                    f'<line x1="{x0 + NODE:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" '
                    f'stroke="rgb{colour}" stroke-width="{0.4 + 5 * abs(w) / largest:.2f}" '
                    f'stroke-opacity="0.8"><title>W_{layer}[{i},{j}] = {w:.4g}</title></line>'
                )
    return lines


def network_svg(state: PlaygroundState, selected: tuple[int, int] | None = None) -> str:
    """The network: neurons as heatmaps, weights as lines; ``selected`` = (layer, unit) is
    outlined in red (layer 1 is the first hidden layer, as the inspector counts)."""
    widths = [2] + [W.shape[1] for W in state.weights]
    height = ROW * max(widths) + 30
    width = COLUMN * (len(widths) - 1) + NODE + 40
    centres = _centres(widths, height)
    parts = _weight_lines(state, centres)
    images = neuron_images(state)
    for column, (layer_images, layer_centres) in enumerate(zip(images, centres, strict=True)):
        for unit, (image, (cx, cy)) in enumerate(zip(layer_images, layer_centres, strict=True)):
            chosen = selected == (column, unit)
            name = f"x{unit + 1}" if column == 0 else f"layer {column}, unit {unit}"
            parts.append(
                f'<g><title>{name}</title><image href="{data_uri(image)}" x="{cx:.1f}" '
                f'y="{cy - NODE / 2:.1f}" width="{NODE}" height="{NODE}" '
                f'preserveAspectRatio="none"/><rect x="{cx:.1f}" y="{cy - NODE / 2:.1f}" '
                f'width="{NODE}" height="{NODE}" fill="none" '
                f'stroke="{"#d00" if chosen else "#777"}" stroke-width="{3 if chosen else 1}"/></g>'
            )
    labels = ["input"] + [f"layer {n}" for n in range(1, len(widths) - 1)] + ["output"]
    parts += [
        f'<text x="{20 + COLUMN * n + NODE / 2}" y="12" text-anchor="middle">{label}</text>'
        for n, label in enumerate(labels)
    ]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'style="flex:none" font-family="sans-serif" font-size="11">{"".join(parts)}</svg>'
    )


def _number(value: float) -> str:
    return f"{value + 0.0:.6g}"  # + 0.0: a -0.0 shows as 0


def _cells(values: list[str], tag: str = "td") -> str:
    return (
        "<tr>"
        + "".join(
            f"<{tag} style='padding:0 0.8em 0 0;text-align:left;white-space:nowrap'>"
            f"{html.escape(value)}</{tag}>"
            for value in values
        )
        + "</tr>"
    )


def inspector_html(trace: NeuronTrace | None) -> str:
    """One neuron's forward and backward numbers for one sample, in the course's notation:
    a table of z_l[j]'s terms a_{l-1}[i] W_l[i, j], then z, a and delta.

    Examples
    --------
    >>> trace = NeuronTrace(1, 0, 3, np.array([0.5, -1.0]), 1, "Tanh", np.array([0.5, -1.0]),
    ...                     np.array([2.0, 1.0]), 0.25, 0.25, 0.244919, -0.1)
    >>> text = inspector_html(trace)
    >>> "z_1[0]" in text and "0.244919" in text and "delta_1[0]" in text
    True
    """
    if trace is None:
        return "<p>Choose a neuron and a sample.</p>"
    l, j = trace.layer, trace.unit
    terms = [
        _cells([str(i), _number(a), _number(w), _number(a * w)])
        for i, (a, w) in enumerate(zip(trace.a_prev, trace.weights, strict=True))
    ]
    terms.append(_cells([f"b_{l}[{j}]", "", "", _number(trace.bias)]))
    head = _cells(["i", f"a_{l - 1}[i]", f"W_{l}[i, {j}]", "product"], "th")
    rows = [
        (
            f"a_0 = x (training row {trace.sample}), y",
            f"{', '.join(map(_number, trace.x))}; class {trace.y}",
        ),
        (f"z_{l}[{j}] = sum_i a_{l - 1}[i] W_{l}[i, {j}] + b_{l}[{j}]", _number(trace.z)),
        (f"a_{l}[{j}] = g_{l}(z_{l}[{j}]), g_{l} = {trace.activation}", _number(trace.a)),
        (f"delta_{l}[{j}] = dJ/dz_{l}[{j}]", _number(trace.delta)),
    ]
    colour = CLASS_COLOURS[trace.y % len(CLASS_COLOURS)]
    return (
        f"<div style='font-size:12px'><b>Neuron {j} of layer {l}</b> "
        f"<span style='color:rgb{colour}'>&#9679;</span> (J: the loss of this one sample)"
        "<div style='display:flex;gap:2em;align-items:flex-start'>"
        f"<table>{''.join(_cells(list(row)) for row in rows)}</table>"
        f"<table>{head}{''.join(terms)}</table></div></div>"
    )
