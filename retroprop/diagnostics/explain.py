"""``explain``: the backward pass of one example, layer by layer, in the course's notation.

For each Linear layer l (l = 1 nearest the input, as in the course):

    z_l = a_{l-1} W_l + b_l          pre-activation (a_0 = x)
    a_l = g_l(z_l)                   activation
    delta_l = dJ/dz_l                the error of layer l (the course's epsilon_l):
        delta_L = dJ/dz_L            from the loss (y_hat - y for pseudo-MSE on an identity
                                     output, or for cross-entropy on logits)
        delta_l = (delta_{l+1} W_{l+1}^T) * g_l'(z_l)
    dJ/dW_l = a_{l-1}^T delta_l      dJ/db_l = delta_l

The arrays are the engine's own, read through probes during one real ``backward()``: the table
shows what retroprop computes, not a re-derivation of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from retroprop.diagnostics.probes import LayerInfo, Probe, linear_layers
from retroprop.diagnostics.report import scratch_pass
from retroprop.nn.module import Module
from retroprop.tensor import Tensor
from retroprop.training.objectives import resolve_loss

__all__ = ["explain", "Explanation", "LayerTrace", "explanation_html"]


@dataclass
class LayerTrace:
    """One layer of the backward pass of one example.

    Attributes
    ----------
    name : str
        "0: Linear 2->4".
    activation : str
        g_l ("Sigmoid", "ReLU", "identity").
    a_prev : numpy.ndarray, shape (in_features,)
        a_{l-1}, the layer's input (x for the first layer).
    z, a, delta : numpy.ndarray, shape (out_features,)
        z_l, a_l and delta_l = dJ/dz_l.
    grad_weight : numpy.ndarray, shape (in_features, out_features)
        dJ/dW_l = a_{l-1}^T delta_l.
    grad_bias : numpy.ndarray or None, shape (out_features,)
        dJ/db_l = delta_l (None without a bias).
    weight : numpy.ndarray or None, shape (in_features, out_features)
        W_l, the layer's weights at the time of the pass (a copy).
    bias : numpy.ndarray or None, shape (out_features,)
        b_l (None without a bias).
    """

    name: str
    activation: str
    a_prev: np.ndarray
    z: np.ndarray
    a: np.ndarray
    delta: np.ndarray | None
    grad_weight: np.ndarray | None
    grad_bias: np.ndarray | None
    weight: np.ndarray | None = None
    bias: np.ndarray | None = None


@dataclass
class Explanation:
    """What :func:`explain` returns; ``str()`` of it is the layer-by-layer table.

    Attributes
    ----------
    layers : list of LayerTrace
        l = 1 ... L, input side first (``layers[0]`` is layer 1).
    x : numpy.ndarray
        The example, a_0.
    y : numpy.ndarray
        The target as the loss receives it.
    output : numpy.ndarray
        The network's output y_hat.
    loss : float
        J for this example.
    loss_name : str
    """

    layers: list[LayerTrace]
    x: np.ndarray
    y: np.ndarray
    output: np.ndarray
    loss: float
    loss_name: str

    def to_html(self, precision: int | None = 4) -> str:
        """The trace as an HTML table in the course's notation: W, b, z, a, delta, dJ/dW and
        dJ/db of each layer.

        Parameters
        ----------
        precision : int or None, default 4
            Significant digits of each number; None shows every digit (the shortest text that
            reads back to the same value).
        """
        return explanation_html(self, precision)

    def _repr_html_(self) -> str:
        return self.to_html()

    def __str__(self) -> str:
        from retroprop.diagnostics.plots import format_table

        lines = [
            f"Backward pass for one example: loss {self.loss_name}, J = {_fmt(self.loss)}",
            f"a_0 = x = {_fmt(self.x)}, y = {_fmt(self.y)}, y_hat = {_fmt(self.output)}",
            "",
            "forward:  z_l = a_{l-1} W_l + b_l,  a_l = g_l(z_l)",
            "backward: delta_L = dJ/dz_L (from the loss);  "
            "delta_l = (delta_{l+1} W_{l+1}^T) * g_l'(z_l)",
            "          dJ/dW_l = a_{l-1}^T delta_l,  dJ/db_l = delta_l",
            "",
        ]
        if all(trace.z.size == 1 and trace.a_prev.size == 1 for trace in self.layers):
            # One neuron per layer, as the course's examples: one row per layer.
            header = ["l", "layer", "g_l", "z_l", "a_l", "delta_l", "dJ/dW_l", "dJ/db_l"]
            rows = [
                [str(number), trace.name, trace.activation]
                + [_fmt(trace.z), _fmt(trace.a), _fmt(trace.delta)]
                + [_fmt(trace.grad_weight), _fmt(trace.grad_bias)]
                for number, trace in enumerate(self.layers, start=1)
            ]
            lines.append(format_table(header, rows, left=3))
            return "\n".join(lines)
        for number, trace in enumerate(self.layers, start=1):
            lines.append(f"layer {number}: {trace.name}, g_{number} = {trace.activation}")
            for symbol, value in [
                (f"W_{number}", trace.weight),
                (f"b_{number}", trace.bias),
                (f"z_{number}", trace.z),
                (f"a_{number}", trace.a),
                (f"delta_{number}", trace.delta),
                (f"dJ/dW_{number}", trace.grad_weight),
                (f"dJ/db_{number}", trace.grad_bias),
            ]:
                prefix = f"  {symbol:<9} = "
                lines.append(
                    prefix + _fmt(value, multiline=True).replace("\n", "\n" + " " * len(prefix))
                )
        return "\n".join(lines)


def _fmt(value: Any, multiline: bool = False) -> str:
    """Scalars with 6 significant digits, arrays with 4 (never "-0": a ReLU's blocked gradient
    is 0, and 1.2e-05 is not rounded away)."""
    from retroprop.display import format_array, format_number

    if value is None:
        return "-"
    array = np.asarray(value)
    if array.ndim == 0 or array.size == 1:
        return format_number(array.reshape(-1)[0], 6)
    text = format_array(array, precision=4)
    return text if multiline else " ".join(text.split())


_HTML_FORMULAS = (
    "<p>forward: z<sup>(l)</sup> = a<sup>(l-1)</sup> W<sup>(l)</sup> + b<sup>(l)</sup>, "
    "a<sup>(l)</sup> = g<sub>l</sub>(z<sup>(l)</sup>), a<sup>(0)</sup> = x<br>"
    "backward: \u03b4<sup>(L)</sup> = \u2202J/\u2202z<sup>(L)</sup> (from the loss), "
    "\u03b4<sup>(l)</sup> = (\u03b4<sup>(l+1)</sup> W<sup>(l+1)T</sup>) \u2299 "
    "g<sub>l</sub>'(z<sup>(l)</sup>)<br>"
    "\u2202J/\u2202W<sup>(l)</sup> = a<sup>(l-1)T</sup> \u03b4<sup>(l)</sup>, "
    "\u2202J/\u2202b<sup>(l)</sup> = \u03b4<sup>(l)</sup></p>"
)
_HTML_COLUMNS = [
    "l",
    "layer",
    "g<sub>l</sub>",
    "W<sup>(l)</sup>",
    "b<sup>(l)</sup>",
    "z<sup>(l)</sup>",
    "a<sup>(l)</sup>",
    "\u03b4<sup>(l)</sup>",
    "\u2202J/\u2202W<sup>(l)</sup>",
    "\u2202J/\u2202b<sup>(l)</sup>",
]


def explanation_html(explanation: Explanation, precision: int | None = 4) -> str:
    """The HTML of :meth:`Explanation.to_html`: one row per layer, every array in full (up to
    8 rows and columns) with ``precision`` significant digits (None: every digit)."""
    from retroprop.display import escape, matrix, panel, table

    def cell(value: Any) -> str:
        return matrix(value, precision)

    rows = [
        [str(number), escape(trace.name), escape(trace.activation)]
        + [cell(trace.weight), cell(trace.bias), cell(trace.z), cell(trace.a)]
        + [cell(trace.delta), cell(trace.grad_weight), cell(trace.grad_bias)]
        for number, trace in enumerate(explanation.layers, start=1)
    ]
    given = (
        f"<p>loss {escape(explanation.loss_name)}, J = {cell(explanation.loss)}; "
        f"a<sup>(0)</sup> = x = {cell(explanation.x)}, y = {cell(explanation.y)}, "
        f"\u0177 = {cell(explanation.output)}</p>"
    )
    note = (
        '<p class="rp-muted">W<sup>(l)</sup> is stored (in_features, out_features), so '
        "z = a W + b reads as the slides write it.</p>"
    )
    return panel(
        given,
        _HTML_FORMULAS,
        table(_HTML_COLUMNS, rows, raw=True),
        note,
        title="Backward pass for one example",
    )


def _one_example(x: Any, in_features: int, dtype: np.dtype) -> np.ndarray:
    """``x`` as an array of shape (1, in_features), or a ValueError that says what is wrong."""
    example = np.asarray(x.data if isinstance(x, Tensor) else x, dtype=dtype)
    if example.ndim == 0:
        example = example.reshape(1, 1)
    elif example.ndim == 1:
        example = example.reshape(1, -1)
    if example.ndim != 2 or example.shape[0] != 1:
        raise ValueError(
            f"explain: x must be one example, of shape (n_features,) or (1, n_features); got "
            f"shape {np.shape(x)} (explain shows one example's backward pass; use diagnose() "
            "for a batch)"
        )
    if example.shape[1] != in_features:
        raise ValueError(
            f"explain: x has {example.shape[1]} features but the first Linear layer expects "
            f"in_features={in_features}"
        )
    if not np.isfinite(example).all():
        raise ValueError(f"explain: x contains NaN or inf: {example[0].tolist()}")
    return example


def _layer_traces(infos: list[LayerInfo], probe: Probe) -> list[LayerTrace]:
    """The trace of each Linear layer the probe saw, read before the ``.grad`` are restored."""
    traces = []
    for info in infos:
        capture = probe.capture(info)
        if capture is None:
            continue
        weight_grad, bias = info.linear.weight.grad, info.linear.bias
        traces.append(
            LayerTrace(
                name=info.label,
                activation=info.activation_name,
                a_prev=capture.x[0].copy(),
                z=capture.z[0].copy(),
                a=capture.a[0].copy(),
                delta=None if capture.delta is None else capture.delta[0].copy(),
                grad_weight=None if weight_grad is None else weight_grad.copy(),
                grad_bias=None if bias is None or bias.grad is None else bias.grad.copy(),
                weight=info.linear.weight.data.copy(),
                bias=None if bias is None else bias.data.copy(),
            )
        )
    return traces


def explain(
    model: Module,
    x: Any,
    y: Any,
    *,
    loss: str | Callable[..., Tensor],
) -> Explanation:
    """Run one example forward and backward and return z, a, delta, dJ/dW, dJ/db per layer.

    The model is left as it was: its weights' ``.grad`` and its mode are restored. The pass
    runs in evaluation mode (no dropout; BatchNorm1d uses its running statistics), so one
    example is enough and the result is deterministic.

    Parameters
    ----------
    model : Module
        A network of Linear layers (with activations between them, for the course's notation).
    x : array-like, shape (n_features,) or (1, n_features)
        One example.
    y : scalar or array-like
        Its target, as :func:`retroprop.fit` takes one row of y for ``loss``.
    loss : str or callable
        A loss name of ``fit`` ("pseudo_mse", "mse", "binary_cross_entropy",
        "cross_entropy", ...) or ``loss(output, target)``.

    Returns
    -------
    Explanation

    Raises
    ------
    ValueError
        When x holds more than one example, does not fit the first layer, or the model holds
        no Linear layer.

    Examples
    --------
    The course's 4-parameter network (deck 03): x = 3.14, y = 1, sigmoid units, binary
    cross-entropy, dJ/dw2 = (y_hat - y) a1.

    >>> model = nn.Sequential(nn.Linear(1, 1, dtype=np.float64), nn.Sigmoid(),
    ...                       nn.Linear(1, 1, dtype=np.float64), nn.Sigmoid())
    >>> model[0].weight.data[:] = 0.6394267984578837
    >>> model[2].weight.data[:] = 0.025010755222666936
    >>> trace = explain(model, [3.14], 1.0, loss="binary_cross_entropy")
    >>> layer1, layer2 = trace.layers
    >>> round(float(layer1.a[0]), 4), round(float(trace.output[0]), 4)
    (0.8816, 0.5055)
    >>> bool(np.isclose(layer2.grad_weight[0, 0], (trace.output[0] - 1.0) * layer1.a[0]))
    True
    >>> print(trace)
    Backward pass for one example: loss binary_cross_entropy, J = 0.682183
    a_0 = x = 3.14, y = 1, y_hat = 0.505512
    <BLANKLINE>
    forward:  z_l = a_{l-1} W_l + b_l,  a_l = g_l(z_l)
    backward: delta_L = dJ/dz_L (from the loss);  delta_l = (delta_{l+1} W_{l+1}^T) * g_l'(z_l)
              dJ/dW_l = a_{l-1}^T delta_l,  dJ/db_l = delta_l
    <BLANKLINE>
    l  layer           g_l            z_l       a_l      delta_l      dJ/dW_l      dJ/db_l
    -  --------------  -------  ---------  --------  -----------  -----------  -----------
    1  0: Linear 1->1  Sigmoid     2.0078  0.881614  -0.00129081  -0.00405314  -0.00129081
    2  2: Linear 1->1  Sigmoid  0.0220498  0.505512    -0.494488    -0.435947    -0.494488
    """
    infos = linear_layers(model)
    if not infos:
        raise ValueError(f"explain: {type(model).__name__} holds no Linear layer")
    dtype = infos[0].linear.weight.dtype
    example = _one_example(x, infos[0].linear.in_features, dtype)
    objective = resolve_loss(loss)
    target_row = np.asarray(y.data if isinstance(y, Tensor) else y)
    target_row = target_row.reshape(1, -1) if target_row.ndim <= 1 else target_row

    probe = Probe(model)
    with scratch_pass(model, training=False):
        with probe:
            output = model(Tensor(example))
            width = 1 if output.ndim == 1 else output.shape[1]
            if objective.kind == "multiclass":
                target = objective.prepare_targets(target_row.reshape(-1), width, dtype)
            else:
                target = objective.prepare_targets(target_row, width, dtype)
            loss_tensor = objective.function(output, target)
            loss_tensor.backward()
        traces = _layer_traces(infos, probe)
    return Explanation(
        layers=traces,
        x=example[0],
        y=np.asarray(target).reshape(-1),
        output=output.data[0].copy(),
        loss=float(loss_tensor.item()),
        loss_name=objective.name,
    )
