"""``diagnose``: one probed forward and backward pass, and a health report that names problems.

The report holds the figures of each Linear layer (:mod:`retroprop.diagnostics.stats`) and the
problems they show (:mod:`retroprop.diagnostics.problems`): vanishing or exploding gradient,
dead or saturated units, non-finite values, each with the course's remedy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from retroprop.diagnostics.probes import LayerInfo, Probe, linear_layers
from retroprop.diagnostics.problems import REMEDIES, Problem, Thresholds, problems
from retroprop.diagnostics.stats import LayerStats, layer_stats
from retroprop.nn.inference import in_mode
from retroprop.nn.module import Module
from retroprop.random import using_generator
from retroprop.tensor import Tensor
from retroprop.training.data import as_features, as_targets
from retroprop.training.objectives import resolve_loss

__all__ = [
    "Thresholds",
    "Problem",
    "DiagnosisReport",
    "REMEDIES",
    "diagnose",
    "diagnosis_html",
    "gradient_flow_svg",
    "problems",
]


@dataclass
class DiagnosisReport:
    """What :func:`diagnose` returns; ``str(report)`` is a table followed by the problems.

    Attributes
    ----------
    layers : list of LayerStats
        One entry per Linear layer, input side first.
    problems : list of Problem
        Empty for a healthy network.
    loss : float
        The loss on the probe batch.
    n_samples : int
        The size of the probe batch.
    activations, gradients : list of numpy.ndarray
        a_l and dJ/dz_l of each layer on the probe batch (for the histograms of :meth:`plot`).
    thresholds : Thresholds
    """

    layers: list[LayerStats]
    problems: list[Problem]
    loss: float
    n_samples: int
    activations: list[np.ndarray] = field(default_factory=list, repr=False)
    gradients: list[np.ndarray | None] = field(default_factory=list, repr=False)
    thresholds: Thresholds = field(default_factory=Thresholds, repr=False)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def table(self) -> str:
        """The per-layer figures as a text table."""
        from retroprop.diagnostics.plots import format_table

        header = ["Layer", "Act.", "a mean", "a std", "||dJ/dz||", "std dJ/dz", "||dJ/dW||"]
        header += ["update", "dead", "saturated"]
        rows = []
        for s in self.layers:
            rows.append(
                [s.name, s.activation, _g(s.activation_mean), _g(s.activation_std)]
                + [_g(s.grad_norm), _g(s.grad_std), _g(s.weight_grad_norm), _g(s.update_ratio)]
                + [_percent(s.dead_fraction), _percent(s.saturated_fraction)]
            )
        return format_table(header, rows)

    def __str__(self) -> str:
        lines = [f"Diagnosis on {self.n_samples} examples (loss {self.loss:.5g})", self.table()]
        if self.problems:
            lines.append(f"{len(self.problems)} problem(s):")
            lines.extend(str(problem) for problem in self.problems)
        else:
            lines.append("No problem found: gradients flow, no dead or saturated layer.")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """Jupyter's display: the per-layer table with the problems' layers and figures
        highlighted, the gradient-flow bars, and each problem with its remedy."""
        return diagnosis_html(self)

    def plot(self, path: Any = None) -> Any:
        """Histograms of the activations and back-propagated gradients of each hidden layer.

        As Glorot & Bengio (2010), Figures 6 and 7: one curve per layer followed by an
        activation (an output layer's logits, on their own scale, are left out; every layer is
        drawn when none has an activation). Returns the matplotlib Figure; with ``path`` also
        saves it there (the format follows the extension).
        """
        from retroprop.diagnostics.plots import plot_layer_histograms

        chosen = [i for i, s in enumerate(self.layers) if s.activation != "identity"]
        chosen = chosen or list(range(len(self.layers)))
        return plot_layer_histograms(
            [self.layers[i].name for i in chosen],
            [self.activations[i] for i in chosen],
            [self.gradients[i] for i in chosen],
            path=path,
        )


# The column of the table that shows each kind of problem (non_finite: the whole row).
_PROBLEM_COLUMNS = {
    "vanishing_gradient": (4,),
    "exploding_gradient": (4, 7),
    "dead_units": (8,),
    "saturated_units": (9,),
}


def gradient_flow_svg(layers: list[LayerStats], problems_found: list[Problem]) -> str:
    """||dJ/dz|| of each layer as bars on a log scale (the layers of a problem in orange),
    and the dead and saturated fractions: the gradient-flow picture of the course."""
    from retroprop.display import bar_chart

    flagged_names = {name for problem in problems_found for name in problem.layers}
    names = [s.name for s in layers]
    flagged = [name in flagged_names for name in names]
    charts = [
        bar_chart(
            names,
            [s.grad_norm for s in layers],
            title="||dJ/dz|| per layer (log)",
            log=True,
            flagged=flagged,
        ),
    ]
    fractions = [
        (title, [getattr(s, key) for s in layers])
        for key, title in (("dead_fraction", "dead units"), ("saturated_fraction", "saturated"))
    ]
    for title, values in fractions:
        if any(v is not None for v in values):
            charts.append(
                bar_chart(names, values, title=title, limits=(0.0, 1.0), flagged=flagged, width=320)
            )
    return '<div class="rp-row">' + "".join(charts) + "</div>"


def diagnosis_html(report: DiagnosisReport) -> str:
    """The HTML of a diagnosis: the table of :meth:`DiagnosisReport.table` with the rows and
    figures of each problem highlighted (CSS class ``rp-problem``, ``rp-flag``), the
    gradient-flow bars, and the problems with their remedies."""
    from retroprop.display import escape, panel, table

    header = ["Layer", "Act.", "a mean", "a std", "||dJ/dz||", "std dJ/dz", "||dJ/dW||"]
    header += ["update", "dead", "saturated"]
    flagged: dict[str, set[int]] = {}
    for problem in report.problems:
        columns = _PROBLEM_COLUMNS.get(problem.kind, tuple(range(len(header))))
        for name in problem.layers:
            flagged.setdefault(name, set()).update(columns)
    rows, classes = [], []
    for s in report.layers:
        cells = [s.name, s.activation, _g(s.activation_mean), _g(s.activation_std)]
        cells += [_g(s.grad_norm), _g(s.grad_std), _g(s.weight_grad_norm), _g(s.update_ratio)]
        cells += [_percent(s.dead_fraction), _percent(s.saturated_fraction)]
        marked = flagged.get(s.name, set())
        rows.append(
            [
                f'<span class="rp-flag">{escape(c)}</span>' if i in marked else escape(c)
                for i, c in enumerate(cells)
            ]
        )
        classes.append("rp-problem" if marked else "")
    if report.problems:
        items = "".join(
            f'<li><span class="rp-flag">{escape(p.kind)}</span> in {escape(", ".join(p.layers))}'
            f": {escape(p.message)}<br><b>remedy:</b> {escape(p.remedy)}</li>"
            for p in report.problems
        )
        verdict = f"<p>{len(report.problems)} problem(s):</p><ul>{items}</ul>"
    else:
        verdict = (
            '<p class="rp-ok">No problem found: gradients flow, no dead or saturated layer.</p>'
        )
    return panel(
        table(header, rows, numeric=range(2, len(header)), row_classes=classes, raw=True),
        gradient_flow_svg(report.layers, report.problems),
        verdict,
        title=f"Diagnosis on {report.n_samples} examples (loss {report.loss:.5g})",
    )


def _g(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _learning_rates(model: Module, optimizer: Any) -> dict[int, float] | None:
    """id(parameter) -> learning rate, from an optimiser, a name or a number (None: none)."""
    if optimizer is None:
        return None
    if isinstance(optimizer, int | float) and not isinstance(optimizer, bool):
        return {id(p): float(optimizer) for p in model.parameters()}
    if isinstance(optimizer, str):
        from retroprop.optim import get_optimizer

        optimizer = get_optimizer(optimizer, model.parameters())
    groups = getattr(optimizer, "param_groups", None)
    if not groups:
        raise TypeError(
            f"diagnose: optimizer must be an optimiser (with param_groups), a name or a learning "
            f"rate, got {type(optimizer).__name__}"
        )
    return {id(p): float(group["lr"]) for group in groups for p in group["params"]}


@contextmanager
def scratch_pass(model: Module, *, training: bool, keep_state: bool = False) -> Iterator[None]:
    """A forward and backward pass that leaves no trace on ``model``.

    Inside the block every parameter's ``.grad`` is None and the model is in training mode
    (``training=True``) or evaluation mode; on exit the ``.grad`` arrays and the mode are put
    back, and with ``keep_state`` the weights and buffers too (BatchNorm1d's running
    statistics move in a training-mode forward pass).

    Parameters
    ----------
    model : Module
    training : bool
        The mode inside the block.
    keep_state : bool, default False
        Also restore ``model.state_dict()`` on exit.
    """
    params = list(model.parameters())
    saved_grads = [p.grad for p in params]
    state = {key: value.copy() for key, value in model.state_dict().items()} if keep_state else None
    try:
        for p in params:
            p.grad = None
        with in_mode(model, training):
            yield
    finally:
        if state is not None:
            model.load_state_dict(state)
        for p, grad in zip(params, saved_grads, strict=True):
            p.grad = grad


def _probe_batch(
    infos: list[LayerInfo], X: Any, y: Any, max_samples: int | None, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) validated for the first Linear layer, and at most ``max_samples`` rows of them."""
    X = as_features(X, infos[0].linear.weight.dtype)
    y = as_targets(y, X.shape[0])
    if X.shape[1] != infos[0].linear.in_features:
        raise ValueError(
            f"X has {X.shape[1]} columns but the first Linear layer expects "
            f"in_features={infos[0].linear.in_features}"
        )
    if max_samples is not None and X.shape[0] > max_samples:
        rows = np.sort(rng.choice(X.shape[0], size=max_samples, replace=False))
        X, y = X[rows], y[rows]
    return X, y


