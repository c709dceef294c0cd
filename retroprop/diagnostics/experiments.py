"""The course's experiments on gradient flow, reproducible in a few seconds.

``glorot_bengio``: Glorot & Bengio (2010), Figures 6 and 7. Five hidden tanh (or sigmoid)
layers, initialised with the "standard" heuristic W ~ U[-1/sqrt(n), 1/sqrt(n)] or with their
normalised (Xavier) initialisation W ~ U[-sqrt(6/(n_in + n_out)), sqrt(6/(n_in + n_out))].
With the standard one, Var(W) = 1/(3n), so each layer multiplies the variance of the
back-propagated gradient by about n Var(W) = 1/3: the gradient shrinks toward the input. The
normalised one keeps n Var(W) near 1 and the gradient's spread roughly constant across layers.

``depth_experiment``: a deeper network (10 hidden layers) with sigmoid units and N(0, 1)
weights, the combination the course blames for the vanishing gradient, against ReLU units with
He initialisation, the course's two remedies together. With N(0, 1) weights the pre-activations
of n units have a standard deviation near sqrt(0.4 n), so many sigmoid outputs sit within 0.01
of 0 or 1 (saturated: 15 to 30% of them on digits), and each layer multiplies the gradient's
variance by about n E[sigma'(z)**2] = 0.1 sqrt(n): about 0.6 for the default 32 units, so over
10 layers the gradient shrinks some twentyfold. (For layers of 100 units or more the large
weights make up for the flat sigmoid and the gradient no longer shrinks at initialisation; the
units stay saturated.)

Both measure, at initialisation, one forward and backward pass over the data set (scikit-learn's
digits by default, 1797 images of 8x8 pixels, 10 classes, cross-entropy), through the probes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from retroprop.diagnostics.plots import (
    format_table,
    plot_gradient_norms,
    plot_histogram_rows,
)
from retroprop.diagnostics.probes import Probe, linear_layers
from retroprop.diagnostics.stats import LayerStats, layer_stats
from retroprop.nn.activation import get_activation
from retroprop.nn.container import Sequential
from retroprop.nn.functional import cross_entropy
from retroprop.nn.init import INITIALIZERS
from retroprop.nn.linear import Linear
from retroprop.random import using_generator
from retroprop.tensor import Tensor

__all__ = ["ExperimentResult", "glorot_bengio", "depth_experiment", "load_dataset"]

# The papers' short words for initialisers. They stay here, not in the initialiser registry:
# ``Linear(init="he")`` is refused on purpose (a layer names its distribution in full).
_INIT_ALIASES = {
    "xavier": "xavier_uniform",  # the paper's normalised initialisation is uniform
    "glorot": "xavier_uniform",
    "normalized": "xavier_uniform",
    "normalised": "xavier_uniform",
    "he": "he_normal",
    "kaiming": "he_normal",
}
_INIT_LABELS = {
    "standard": "standard U[-1/sqrt(n), 1/sqrt(n)]",
    "xavier_uniform": "normalised (Xavier) U[-sqrt(6/(n_in+n_out)), +]",
    "xavier_normal": "Xavier N(0, 2/(n_in+n_out))",
    "he_normal": "He N(0, 2/n_in)",
    "normal": "N(0, 1)",
}


@dataclass
class ExperimentResult:
    """What an experiment returns; ``str()`` of it is ``.table``.

    Attributes
    ----------
    name : str
        "glorot-bengio" or "depth".
    table : str
        The per-layer figures, printable.
    figures : list of str
        Paths of the PNG files written (empty without ``out_dir``).
    ratios : dict of str to float
        Per configuration, the first/last hidden-layer ratio of the back-propagated gradient's
        spread (standard deviation for ``glorot_bengio``, norm for ``depth_experiment``):
        about 1 when the gradient flows, far below 1 when it vanishes.
    layers : dict of str to list of LayerStats
        Per configuration, the figures of each hidden layer (input side first).
    activations, gradients : dict of str to list of numpy.ndarray
        Per configuration, a_l and dJ/dz_l of each hidden layer (for the histograms).
    """

    name: str
    table: str
    figures: list[str] = field(default_factory=list)
    ratios: dict[str, float] = field(default_factory=dict)
    layers: dict[str, list[LayerStats]] = field(default_factory=dict)
    activations: dict[str, list[np.ndarray]] = field(default_factory=dict, repr=False)
    gradients: dict[str, list[np.ndarray]] = field(default_factory=dict, repr=False)

    def __str__(self) -> str:
        return self.table


def load_dataset(
    dataset: str | tuple[Any, Any] = "digits", n_samples: int | None = None, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) for an experiment: float64 features and integer labels.

    Parameters
    ----------
    dataset : "digits" or (X, y)
        "digits" loads scikit-learn's 8x8 digit images (scikit-learn is imported here only),
        with pixel intensities scaled to [0, 1] and centred (each pixel's mean subtracted),
        as images were fed to networks in Glorot & Bengio's time. They are not standardised:
        inputs of variance 1 would push the first tanh layers out of their linear range, where
        the derivative (below 1) shrinks the gradient whatever the initialisation. (X, y) is
        used as given.
    n_samples : int, optional
        Keep a random subset of this many rows.
    seed : int, default 0

    Examples
    --------
    >>> X, y = load_dataset("digits", n_samples=100)
    >>> X.shape, y.shape, bool(abs(X.mean()) < 1e-12)
    ((100, 64), (100,), True)
    """
    if isinstance(dataset, str):
        if dataset != "digits":
            raise ValueError(f"unknown dataset {dataset!r}; use 'digits' or pass (X, y)")
        try:
            from sklearn.datasets import load_digits
        except ImportError as error:  # pragma: no cover - scikit-learn is a declared extra
            raise ImportError(
                "the digits data set comes from scikit-learn: pip install scikit-learn "
                "(or retroprop[data]), or pass dataset=(X, y)"
            ) from error
        X, y = load_digits(return_X_y=True)
        X = X / 16.0
    else:
        X, y = dataset
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y).astype(np.int64)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(
            f"dataset: X must be 2-D and y 1-D of the same length, got shapes {X.shape} and "
            f"{y.shape}"
        )
    if n_samples is not None and n_samples < X.shape[0]:
        rows = np.sort(np.random.default_rng(seed).choice(X.shape[0], n_samples, replace=False))
        X, y = X[rows], y[rows]
    if isinstance(dataset, str):
        X = X - X.mean(axis=0)
    return X, y


