"""``gradcheck_model``: every parameter of a model checked against finite differences.

For a parameter element theta_i, the backward pass's dJ/dtheta_i is compared with the central
difference

    (J(theta_i + eps) - J(theta_i - eps)) / (2 eps)

on a float64 copy of the model (float32 rounding would swamp the difference). The model itself
is not touched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from retroprop.diagnostics.plots import format_table
from retroprop.grad_mode import no_grad
from retroprop.nn.dropout import Dropout
from retroprop.nn.linear import Linear
from retroprop.nn.module import Module
from retroprop.nn.utils import float64_copy
from retroprop.tensor import Tensor
from retroprop.training.data import as_features, as_targets
from retroprop.training.objectives import resolve_loss

__all__ = ["gradcheck_model", "GradcheckModelResult", "GradcheckRow"]


@dataclass
class GradcheckRow:
    """The check of one parameter.

    Attributes
    ----------
    parameter : str
        Its name in ``model.named_parameters()`` ("0.weight").
    layer : str
        The module holding it ("0: Linear 2->4").
    shape : tuple of int
    checked : int
        How many elements were checked (all, or a random sample of ``max_elements``).
    max_abs_error : float
        max |analytic - numerical| over the checked elements.
    max_rel_error : float
        max |analytic - numerical| / max(|analytic|, |numerical|, atol).
    ok : bool
        Every checked element satisfies |analytic - numerical| <= atol + rtol |numerical|.
    """

    parameter: str
    layer: str
    shape: tuple[int, ...]
    checked: int
    max_abs_error: float
    max_rel_error: float
    ok: bool


@dataclass
class GradcheckModelResult:
    """What :func:`gradcheck_model` returns; ``str()`` of it is the table.

    Attributes
    ----------
    rows : list of GradcheckRow
        One per parameter, in ``named_parameters()`` order.
    ok : bool
        Whether every parameter passed.
    eps, atol, rtol : float
    """

    rows: list[GradcheckRow]
    ok: bool
    eps: float
    atol: float
    rtol: float

    def __str__(self) -> str:
        header = ["Parameter", "Layer", "Shape", "Checked", "max abs err", "max rel err", "ok"]
        table = format_table(
            header,
            [
                [row.parameter, row.layer, str(row.shape), str(row.checked)]
                + [f"{row.max_abs_error:.2e}", f"{row.max_rel_error:.2e}"]
                + ["yes" if row.ok else "NO"]
                for row in self.rows
            ],
        )
        worst = max((row.max_rel_error for row in self.rows), default=0.0)
        if self.ok:
            verdict = (
                f"All {len(self.rows)} parameters agree with central finite differences "
                f"(eps={self.eps:g}; largest relative error {worst:.2e})."
            )
        else:
            failed = ", ".join(row.parameter for row in self.rows if not row.ok)
            verdict = (
                f"MISMATCH in {failed}: the backward pass disagrees with finite differences "
                f"beyond atol={self.atol:g} + rtol={self.rtol:g} * |numerical|. A Function's "
                "backward (or a gradient flowing to the wrong input) is wrong."
            )
        return f"{table}\n{verdict}"


def _layer_labels(model: Module) -> dict[str, str]:
    labels = {}
    for path, module in model.named_modules():
        if isinstance(module, Linear):
            label = f"Linear {module.in_features}->{module.out_features}"
        else:
            label = type(module).__name__
        labels[path] = f"{path}: {label}" if path else label
    return labels


def gradcheck_model(
    model: Module,
    X: Any,
    y: Any,
    *,
    loss: str | Callable[..., Tensor],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    max_elements: int | None = 256,
    max_samples: int | None = 256,
    seed: int = 0,
) -> GradcheckModelResult:
    """Check the gradient of the loss with respect to every parameter by finite differences.

    The check runs on a float64 copy in the model's mode (BatchNorm1d in training mode uses
    the batch's statistics, as in training), with Dropout switched off.

    Parameters
    ----------
    model : Module
    X : array-like, shape (n_samples, n_features)
    y : array-like
        Targets, as :func:`retroprop.fit` takes them for ``loss``.
    loss : str or callable
        A loss name of ``fit`` or ``loss(output, target)``.
    eps : float, default 1e-6
        The finite-difference step.
    atol, rtol : float
        An element passes when |analytic - numerical| <= atol + rtol * |numerical|.
    max_elements : int or None, default 256
        Check a random sample of this many elements of each larger parameter (None: all).
    max_samples : int or None, default 256
        Use a random subset of this many rows of X (None: all rows).
    seed : int, default 0
        Seeds both samples.

    Returns
    -------
    GradcheckModelResult
        ``.ok``, ``.rows`` and a table as ``str()``.

    Examples
    --------
    >>> _ = rp.manual_seed(0)
    >>> model = nn.mlp([3, 5, 2], activation="tanh")
    >>> X = np.random.default_rng(0).normal(size=(8, 3))
    >>> result = gradcheck_model(model, X, [0, 1, 1, 0, 1, 0, 0, 1], loss="cross_entropy")
    >>> result.ok, [row.parameter for row in result.rows]
    (True, ['0.weight', '0.bias', '2.weight', '2.bias'])
    """
    if eps <= 0:
        raise ValueError(f"gradcheck_model: eps must be positive, got {eps}")
    params = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    if not params:
        raise ValueError(f"gradcheck_model: {type(model).__name__} has no parameter to check")
    objective = resolve_loss(loss)
    rng = np.random.default_rng(seed)
    X = as_features(X, np.dtype(np.float64))
    y = as_targets(y, X.shape[0])
    if max_samples is not None and X.shape[0] > max_samples:
        rows = np.sort(rng.choice(X.shape[0], size=max_samples, replace=False))
        X, y = X[rows], y[rows]

    clone = float64_copy(model)
    for module in clone.modules():
        if isinstance(module, Dropout):
            module.eval()  # random masks would make the differences meaningless
    cloned = dict(clone.named_parameters())
    with no_grad():
        output = clone(Tensor(X))
    width = 1 if output.ndim == 1 else output.shape[1]
    target = objective.prepare_targets(y, width, np.dtype(np.float64))

    def objective_value() -> Tensor:
        return objective.function(clone(Tensor(X)), target)

    objective_value().backward()
    labels = _layer_labels(model)
    results = []
    for name, _ in params:
        module_path = name.rpartition(".")[0]
        results.append(
            _check_parameter(
                name,
                cloned[name],
                objective_value,
                layer=labels.get(module_path, module_path),
                rng=rng,
                eps=eps,
                atol=atol,
                rtol=rtol,
                max_elements=max_elements,
            )
        )
    return GradcheckModelResult(
        rows=results, ok=all(row.ok for row in results), eps=eps, atol=atol, rtol=rtol
    )


def _check_parameter(
    name: str,
    param: Tensor,
    objective_value: Callable[[], Tensor],
    *,
    layer: str,
    rng: np.random.Generator,
    eps: float,
    atol: float,
    rtol: float,
    max_elements: int | None,
) -> GradcheckRow:
    """Compare ``param.grad`` with central differences of ``objective_value`` on its elements.

    ``param`` belongs to the float64 copy whose backward pass has already run; each chosen
    element is moved by +-eps in place and restored.
    """
    analytic_all = param.grad if param.grad is not None else np.zeros_like(param.data)
    flat = param.data.reshape(-1)
    chosen = np.arange(flat.size)
    if max_elements is not None and flat.size > max_elements:
        chosen = np.sort(rng.choice(flat.size, size=max_elements, replace=False))
    numerical = np.empty(chosen.size)
    with no_grad():
        for k, index in enumerate(chosen):
            original = flat[index]
            flat[index] = original + eps
            above = objective_value().item()
            flat[index] = original - eps
            below = objective_value().item()
            flat[index] = original
            numerical[k] = (above - below) / (2 * eps)
    analytic = analytic_all.reshape(-1)[chosen]
    error = np.abs(analytic - numerical)
    scale = np.maximum(np.maximum(np.abs(analytic), np.abs(numerical)), atol)
    return GradcheckRow(
        parameter=name,
        layer=layer,
        shape=tuple(int(n) for n in param.shape),
        checked=int(chosen.size),
        max_abs_error=float(error.max(initial=0.0)),
        max_rel_error=float((error / scale).max(initial=0.0)),
        ok=bool(np.all(error <= atol + rtol * np.abs(numerical))),
    )
