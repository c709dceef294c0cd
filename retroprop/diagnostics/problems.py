"""The course's pathologies of deep networks, found in per-layer figures, with their remedies.

================== =====================================================================
vanishing_gradient ||dJ/dz|| of the first layer below ``vanishing_ratio`` times the last's
exploding_gradient that ratio above ``exploding_ratio``, or a step larger than the weights
dead_units         a layer where at least ``dead_fraction`` of the units output 0 for every
                   example of the batch
saturated_units    a sigmoid or tanh layer with at least ``saturated_fraction`` of its outputs
                   within 0.01 of the asymptotes
non_finite         NaN or inf in a weight, an activation, a gradient or the loss
================== =====================================================================

The thresholds were chosen on planted networks (see ``tests/test_diagnostics_report.py``): a
healthy ReLU network with He initialisation stays well inside them, each planted pathology is
far outside.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from retroprop.diagnostics.stats import FORWARD_QUANTITIES, LayerStats

__all__ = ["REMEDIES", "Thresholds", "Problem", "problems"]

REMEDIES: dict[str, str] = {
    "vanishing_gradient": (
        "use ReLU or a variant (Leaky ReLU, ELU) in the hidden layers instead of sigmoid or "
        "tanh; initialise to match the activation (He for the ReLU family, Glorot/Xavier for "
        "sigmoid and tanh); add batch normalisation (BatchNorm1d) or residual connections "
        "(nn.Residual) that let the gradient bypass layers"
    ),
    "exploding_gradient": (
        "take smaller steps (lower the learning rate) or clip the gradient norm "
        "(fit(..., clip_grad_norm=1.0)); initialise to match the activation (He, "
        "std = sqrt(2 / fan_in), for ReLU; Glorot for sigmoid and tanh); batch normalisation "
        "also keeps the layers' scale in check"
    ),
    "dead_units": (
        "use Leaky ReLU or ELU, whose units still pass a gradient when inactive; He "
        "initialisation with zero biases; a smaller learning rate (one large step can push a "
        "unit below zero for every example, and it never recovers); batch normalisation"
    ),
    "saturated_units": (
        "initialise with Glorot/Xavier (variance 2 / (fan_in + fan_out)) so pre-activations "
        "stay in the non-flat range; standardise the inputs; add batch normalisation; or use "
        "ReLU-family activations, which do not saturate"
    ),
    "non_finite": (
        "lower the learning rate and clip gradients; standardise the inputs; initialise to "
        "match the activation; train on logits with the fused losses (cross_entropy, "
        "binary_cross_entropy_with_logits) rather than on probabilities"
    ),
}


@dataclass(frozen=True)
class Thresholds:
    """Where a figure becomes a problem.

    Attributes
    ----------
    vanishing_ratio : float, default 0.01
        ||dJ/dz|| of the first Linear layer over that of the last, below which the gradient
        vanishes. Healthy ReLU networks with He initialisation give 0.5 to 1.6 (32 units wide,
        3 to 6 hidden layers), and 0.05 to 2.7 when only 4 units wide, at initialisation.
    exploding_ratio : float, default 100
        The same ratio above which it explodes. Training moves it: small healthy networks
        trained on two-feature problems (circles) reach 35, digits networks 3.
    update_ratio : float, default 1.0
        ||step|| / ||W|| above which one step changes a layer more than its whole size.
    dead_fraction : float, default 0.5
        Fraction of dead units that makes a layer's units "dead" (healthy ReLU networks: under
        0.25 at 3 hidden layers of 32 units; deep or narrow ones reach 0.45 at initialisation).
    saturated_fraction : float, default 0.4
        Fraction of saturated outputs that makes a layer's units "saturated" (tanh with Glorot
        initialisation: under 0.1).
    """

    vanishing_ratio: float = 0.01
    exploding_ratio: float = 100.0
    update_ratio: float = 1.0
    dead_fraction: float = 0.5
    saturated_fraction: float = 0.4


@dataclass
class Problem:
    """A pathology found in a report, with its figures and the course's remedy.

    Attributes
    ----------
    kind : str
        "vanishing_gradient", "exploding_gradient", "dead_units", "saturated_units" or
        "non_finite".
    layers : list of str
        The layers concerned ("0: Linear 2->4", ...).
    message : str
        What was measured, with the figures.
    remedy : str
        What the course recommends.
    epoch, batch : int or None
        Where training was when the problem was seen (set by the ``Diagnostics`` callback).
    """

    kind: str
    layers: list[str]
    message: str
    remedy: str
    epoch: int | None = None
    batch: int | None = None

    def __str__(self) -> str:
        where = f" (epoch {self.epoch}, batch {self.batch})" if self.epoch is not None else ""
        return f"[{self.kind}]{where} {self.message}\n  remedy: {self.remedy}"


def _names(layers: Sequence[LayerStats]) -> list[str]:
    return [layer.name for layer in layers]


def _at_or_above(layers: Sequence[LayerStats], attribute: str, limit: float) -> list[LayerStats]:
    """The layers whose figure ``attribute`` is measured and at least ``limit``."""
    return [
        s for s in layers if getattr(s, attribute) is not None and getattr(s, attribute) >= limit
    ]


def _fraction_problem(
    kind: str, layers: Sequence[LayerStats], attribute: str, limit: float, what: str
) -> Problem | None:
    hit = _at_or_above(layers, attribute, limit)
    if not hit:
        return None
    figures = ", ".join(f"{s.name} ({s.activation}): {getattr(s, attribute):.0%}" for s in hit)
    return Problem(kind, _names(hit), f"{what} (threshold {limit:.0%}): {figures}", REMEDIES[kind])


def _non_finite_problem(layers: Sequence[LayerStats], loss: float | None) -> Problem | None:
    """NaN or inf in a layer or the loss, traced to where it was born (None: all finite)."""
    bad = [s for s in layers if s.non_finite]
    loss_is_bad = loss is not None and not np.isfinite(loss)
    if not bad and not loss_is_bad:
        return None
    # The origin: the first layer whose forward pass holds one (it spreads to the layers
    # after it), else the last layer whose gradient holds one (it spreads backward).
    forward = [s for s in bad if s.non_finite in FORWARD_QUANTITIES]
    origin = forward[0] if forward else (bad[-1] if bad else None)
    where = f"first in {origin.non_finite} of layer {origin.name}" if origin else "in the loss"
    names = _names([origin] + [s for s in bad if s is not origin]) if origin else []
    message = f"NaN or inf values, {where}"
    if loss_is_bad:
        message += f"; the loss is {loss}"
    if len(bad) > 1:
        message += f"; {len(bad)} of {len(layers)} layers hold non-finite values"
    return Problem("non_finite", names, message, REMEDIES["non_finite"])


def _gradient_ratio_problem(layers: Sequence[LayerStats], limits: Thresholds) -> Problem | None:
    """Vanishing or exploding gradient, from ||dJ/dz|| of each layer over the last layer's."""
    with_grad = [s for s in layers if s.grad_norm is not None]
    if len(with_grad) < 2 or not with_grad[-1].grad_norm > 0:
        return None
    last = with_grad[-1]
    ratios = [(s, s.grad_norm / last.grad_norm) for s in with_grad[:-1]]
    first_ratio = ratios[0][1]
    figures = ", ".join(f"{s.name}: {s.grad_norm:.3g}" for s in with_grad)
    # Dead units stop the gradient outright: that is their problem, not a vanishing one.
    blocked_by_dead = first_ratio == 0 and bool(
        _at_or_above(layers, "dead_fraction", limits.dead_fraction)
    )
    if first_ratio < limits.vanishing_ratio and not blocked_by_dead:
        return Problem(
            "vanishing_gradient",
            _names([s for s, r in ratios if r < limits.vanishing_ratio]),
            f"the back-propagated gradient ||dJ/dz|| shrinks toward the input: first/last "
            f"layer ratio {first_ratio:.3g} < {limits.vanishing_ratio:g} ({figures}); "
            "the first layers barely learn",
            REMEDIES["vanishing_gradient"],
        )
    if first_ratio > limits.exploding_ratio:
        return Problem(
            "exploding_gradient",
            _names([s for s, r in ratios if r > limits.exploding_ratio]),
            f"the back-propagated gradient ||dJ/dz|| grows toward the input: first/last "
            f"layer ratio {first_ratio:.3g} > {limits.exploding_ratio:g} ({figures})",
            REMEDIES["exploding_gradient"],
        )
    return None