def _init_name(name: str) -> str:
    """The registered initialiser behind a short word or any registered name or alias."""
    # an unknown name fails here, listing the known ones
    return INITIALIZERS.canonical(_INIT_ALIASES.get(name, name))


def _network(
    n_inputs: int, n_classes: int, depth: int, width: int, activation: str, init: str, seed: int
) -> Sequential:
    """depth hidden Linear+activation layers and a Linear output, float64, drawn from ``seed``."""
    layers = []
    with using_generator(np.random.default_rng(seed)):
        fan_in = n_inputs
        for _ in range(depth):
            layers += [Linear(fan_in, width, init=init, dtype=np.float64)]
            layers += [get_activation(activation)]
            fan_in = width
        layers.append(Linear(fan_in, n_classes, init=init, dtype=np.float64))
    return Sequential(*layers)


def _measure(
    model: Sequential, X: np.ndarray, y: np.ndarray
) -> tuple[list[LayerStats], list[np.ndarray], list[np.ndarray]]:
    """One probed forward and backward pass; the figures of the hidden layers."""
    infos = linear_layers(model)[:-1]
    with Probe(model) as probe, np.errstate(all="ignore"):
        cross_entropy(model(Tensor(X)), y).backward()
    captures = [probe.capture(info) for info in infos]
    stats = [layer_stats(info, capture) for info, capture in zip(infos, captures, strict=True)]
    return stats, [c.a for c in captures], [c.delta for c in captures]


def _ratio(first: float | None, last: float | None) -> float:
    return float(first / last) if first is not None and last else float("nan")


def _record(
    result: ExperimentResult,
    label: str,
    model: Sequential,
    X: np.ndarray,
    y: np.ndarray,
    figure: str,
) -> None:
    """Measure ``model`` into ``result`` under ``label``; its ratio compares ``figure``
    ("grad_std" or "grad_norm") of the first hidden layer with that of the last."""
    stats, activations, gradients = _measure(model, X, y)
    result.layers[label] = stats
    result.activations[label] = activations
    result.gradients[label] = gradients
    result.ratios[label] = _ratio(getattr(stats[0], figure), getattr(stats[-1], figure))


