"""``solver="lbfgs"``: scikit-learn's full-batch quasi-Newton solver, on retroprop's gradients.

The parameters of the network are flattened into one float64 vector theta;
``scipy.optimize.minimize(method="L-BFGS-B", jac=True)`` asks for J(theta) and dJ/dtheta, which
one forward pass over all the rows and one ``backward()`` give. J is the estimator's loss on the
whole training set with its L2 term, alpha / (2 n) * sum_l ||W_l||^2 (n: the sum of the sample
weights), as scikit-learn's ``_loss_grad_lbfgs``. The options are scikit-learn's: ``maxfun`` is
``max_fun``, ``maxiter`` is ``max_iter``, ``gtol`` is ``tol``; a run that stops for another
reason than convergence warns with scikit-learn's ``ConvergenceWarning``.

scipy is imported lazily: ``import retroprop`` imports NumPy only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from retroprop.sklearn._divergence import check_finite_weights
from retroprop.sklearn._sparse import network_and_inputs
from retroprop.sklearn._training import EstimatorLoss
from retroprop.tensor import Tensor

__all__ = ["LBFGS", "LbfgsObjective", "fit_lbfgs", "fit_estimator_lbfgs", "stochastic_solver"]

LBFGS = "lbfgs"  # the solver's name; it is not an optimiser class of retroprop.optim


def stochastic_solver(estimator: Any) -> bool:
    """Whether ``partial_fit`` is available: not for the full-batch "lbfgs" (scikit-learn's rule).

    Raises
    ------
    AttributeError
        For solver="lbfgs", so that ``hasattr(estimator, "partial_fit")`` is False.
    """
    if estimator.solver == LBFGS:
        raise AttributeError(
            f"partial_fit is only available for stochastic optimizers. {LBFGS!r} is not stochastic."
        )
    return True


class LbfgsObjective:
    """J(theta) and dJ/dtheta of a network over a fixed, full batch of rows.

    Parameters
    ----------
    network : Module
        The network (in training mode: the L2 term of ``loss`` is on).
    inputs : ndarray of shape (n_samples, n_inputs)
        What the network takes (rows, or row numbers for a sparse X).
    targets : ndarray of shape (n_samples, n_outputs)
    loss : callable
        ``loss(output, targets, reduction)``, e.g. an ``EstimatorLoss``.
    sample_weight : ndarray of shape (n_samples,) or None
    """

    def __init__(
        self,
        network: Any,
        inputs: np.ndarray,
        targets: np.ndarray,
        loss: Any,
        sample_weight: np.ndarray | None,
    ) -> None:
        self.network = network
        self.parameters = [p for p in network.parameters() if p.requires_grad]
        self.inputs = Tensor(inputs)
        self.targets = targets
        self.loss = loss
        self.sample_weight = sample_weight
        self.calls = 0

    def pack(self) -> np.ndarray:
        """The parameters as one float64 vector."""
        return np.concatenate([p.data.ravel() for p in self.parameters]).astype(np.float64)

    def unpack(self, theta: np.ndarray) -> None:
        """Write ``theta`` into the parameters, in place (in their own dtype)."""
        start = 0
        for p in self.parameters:
            stop = start + p.data.size
            p.data[...] = theta[start:stop].reshape(p.data.shape)
            start = stop

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """(J, dJ/dtheta) at ``theta``, both float64."""
        self.calls += 1
        self.unpack(theta)
        self.network.zero_grad()
        output = self.network(self.inputs)
        if self.sample_weight is None:
            objective = self.loss(output, self.targets)
        else:
            per_example = self.loss(output, self.targets, reduction="none")
            weights = self.sample_weight.astype(output.data.dtype)
            objective = (per_example * weights).sum() / float(weights.sum())
        objective.backward()
        gradient = np.concatenate(
            [
                np.zeros(p.data.size) if p.grad is None else p.grad.ravel().astype(np.float64)
                for p in self.parameters
            ]
        )
        value = float(objective.item())
        if not (np.isfinite(value) and np.isfinite(gradient).all()):
            value, gradient = np.inf, np.zeros_like(gradient)  # scipy backtracks from inf
        return value, gradient


def fit_lbfgs(
    objective: LbfgsObjective, *, max_iter: int, max_fun: int, tol: float, verbose: bool
) -> tuple[int, float]:
    """Minimise ``objective`` with L-BFGS-B from the network's current parameters.

    The network keeps the parameters the optimiser returns.

    Returns
    -------
    n_iter : int
        Iterations run (at most ``max_iter``).
    loss : float
        The objective at the solution.

    Warns
    -----
    sklearn.exceptions.ConvergenceWarning
        When L-BFGS stopped before converging (``max_iter`` or ``max_fun`` reached...).
    """
    import scipy.optimize
    from sklearn.utils.optimize import _check_optimize_result

    options = {"maxfun": max_fun, "maxiter": max_iter, "gtol": tol}
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        result = scipy.optimize.minimize(
            objective, objective.pack(), method="L-BFGS-B", jac=True, options=options
        )
    if verbose:
        print(f"L-BFGS-B: {result.nit} iterations, loss = {result.fun:.8f}: {result.message}")
    objective.unpack(result.x)
    n_iter = _check_optimize_result("lbfgs", result, max_iter)
    return n_iter, float(result.fun)


def fit_estimator_lbfgs(
    estimator: Any, X: Any, y: np.ndarray, sample_weight: np.ndarray | None, kind: str
) -> Any:
    """Train ``estimator.model_`` with L-BFGS-B on all the rows (no validation split).

    Sets ``n_iter_``, ``loss_`` (appended to ``loss_curve_``) and ``t_``, as scikit-learn's
    ``_fit_lbfgs``. Returns the estimator.

    Raises
    ------
    FitDivergedError
        When the solution holds NaN or inf.
    """
    model, dtype = estimator.model_, estimator._architecture[4]
    network, inputs = network_and_inputs(model, X, dtype)
    weight_scale = 1.0 if sample_weight is None else float(np.mean(sample_weight))
    objective = LbfgsObjective(
        network.train(),
        np.ascontiguousarray(inputs),
        estimator._encode_targets(y).astype(dtype),
        EstimatorLoss(kind, model, estimator.alpha, weight_scale, network=network),
        sample_weight,
    )
    try:
        estimator.n_iter_, estimator.loss_ = fit_lbfgs(
            objective,
            max_iter=estimator.max_iter,
            max_fun=estimator.max_fun,
            tol=estimator.tol,
            verbose=bool(estimator.verbose),
        )
    finally:
        model.zero_grad()
        model.eval()
    estimator.t_ += inputs.shape[0]
    estimator.loss_curve_.append(estimator.loss_)
    check_finite_weights(model)
    return estimator