def diagnose(
    model: Module,
    X: Any,
    y: Any,
    *,
    loss: str | Callable[..., Tensor],
    optimizer: Any = None,
    thresholds: Thresholds | None = None,
    max_samples: int | None = 1024,
    seed: int = 0,
) -> DiagnosisReport:
    """Probe one forward and backward pass of ``model`` on (X, y) and report its health.

    The model is left as it was: its weights, their ``.grad``, its buffers (BatchNorm's running
    statistics) and its training mode are restored. The pass runs in training mode (dropout on,
    batch statistics), as training sees the network.

    Parameters
    ----------
    model : Module
        A network holding at least one Linear layer.
    X : array-like, shape (n_samples, n_features)
    y : array-like
        Targets, as :func:`retroprop.fit` takes them for ``loss``.
    loss : str or callable
        A loss name of ``fit`` ("mse", "cross_entropy", ...) or ``loss(output, target)``.
    optimizer : Optimizer, str or float, optional
        Gives ``update_ratio = ||lr dJ/dW|| / ||W||`` per layer (a float is the learning rate).
    thresholds : Thresholds, optional
    max_samples : int or None, default 1024
        Probe a random subset of this many rows when X is larger (None: all rows).
    seed : int, default 0
        Seeds that subset and dropout; the global random stream is not touched.

    Returns
    -------
    DiagnosisReport

    Raises
    ------
    ValueError
        When the model holds no Linear layer, or X or y do not fit the model or the loss.

    Examples
    --------
    >>> _ = rp.manual_seed(0)
    >>> X = np.random.default_rng(0).normal(size=(64, 4))
    >>> model = nn.mlp([4, 16, 16, 1])
    >>> report = diagnose(model, X, X.sum(axis=1), loss="mse")
    >>> [layer.name for layer in report.layers]
    ['0: Linear 4->16', '2: Linear 16->16', '4: Linear 16->1']
    >>> report.problems
    []
    >>> model[2].bias.data[:] = -100.0        # plant dead units
    >>> [p.kind for p in diagnose(model, X, X.sum(axis=1), loss="mse").problems]
    ['dead_units']
    """
    infos = linear_layers(model)
    if not infos:
        raise ValueError(
            f"diagnose: {type(model).__name__} holds no Linear layer; the probes record Linear "
            "layers and the activations that follow them"
        )
    objective = resolve_loss(loss)
    dtype = infos[0].linear.weight.dtype
    rng = np.random.default_rng(seed)
    X, y = _probe_batch(infos, X, y, max_samples, rng)
    rates = _learning_rates(model, optimizer)

    probe = Probe(model)
    with scratch_pass(model, training=True, keep_state=True):
        with using_generator(rng), probe, np.errstate(all="ignore"):
            output = model(Tensor(X))
            width = 1 if output.ndim == 1 else output.shape[1]
            target = objective.prepare_targets(y, width, dtype)
            loss_tensor = objective.function(output, target)
            if loss_tensor.requires_grad:
                loss_tensor.backward()
        loss_value = float(loss_tensor.item())
        layers = [
            layer_stats(
                info,
                probe.capture(info),
                learning_rate=None if rates is None else rates.get(id(info.linear.weight)),
            )
            for info in infos
        ]
    captures = [probe.capture(info) for info in infos]
    limits = thresholds or Thresholds()
    return DiagnosisReport(
        layers=layers,
        problems=problems(layers, limits, loss_value),
        loss=loss_value,
        n_samples=int(X.shape[0]),
        activations=[c.a if c is not None else np.empty(0) for c in captures],
        gradients=[c.delta if c is not None else None for c in captures],
        thresholds=limits,
    )