def _layer_rows(
    result: ExperimentResult,
    labels: Sequence[str],
    depth: int,
    cells: Callable[[LayerStats], list[str]],
) -> list[list[str]]:
    """One row per hidden layer: its number (1 nearest the input), then its cells per label."""
    return [
        [str(index + 1)] + [cell for label in labels for cell in cells(result.layers[label][index])]
        for index in range(depth)
    ]


def _glorot_bengio_table(
    result: ExperimentResult,
    init: Sequence[str],
    activation: str,
    depth: int,
    width: int,
    data: str,
) -> str:
    """The std of a_l and of dJ/dz_l per hidden layer and initialisation, and the ratios."""
    header = ["Layer"]
    for name in init:
        header += [f"std(a) {name}", f"std(dJ/dz) {name}"]
    rows = _layer_rows(
        result, init, depth, lambda s: [f"{s.activation_std:.4g}", f"{s.grad_std:.4g}"]
    )
    ratios = ", ".join(f"{name} {result.ratios[name]:.3g}" for name in init)
    return "\n".join(
        [
            f"Glorot & Bengio (2010): {depth} hidden {activation} layers of {width} units, "
            f"{data}, at initialisation; layer 1 is nearest the input",
            "",
            format_table(header, rows, left=1),
            "",
            f"gradient std, first/last hidden layer: {ratios}",
            "(below 1: the back-propagated gradient shrinks toward the input; about 1: it "
            "keeps its spread)",
        ]
    )


def _glorot_bengio_figures(
    result: ExperimentResult,
    init: Sequence[str],
    activation: str,
    depth: int,
    out_dir: str | os.PathLike[str],
) -> list[str]:
    """Figures 6 (activations) and 7 (gradients) as PNG files in ``out_dir``; their paths."""
    names = [f"layer {i + 1}" for i in range(depth)]
    prefix = os.path.join(os.fspath(out_dir), f"glorot_bengio_{activation}")
    paths = []
    for what, store, number, xlabel in [
        ("activations", result.activations, 6, "activation value a_l"),
        ("gradients", result.gradients, 7, "back-propagated gradient dJ/dz_l"),
    ]:
        path = f"{prefix}_figure{number}_{what}.png"
        plot_histogram_rows(
            [(f"{_INIT_LABELS.get(_init_name(n), n)} init", names, store[n]) for n in init],
            xlabel=xlabel,
            path=path,
            title=f"Figure {number}: {what} per layer, {activation}",
        )
        paths.append(path)
    return paths


def glorot_bengio(
    activation: str = "tanh",
    init: Sequence[str] = ("standard", "xavier"),
    depth: int = 5,
    width: int = 100,
    dataset: str | tuple[Any, Any] = "digits",
    n_samples: int | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    seed: int = 0,
) -> ExperimentResult:
    """Glorot & Bengio (2010), Figures 6 and 7: activations and gradients per layer.

    Parameters
    ----------
    activation : str, default "tanh"
        The hidden units ("tanh" or "sigmoid", as in the paper; any activation name works).
    init : sequence of str, default ("standard", "xavier")
        The initialisations to compare: "standard" is U[-1/sqrt(n), 1/sqrt(n)], "xavier" the
        paper's normalised U[-sqrt(6/(n_in + n_out)), sqrt(6/(n_in + n_out))]; any name of
        :func:`retroprop.nn.init.get` also works.
    depth : int, default 5
        Hidden layers.
    width : int, default 100
        Units per hidden layer.
    dataset : "digits" or (X, y)
    n_samples : int, optional
        Use a random subset of the data set.
    out_dir : path-like, optional
        Write Figure 6 (activation histograms) and Figure 7 (gradient histograms) there as PNG.
    seed : int, default 0
        The same seed draws each initialisation, so only the scale differs.

    Returns
    -------
    ExperimentResult
        ``ratios[init]`` is std(dJ/dz) of the first hidden layer over that of the last.

    Examples
    --------
    >>> result = glorot_bengio(depth=5, width=32, n_samples=200)
    >>> result.ratios["standard"] < 0.5 < result.ratios["xavier"]
    True
    >>> print(result.table)  # doctest: +ELLIPSIS
    Glorot & Bengio (2010): 5 hidden tanh layers of 32 units, digits (200 examples), ...
    """
    if depth < 2:
        raise ValueError(f"glorot_bengio: depth must be at least 2 hidden layers, got {depth}")
    X, y = load_dataset(dataset, n_samples, seed)
    n_classes = int(y.max()) + 1
    result = ExperimentResult(name="glorot-bengio", table="")
    for name in init:
        model = _network(X.shape[1], n_classes, depth, width, activation, _init_name(name), seed)
        _record(result, name, model, X, y, "grad_std")
    data = f"digits ({X.shape[0]} examples)" if dataset == "digits" else f"{X.shape[0]} examples"
    result.table = _glorot_bengio_table(result, init, activation, depth, width, data)
    if out_dir is not None:
        result.figures += _glorot_bengio_figures(result, init, activation, depth, out_dir)
    return result