def _big_step_problem(layers: Sequence[LayerStats], limits: Thresholds) -> Problem | None:
    """An exploding step: ||step|| / ||W|| above ``limits.update_ratio`` in some layer."""
    big_steps = [
        s for s in layers if s.update_ratio is not None and s.update_ratio > limits.update_ratio
    ]
    if not big_steps:
        return None
    figures = ", ".join(f"{s.name}: {s.update_ratio:.3g}" for s in big_steps)
    return Problem(
        "exploding_gradient",
        _names(big_steps),
        f"the step is larger than {limits.update_ratio:g} x the weights it changes "
        f"(||step|| / ||W||: {figures})",
        REMEDIES["exploding_gradient"],
    )


def _dead_units_problem(layers: Sequence[LayerStats], limits: Thresholds) -> Problem | None:
    """Layers of units that output 0 on every example, and whether the layers below starve."""
    dead = _fraction_problem(
        "dead_units",
        layers,
        "dead_fraction",
        limits.dead_fraction,
        "units output 0 for every example of the batch, so they pass no gradient",
    )
    if dead is None:
        return None
    first_dead = _at_or_above(layers, "dead_fraction", limits.dead_fraction)[0]
    below = [s for s in layers if s.grad_norm is not None and s.index < first_dead.index]
    if below and all(s.grad_norm == 0 for s in below):
        dead.message += "; no gradient reaches the layers below"
    return dead


