"""Per-layer statistics of one forward and backward pass: the figures a health report reads.

For a Linear layer l on a batch of N examples, with z_l its pre-activation, a_l = g(z_l) its
activation and delta_l = dJ/dz_l its back-propagated gradient:

================== =====================================================================
activation_mean    mean of a_l over the batch and the units
activation_std     standard deviation of a_l (Glorot & Bengio's Figure 6 is its histogram)
grad_norm          ||delta_l||, the Frobenius norm over the batch and the units
grad_std           standard deviation of delta_l (the histogram of Figure 7)
weight_grad_norm   ||dJ/dW_l|| = ||a_{l-1}^T delta_l||
update_ratio       ||step on W_l|| / ||W_l||: ||lr dJ/dW_l|| / ||W_l|| for a plain gradient step
dead_fraction      fraction of units whose output is 0 for every example of the batch
saturated_fraction sigmoid: outputs within 0.01 of 0 or 1; tanh: beyond +-0.99 (None otherwise)
================== =====================================================================
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from retroprop.diagnostics.probes import Capture, LayerInfo

__all__ = ["LayerStats", "layer_stats", "MIN_DEAD_BATCH", "SATURATION_MARGIN"]

# Below this many examples "zero on every example" says little (a ReLU unit is zero on a
# single example half of the time), so dead_fraction is not measured.
MIN_DEAD_BATCH = 16
# Sigmoid outputs within this margin of 0 or 1, and tanh outputs within it of -1 or 1, count
# as saturated: there the derivative a (1 - a) or 1 - a**2 is below about 0.01 or 0.02.
SATURATION_MARGIN = 0.01


@dataclass
class LayerStats:
    """The figures of one Linear layer on one batch (see the module's table).

    Attributes
    ----------
    name : str
        "0: Linear 2->4" (the layer's path in the model, its widths).
    index : int
        Position among the Linear layers, 0 nearest the input.
    activation : str
        The activation after the layer ("ReLU", "Tanh", "identity").
    units : int
    activation_mean, activation_std, grad_norm, grad_std : float or None
        None when the backward pass did not reach the layer (no gradient).
    weight_grad_norm, weight_norm : float or None
    update_ratio : float or None
        None without a learning rate or a measured step.
    dead_fraction : float or None
        None on batches smaller than 16 examples, and for a layer without activation (a
        linear unit passes its gradient whatever its output).
    saturated_fraction : float or None
        None for activations that do not saturate (ReLU, identity, ...).
    non_finite : str or None
        What held the first NaN or inf ("the weights", "z", "the activation", "dJ/dz",
        "dJ/dW"), or None.
    """

    name: str
    index: int
    activation: str
    units: int
    activation_mean: float | None
    activation_std: float | None
    grad_norm: float | None
    grad_std: float | None
    weight_grad_norm: float | None
    weight_norm: float | None
    update_ratio: float | None
    dead_fraction: float | None
    saturated_fraction: float | None
    non_finite: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The figures as a plain dict (the keys of ``Diagnostics.records``)."""
        return asdict(self)


def _norm(array: np.ndarray | None) -> float | None:
    if array is None:
        return None
    return float(np.sqrt(np.sum(np.square(array, dtype=np.float64))))


def _std(array: np.ndarray | None) -> float | None:
    return None if array is None or array.size == 0 else float(np.std(array, dtype=np.float64))


def _mean(array: np.ndarray) -> float | None:
    return None if array.size == 0 else float(np.mean(array, dtype=np.float64))


def saturated_fraction(activation: Any, a: np.ndarray) -> float | None:
    """The fraction of outputs on the flat tails of a saturating activation, else None.

    The tails are the activation's ``saturation`` bounds (sigmoid: within 0.01 of 0 or 1;
    tanh: within 0.01 of -1 or 1); activations without bounds (ReLU, identity...) give None.

    Examples
    --------
    >>> saturated_fraction(nn.Tanh(), np.array([0.0, 0.995, -1.0, 0.5]))
    0.5
    >>> saturated_fraction(nn.ReLU(), np.array([0.0, 3.0])) is None
    True
    """
    bounds = getattr(activation, "saturation", None)  # (low, high), set by the activation
    if a.size == 0 or bounds is None:
        return None
    low, high = bounds
    flat = (a < low + SATURATION_MARGIN) | (a > high - SATURATION_MARGIN)
    return float(np.mean(flat))


def dead_fraction(a: np.ndarray) -> float | None:
    """The fraction of units (last axis) whose output is 0 for every example of the batch.

    None when the batch has fewer than ``MIN_DEAD_BATCH`` (16) examples.

    Examples
    --------
    >>> a = np.zeros((20, 4))
    >>> a[3, :2] = 1.0       # units 0 and 1 fire once; units 2 and 3 never
    >>> dead_fraction(a)
    0.5
    """
    if a.ndim == 0 or a.size == 0:
        return None
    rows = a.reshape(-1, a.shape[-1])
    if rows.shape[0] < MIN_DEAD_BATCH:
        return None
    return float(np.mean(np.all(rows == 0, axis=0)))


# The forward-pass names ``non_finite`` may hold (the others are "dJ/dz" and "dJ/dW"): a NaN
# born there spreads to the layers after it, one born in a gradient to the layers before.
FORWARD_QUANTITIES = ("the weights", "the bias", "the input a_{l-1}", "z", "the activation")


def _first_non_finite(pairs: list[tuple[str, np.ndarray | None]]) -> str | None:
    for what, array in pairs:
        if array is not None and array.dtype.kind == "f" and not np.isfinite(array).all():
            return what
    return None


def layer_stats(
    info: LayerInfo,
    capture: Capture | None,
    learning_rate: float | None = None,
    weight_after: np.ndarray | None = None,
) -> LayerStats:
    """The figures of one layer from what a :class:`~retroprop.diagnostics.probes.Probe` saw.

    Parameters
    ----------
    info : LayerInfo
    capture : Capture or None
        None when the forward pass did not reach the layer: every figure is then None.
    learning_rate : float, optional
        Gives ``update_ratio = ||lr dJ/dW|| / ||W||`` (the step plain SGD would take).
    weight_after : numpy.ndarray, optional
        W after ``optimizer.step()``: with ``capture.weight_before`` gives the step actually
        taken, ``update_ratio = ||W_after - W_before|| / ||W_before||`` (any optimiser).

    Returns
    -------
    LayerStats
    """
    linear = info.linear
    weight = linear.weight.data
    bias = None if linear.bias is None else linear.bias.data
    grad_weight = linear.weight.grad
    units = linear.out_features
    with np.errstate(all="ignore"):
        weight_norm = _norm(weight)
        weight_grad_norm = _norm(grad_weight)
        if capture is None:
            return LayerStats(
                info.label, info.index, info.activation_name, units, None, None, None, None,
                weight_grad_norm, weight_norm, None, None, None,
                _first_non_finite([("the weights", weight), ("the bias", bias)]),
            )  # fmt: skip
        update_ratio = None
        if capture.weight_before is not None and weight_after is not None:
            before = _norm(capture.weight_before)
            step = _norm(weight_after - capture.weight_before)
            update_ratio = step / before if before else None
        elif learning_rate is not None and weight_grad_norm is not None and weight_norm:
            update_ratio = abs(learning_rate) * weight_grad_norm / weight_norm
        a, delta = capture.a, capture.delta
        return LayerStats(
            name=info.label,
            index=info.index,
            activation=info.activation_name,
            units=units,
            activation_mean=_mean(a),
            activation_std=_std(a),
            grad_norm=_norm(delta),
            grad_std=_std(delta),
            weight_grad_norm=weight_grad_norm,
            weight_norm=weight_norm,
            update_ratio=update_ratio,
            dead_fraction=None if info.activation is None else dead_fraction(a),
            saturated_fraction=saturated_fraction(info.activation, a),
            non_finite=_first_non_finite(
                [
                    ("the weights", weight),
                    ("the bias", bias),
                    ("the input a_{l-1}", capture.x),
                    ("z", capture.z),
                    ("the activation", a),
                    ("dJ/dz", delta),
                    ("dJ/dW", grad_weight),
                ]
            ),
        )
