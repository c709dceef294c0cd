"""The network as TensorFlow Playground draws it, and the neuron inspector, as SVG and HTML.

Each neuron is a small heatmap of its activation over the input plane; each weight W_l[i, j] is
a line from neuron i of layer l-1 to neuron j of layer l, blue when positive, orange when
negative, as thick as its magnitude (relative to the largest weight of the network). Hovering
a line shows its value. The drawing itself is :func:`retroprop.display.network.network_svg`.
"""

from __future__ import annotations

import html

import numpy as np

from retroprop.display import network
from retroprop.display.html import format_number
from retroprop.playground.drawing import (
    CLASS_COLOURS,
    class_shading,
    data_uri,
    diverging,
    png,
    unshrinkable,
)
from retroprop.playground.views import NeuronTrace, PlaygroundState

__all__ = ["network_svg", "inspector_html", "neuron_images"]


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


def network_svg(state: PlaygroundState, selected: tuple[int, int] | None = None) -> str:
    """The network: neurons as heatmaps, weights as lines; ``selected`` = (layer, unit) is
    outlined in red (layer 1 is the first hidden layer, as the inspector counts)."""
    widths = [2] + [W.shape[1] for W in state.weights]
    images = [[data_uri(image) for image in layer] for layer in neuron_images(state)]
    captions = [["input"]] + [[f"layer {n}"] for n in range(1, len(widths) - 1)] + [["output"]]
    return unshrinkable(
        network.network_svg(
            widths, captions, weights=state.weights, images=images, selected=selected
        )
    )


def _number(value: float) -> str:
    return format_number(float(value), 6)  # never "-0"


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
