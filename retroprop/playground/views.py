"""What the playground shows, as arrays: the figures' data, read from the run at one epoch.

- the decision boundary: the model's probabilities over a grid of the input plane;
- a heatmap per hidden neuron: its activation a_l[j] over the same grid, recorded by the
  diagnostics' :class:`~retroprop.diagnostics.Probe` during one forward pass on the grid;
- the weights W_l and biases b_l;
- the gradient flow: ||delta_l|| per Linear layer from :func:`~retroprop.diagnostics.diagnose`
  (one probed forward and backward pass on the training rows);
- one neuron's z, a and delta for one sample, from :func:`~retroprop.diagnostics.explain`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from retroprop.diagnostics import Probe, diagnose, explain, linear_layers
from retroprop.display.charts import plane_grid
from retroprop.nn.inference import in_mode
from retroprop.playground.session import Session
from retroprop.tensor import Tensor

__all__ = ["NeuronTrace", "PlaygroundState", "read_state", "trace_neuron", "RESOLUTION"]

RESOLUTION = 48  # grid points per side of every heatmap


@dataclass
class NeuronTrace:
    """One neuron's numbers for one sample, in the course's notation.

    Attributes
    ----------
    layer : int
        l, 1 for the first Linear layer (the last is the output layer L).
    unit : int
        j, 0-based.
    sample : int
        Index among the training rows.
    x : ndarray, shape (2,)
        The sample, a_0.
    y : int
        Its class index.
    activation : str
        g_l ("Tanh", "identity" for the output logits).
    a_prev : ndarray
        a_{l-1}, the layer's input.
    weights : ndarray
        W_l[:, j], the weights into the neuron; ``bias`` is b_l[j].
    bias : float
    z, a, delta : float
        z_l[j] = a_{l-1} W_l[:, j] + b_l[j], a_l[j] = g_l(z_l[j]), delta_l[j] = dJ/dz_l[j] with
        J the loss of this one sample.
    """

    layer: int
    unit: int
    sample: int
    x: np.ndarray
    y: int
    activation: str
    a_prev: np.ndarray
    weights: np.ndarray
    bias: float
    z: float
    a: float
    delta: float


@dataclass
class PlaygroundState:
    """The playground at one epoch: every figure's data.

    Attributes
    ----------
    epoch : int
    train_loss, test_loss : list of float
        Per epoch.
    extent : (x_min, x_max, y_min, y_max)
        The input plane the heatmaps cover.
    boundary : ndarray, shape (R, R, k)
        Class probabilities over the grid (R = :data:`RESOLUTION`, row 0 at y_min).
    neurons : list of ndarray, shape (units_l, R, R)
        a_l[j] over the grid for each hidden layer l.
    weights, biases : list of ndarray
        W_l of shape (in, out) and b_l of shape (out,), copies.
    gradient_flow : list of (str, float or None)
        (layer name, ||delta_l|| over the training rows) per Linear layer.
    inspector : NeuronTrace or None
    message : str
        Why training stopped by itself, or "".
    """

    epoch: int
    train_loss: list[float]
    test_loss: list[float]
    extent: tuple[float, float, float, float]
    boundary: np.ndarray
    neurons: list[np.ndarray]
    weights: list[np.ndarray]
    biases: list[np.ndarray]
    gradient_flow: list[tuple[str, float | None]]
    inspector: NeuronTrace | None
    message: str


def probabilities(logits: np.ndarray) -> np.ndarray:
    """Class probabilities from the outputs: [1 - s, s] for one logit, softmax for k.

    Examples
    --------
    >>> probabilities(np.array([[0.0], [100.0]])).round(3).tolist()
    [[0.5, 0.5], [0.0, 1.0]]
    """
    if logits.shape[1] == 1:
        positive = 0.5 * (1.0 + np.tanh(0.5 * logits[:, 0]))  # sigmoid, without overflow
        return np.column_stack([1.0 - positive, positive])
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _plane(session: Session, resolution: int) -> tuple[np.ndarray, list[np.ndarray], tuple]:
    """(class probabilities, hidden activations per layer, extent) over the grid."""
    assert session.data is not None
    points, extent = plane_grid(session.data.X, resolution)
    model = session.model
    with in_mode(model, False), Probe(model) as probe, np.errstate(all="ignore"):
        output = model(Tensor(points)).data  # the probe records only a pass with a graph
    captures = probe.captures()
    neurons = [
        np.ascontiguousarray(capture.a.T).reshape(-1, resolution, resolution)
        for capture in captures[:-1]
    ]
    proba = probabilities(output).reshape(resolution, resolution, -1)
    return proba, neurons, extent


def _gradient_flow(session: Session) -> list[tuple[str, float | None]]:
    X, y = session.rows("train")
    report = diagnose(session.model, X, y, loss=session.loss, max_samples=512)
    return [(layer.name, layer.grad_norm) for layer in report.layers]


def trace_neuron(session: Session, layer: int, unit: int, sample: int) -> NeuronTrace:
    """z, a and delta of neuron ``unit`` of Linear layer ``layer`` (1-based) for one sample.

    Raises
    ------
    ValueError
        A layer, unit or sample out of range (named, with the range).
    """
    infos = linear_layers(session.model)
    X, y = session.rows("train")
    if not 1 <= layer <= len(infos):
        raise ValueError(f"playground: layer must be in 1..{len(infos)}, got {layer}")
    width = infos[layer - 1].linear.out_features
    if not 0 <= unit < width:
        raise ValueError(f"playground: layer {layer} has units 0..{width - 1}, got unit {unit}")
    if not 0 <= sample < len(y):
        raise ValueError(f"playground: sample must be in 0..{len(y) - 1}, got {sample}")
    trace = explain(session.model, X[sample], y[sample], loss=session.loss).layers[layer - 1]
    linear = infos[layer - 1].linear
    return NeuronTrace(
        layer=layer,
        unit=unit,
        sample=sample,
        x=X[sample].copy(),
        y=int(y[sample]),
        activation=trace.activation,
        a_prev=trace.a_prev,
        weights=linear.weight.data[:, unit].copy(),
        bias=0.0 if linear.bias is None else float(linear.bias.data[unit]),
        z=float(trace.z[unit]),
        a=float(trace.a[unit]),
        delta=float("nan") if trace.delta is None else float(trace.delta[unit]),
    )


def read_state(
    session: Session, neuron: tuple[int, int] | None = None, sample: int = 0, **options: Any
) -> PlaygroundState:
    """Every figure's data for the session as it is now.

    Parameters
    ----------
    session : Session
    neuron : (layer, unit), optional
        The neuron to trace (1-based layer, 0-based unit); None: no trace.
    sample : int
        Index of the training row the trace is for.
    resolution : int, optional
        Grid points per side (default :data:`RESOLUTION`).
    """
    resolution = int(options.get("resolution", RESOLUTION))
    proba, neurons, extent = _plane(session, resolution)
    history = session.history.history
    linears = [info.linear for info in linear_layers(session.model)]
    return PlaygroundState(
        epoch=session.epoch,
        train_loss=list(history.get("loss", [])),
        test_loss=list(history.get("val_loss", [])),
        extent=extent,
        boundary=proba,
        neurons=neurons,
        weights=[linear.weight.data.copy() for linear in linears],
        biases=[
            np.zeros(linear.out_features) if linear.bias is None else linear.bias.data.copy()
            for linear in linears
        ],
        gradient_flow=_gradient_flow(session),
        inspector=None if neuron is None else trace_neuron(session, *neuron, sample),
        message=session.message,
    )