def _saturated_units_problem(layers: Sequence[LayerStats], limits: Thresholds) -> Problem | None:
    return _fraction_problem(
        "saturated_units",
        layers,
        "saturated_fraction",
        limits.saturated_fraction,
        "outputs sit on the flat tails of sigmoid/tanh, where the derivative is almost 0",
    )


def problems(
    layers: Sequence[LayerStats],
    thresholds: Thresholds | None = None,
    loss: float | None = None,
) -> list[Problem]:
    """The problems the per-layer figures show, most severe first.

    Parameters
    ----------
    layers : sequence of LayerStats
        One entry per Linear layer, input side first (``report.layers``).
    thresholds : Thresholds, optional
    loss : float, optional
        The loss value; a non-finite loss is a problem by itself.

    Returns
    -------
    list of Problem
        Empty for a healthy network. When values are not finite only that problem is
        reported: the other figures mean nothing then.

    Examples
    --------
    >>> from retroprop.diagnostics.stats import LayerStats
    >>> def layer(i, grad_norm):
    ...     return LayerStats(f"{i}: Linear 8->8", i, "Sigmoid", 8, 0.5, 0.1, grad_norm,
    ...                       None, None, None, None, 0.0, 0.0)
    >>> found = problems([layer(0, 1e-6), layer(1, 1e-3), layer(2, 1.0)])
    >>> [(p.kind, p.layers) for p in found]
    [('vanishing_gradient', ['0: Linear 8->8', '1: Linear 8->8'])]
    """
    limits = thresholds or Thresholds()
    non_finite = _non_finite_problem(layers, loss)
    if non_finite is not None:
        return [non_finite]
    found = [_gradient_ratio_problem(layers, limits)]
    if not any(p is not None and p.kind == "exploding_gradient" for p in found):
        found.append(_big_step_problem(layers, limits))
    found += [_dead_units_problem(layers, limits), _saturated_units_problem(layers, limits)]
    return [p for p in found if p is not None]