def _depth_table(result: ExperimentResult, depth: int, width: int, n_examples: int) -> str:
    """||dJ/dz_l|| and the saturated fraction per hidden layer and configuration."""
    labels = list(result.layers)
    header = ["Layer"]
    for label in labels:
        header += [f"||dJ/dz|| {label}", "saturated"]

    def cells(s: LayerStats) -> list[str]:
        saturated = "-" if s.saturated_fraction is None else f"{s.saturated_fraction:.0%}"
        return [f"{s.grad_norm:.3e}", saturated]

    rows = _layer_rows(result, labels, depth, cells)
    ratios = ", ".join(f"{label} {result.ratios[label]:.3g}" for label in labels)
    return "\n".join(
        [
            f"Gradient norm per layer at initialisation: {depth} hidden layers of {width} units, "
            f"{n_examples} examples; layer 1 is nearest the input",
            "",
            format_table(header, rows, left=1),
            "",
            f"gradient norm, first/last hidden layer: {ratios}",
            "(the course's remedies, ReLU units with He initialisation, keep it near 1)",
        ]
    )


def _depth_figures(
    result: ExperimentResult, depth: int, out_dir: str | os.PathLike[str]
) -> list[str]:
    """The gradient norm per layer and the gradient histograms as PNG files; their paths."""
    labels = list(result.layers)
    directory = os.fspath(out_dir)
    norms_path = os.path.join(directory, "depth_gradient_norms.png")
    plot_gradient_norms(
        {label: [s.grad_norm for s in result.layers[label]] for label in labels},
        path=norms_path,
        title=f"||dJ/dz_l|| per layer, {depth} hidden layers",
    )
    histograms_path = os.path.join(directory, "depth_gradient_histograms.png")
    names = [f"layer {i + 1}" for i in range(depth)]
    plot_histogram_rows(
        [(label, names, result.gradients[label]) for label in labels],
        xlabel="back-propagated gradient dJ/dz_l",
        path=histograms_path,
        title="Back-propagated gradients per layer",
    )
    return [norms_path, histograms_path]


def depth_experiment(
    depth: int = 10,
    width: int = 32,
    configs: Sequence[tuple[str, str]] = (("sigmoid", "normal"), ("relu", "he_normal")),
    dataset: str | tuple[Any, Any] = "digits",
    n_samples: int | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    seed: int = 0,
) -> ExperimentResult:
    """Gradient norm per layer of a deep network: sigmoid + N(0, 1) against ReLU + He.

    Parameters
    ----------
    depth : int, default 10
        Hidden layers.
    width : int, default 32
    configs : sequence of (activation, init)
        Default: ("sigmoid", "normal"), the old practice, and ("relu", "he_normal"), the
        course's remedies.
    dataset : "digits" or (X, y)
    n_samples : int, optional
    out_dir : path-like, optional
        Write the gradient norm per layer and the gradient histograms there as PNG.
    seed : int, default 0

    Returns
    -------
    ExperimentResult
        ``ratios["relu + he_normal"]`` is ||dJ/dz|| of the first hidden layer over the last.

    Examples
    --------
    >>> result = depth_experiment(n_samples=200)
    >>> {label: round(ratio, 2) for label, ratio in result.ratios.items()}
    {'sigmoid + normal': 0.05, 'relu + he_normal': 1.5}
    """
    if depth < 2:
        raise ValueError(f"depth_experiment: depth must be at least 2, got {depth}")
    X, y = load_dataset(dataset, n_samples, seed)
    n_classes = int(y.max()) + 1
    result = ExperimentResult(name="depth", table="")
    for activation, init in configs:
        model = _network(X.shape[1], n_classes, depth, width, activation, _init_name(init), seed)
        _record(result, f"{activation} + {init}", model, X, y, "grad_norm")
    result.table = _depth_table(result, depth, width, X.shape[0])
    if out_dir is not None:
        result.figures += _depth_figures(result, depth, out_dir)
    return result
