"""What the estimators add to ``fit``: scikit-learn's loss with its L2 term, and its stopping rule.

``fit`` runs the loop; the estimators give it

- :class:`EstimatorLoss`, the data loss plus scikit-learn's L2 penalty on the weights,
  J = data_loss + alpha / (2 n_b) * sum_l ||W_l||^2 for a batch of n_b rows, so that
  dJ/dW_l gains alpha * W_l / n_b (biases are not penalised);
- :class:`EpochMonitor`, a callback that keeps scikit-learn's bookkeeping (``loss_curve_``,
  ``t_``, ``n_iter_``), validates, applies the stopping rule ("no improvement by more than
  ``tol`` for more than ``n_iter_no_change`` epochs") and restores the best weights;
- the settings of the run: the validation split, the batch size, the optimiser's options.
"""

from __future__ import annotations

import inspect
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.model_selection import train_test_split

import retroprop.nn.functional as F
from retroprop.function import Function
from retroprop.nn.linear import Linear
from retroprop.optim import OPTIMIZER_CLASSES
from retroprop.sklearn._poisson import poisson_loss
from retroprop.tensor import Tensor
from retroprop.training.callbacks import Callback

if TYPE_CHECKING:
    from retroprop.sklearn._base import BaseMLP

__all__ = [
    "HalfSquaredNorm",
    "EstimatorLoss",
    "EpochMonitor",
    "split_validation",
    "batch_size_for",
    "optimizer_options",
]

# The output layer and its loss, by the name the estimators give them.
LOSS_KINDS = ("softmax", "logistic", "squared_error", "mse", "poisson")


class HalfSquaredNorm(Function):
    """P = 1/2 sum_l ||W_l||^2 over the weight matrices;  dP/dW_l = W_l."""

    @staticmethod
    def forward(ctx: Function, *weights: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(*weights)
        total = sum(float(np.vdot(w, w)) for w in weights)
        return np.asarray(0.5 * total, dtype=weights[0].dtype)

    @staticmethod
    def backward(ctx: Function, grad_output: np.ndarray) -> Any:
        scale = float(grad_output)
        grads = tuple(scale * w for w in ctx.saved_tensors)
        return grads if len(grads) > 1 else grads[0]


class EstimatorLoss:
    """The objective an estimator trains: a data loss, plus the L2 term while training.

    The data loss per example is, by ``kind``:

    - "softmax": cross-entropy of softmax(z) against one-hot targets;
    - "logistic": binary cross-entropy of sigmoid(z), summed over the outputs (scikit-learn's
      ``binary_log_loss``, so a multi-label example counts each label);
    - "squared_error": 1/2 (y_hat - y)**2, averaged over the outputs (scikit-learn's loss);
    - "mse": (y_hat - y)**2, averaged over the outputs;
    - "poisson": half the Poisson deviance of exp(z), summed over the outputs
      (:func:`retroprop.sklearn._poisson.poisson_loss`).

    In training mode the L2 term alpha / (2 n_b) * sum_l ||W_l||^2 is added, as scikit-learn
    adds it to each batch of n_b rows. With sample weights ``fit`` averages the per-example
    losses weighted by w_i; the term is then divided by n_b times ``weight_scale`` (the mean
    weight of the training rows), which for a full batch is scikit-learn's sum of the
    weights. In eval mode (validation) the data loss alone is returned.

    Parameters
    ----------
    kind : {"softmax", "logistic", "squared_error", "mse", "poisson"}
    model : Module
        The network; its Linear weights are penalised, its mode selects the penalty.
    alpha : float
        The L2 coefficient.
    weight_scale : float, default 1.0
        The mean sample weight of the training rows.
    network : Module, optional
        The module that is trained and validated, when it is not ``model`` itself (a sparse
        X's network around ``model``'s layers): its mode selects the penalty.
    """

    def __init__(
        self,
        kind: str,
        model: Any,
        alpha: float,
        weight_scale: float = 1.0,
        network: Any = None,
    ) -> None:
        if kind not in LOSS_KINDS:
            raise ValueError(f"EstimatorLoss: kind must be one of {LOSS_KINDS}, got {kind!r}")
        self.kind = kind
        self.model = model
        self.network = model if network is None else network
        self.weights = [m.weight for m in model.modules() if isinstance(m, Linear)]
        self.alpha = float(alpha)
        self.weight_scale = float(weight_scale)
        self.__name__ = kind

    def data_loss(self, output: Tensor, target: Any, reduction: str = "mean") -> Tensor:
        """The loss without the L2 term: a scalar, or one value per example for "none"."""
        if self.kind == "softmax":
            return F.cross_entropy(output, target, reduction=reduction)
        if self.kind == "logistic":
            if reduction == "none":
                return F.binary_cross_entropy_with_logits(output, target, reduction="none").sum(
                    axis=1
                )
            total = F.binary_cross_entropy_with_logits(output, target, reduction="sum")
            return total if reduction == "sum" else total / output.shape[0]
        if self.kind == "poisson":
            return poisson_loss(output, target, reduction)
        squared = F.pseudo_mse_loss if self.kind == "squared_error" else F.mse_loss
        if reduction == "none":
            return squared(output, target, reduction="none").mean(axis=1)
        return squared(output, target, reduction=reduction)

    def __call__(self, output: Tensor, target: Any, reduction: str = "mean") -> Tensor:
        loss = self.data_loss(output, target, reduction)
        if self.alpha and self.weights and self.network.training:
            n_rows = output.shape[0]
            if reduction == "sum":
                scale = self.alpha
            elif reduction == "none":
                scale = self.alpha / (n_rows * self.weight_scale)
            else:
                scale = self.alpha / n_rows
            loss = loss + HalfSquaredNorm.apply(*self.weights) * scale
        return loss


class EpochMonitor(Callback):
    """scikit-learn's end-of-epoch bookkeeping and stopping rule, as a ``fit`` callback.

    After each epoch: append the training loss to ``loss_curve_``, add the rows seen to
    ``t_``; with a validation set, take its loss from the epoch's logs (the Trainer computed
    it, weighted by the validation rows' sample weights), compute the score from the
    Trainer's validation outputs (weighted too), append them, and keep a copy of the weights
    when the monitored one (``early_stopping_metric``) is the best so far; without one, track
    ``best_loss_``. The count of epochs without an improvement by more than ``tol`` grows;
    once it exceeds ``n_iter_no_change`` training stops (or, for ``learning_rate="adaptive"``
    with SGD, the learning rate is divided by 5 until it falls below 1e-6). When training
    ends, the best weights are put back if there was a validation set, however the run ended.

    Parameters
    ----------
    estimator : BaseMLP
        Receives the fitted attributes.
    n_train : int
        Training rows per epoch (for ``t_``).
    validation : tuple or None
        (original targets, sample weights or None) of the validation rows, which the Trainer
        validates on.
    """

    reads_gradients = False

    def __init__(
        self,
        estimator: BaseMLP,
        n_train: int,
        validation: tuple[np.ndarray, np.ndarray | None] | None,
    ) -> None:
        self.estimator = estimator
        self.n_train = n_train
        self.validation = validation
        self.converged = False

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        estimator = self.estimator
        loss = float(logs["loss"])
        estimator.n_iter_ += 1
        estimator.loss_ = loss
        estimator.loss_curve_.append(loss)
        estimator.t_ += self.n_train
        self.trainer.log(f"Iteration {estimator.n_iter_}, loss = {loss:.8f}")  # scikit-learn's
        if self.validation is not None:
            val_loss = float(logs["val_loss"])
            y_val, weight = self.validation
            outputs = self.trainer.validation_outputs
            val_score = self.estimator._score_output(outputs, y_val, weight)
            logs["val_score"] = val_score
            estimator.validation_loss_curve_.append(val_loss)
            estimator.validation_scores_.append(val_score)
            self.trainer.log(f"Validation loss: {val_loss:.6f}, score: {val_score:.6f}")
            self._track_validation(val_loss, val_score)
        else:
            if loss > estimator.best_loss_ - estimator.tol:
                estimator._no_improvement_count += 1
            else:
                estimator._no_improvement_count = 0
            estimator.best_loss_ = min(estimator.best_loss_, loss)
        self._schedule_learning_rate()
        if estimator._no_improvement_count > estimator.n_iter_no_change:
            self._no_improvement()

    def on_train_end(self, logs: dict[str, Any]) -> None:
        best = self.estimator._best_state
        if self.validation is not None and best is not None:
            self.trainer.model.load_state_dict(best)

    # ---------------------------------------------------------------- helpers
    def _track_validation(self, val_loss: float, val_score: float) -> None:
        estimator = self.estimator
        tol = estimator.tol
        if estimator.early_stopping_metric == "score":
            improved = val_score >= estimator.best_validation_score_ + tol
            best = val_score > estimator.best_validation_score_
        else:
            improved = val_loss <= estimator.best_validation_loss_ - tol
            best = val_loss < estimator.best_validation_loss_
        estimator._no_improvement_count = 0 if improved else estimator._no_improvement_count + 1
        if best:
            estimator.best_validation_loss_ = val_loss
            estimator.best_validation_score_ = val_score
            estimator._best_state = self.trainer.model.state_dict(copy=True)

    def _schedule_learning_rate(self) -> None:
        estimator = self.estimator
        if estimator.solver == "sgd" and estimator.learning_rate == "invscaling":
            rate = estimator.learning_rate_init / (estimator.t_ + 1) ** estimator.power_t
            for group in self.trainer.optimizer.param_groups:
                group["lr"] = rate

    def _no_improvement(self) -> None:
        estimator = self.estimator
        if self.validation is None:
            what = "Training loss"
        else:
            what = "Validation " + estimator.early_stopping_metric
        message = (
            f"{what} did not improve more than tol={estimator.tol:f} for "
            f"{estimator.n_iter_no_change} consecutive epochs."
        )
        groups = self.trainer.optimizer.param_groups
        if estimator.solver == "sgd" and estimator.learning_rate == "adaptive":
            rate = float(groups[0]["lr"])
            if rate > 1e-6:
                for group in groups:
                    group["lr"] = rate / 5.0
                estimator._no_improvement_count = 0
                self.trainer.log(f"{message} Setting learning rate to {rate / 5.0:f}")
                return
            message += " Learning rate too small."
        self.converged = True
        self.trainer.stop_training = True
        self.trainer.stop_reason = message + " Stopping."


# -------------------------------------------------------------------- the run's settings
def split_validation(
    X: np.ndarray,
    targets: np.ndarray,
    y: np.ndarray,
    sample_weight: np.ndarray | None,
    *,
    fraction: float,
    stratify: np.ndarray | None,
    random_state: np.random.RandomState,
    fallback: bool = False,
) -> tuple:
    """Hold out ``fraction`` of the rows, stratified by ``stratify`` when given.

    A class with a single row cannot be on both sides: that raises scikit-learn's error
    ("The least populated classes in y have only 1 member..."), unless ``fallback``, which
    splits at random instead (with a UserWarning). A stratified split that fails for
    another reason (fewer held-out rows than classes) is made at random, then checked.

    Returns
    -------
    train, held_out : tuple
        (X, encoded targets, original targets, sample weights or None) of each side.

    Raises
    ------
    ValueError
        Before any training, when the validation side would hold fewer than 2 rows, the
        training side none, the training side would miss a class, or a class has a single
        row (without ``fallback``); the message gives the number of rows on each side.
    """
    arrays = [X, targets, y] + ([] if sample_weight is None else [sample_weight])
    options = {"random_state": random_state, "test_size": fraction}
    n_val = int(np.ceil(fraction * X.shape[0]))
    try:
        try:
            parts = train_test_split(*arrays, stratify=stratify, **options)
        except ValueError as error:
            if stratify is None:
                raise
            if _smallest_class(stratify) < 2:  # cannot be on both sides
                if not fallback:
                    raise
                warnings.warn(
                    f"A stratified validation split is impossible ({error}); splitting at random.",
                    UserWarning,
                    stacklevel=5,
                )
            parts = train_test_split(*arrays, **options)
    except ValueError as error:
        lead = "The training set would be empty" if n_val >= X.shape[0] else "Cannot split"
        raise _split_error(lead, fraction, X.shape[0] - n_val, n_val, str(error)) from error
    train, held_out = parts[0::2], parts[1::2]
    n_train, n_val = train[0].shape[0], held_out[0].shape[0]
    if n_val < 2:
        raise _split_error(
            "The validation set is too small", fraction, n_train, n_val, "it needs at least 2"
        )
    if stratify is not None:
        missing = np.setdiff1d(np.unique(y), np.unique(train[2]))
        if missing.size:
            raise _split_error(
                "A class would be missing from the training set",
                fraction,
                n_train,
                n_val,
                f"no row of class {missing.tolist()} would be left to train on",
            )
    weighted = sample_weight is not None
    return (
        (train[0], train[1], train[2], train[3] if weighted else None),
        (held_out[0], held_out[1], held_out[2], held_out[3] if weighted else None),
    )


def _smallest_class(stratify: np.ndarray) -> int:
    """The number of rows of the rarest class (``stratify``: labels, or one encoded column)."""
    labels = stratify if stratify.ndim == 1 else stratify[:, 0]
    return int(np.unique(labels, return_counts=True)[1].min())


def _split_error(lead: str, fraction: float, n_train: int, n_val: int, detail: str) -> ValueError:
    return ValueError(
        f"{lead}: early_stopping holds out validation_fraction="
        f"{fraction:g} of {n_train + n_val} rows, {n_val} for validation and {n_train} for "
        f"training ({detail}). Increase 'validation_fraction' or the size of your dataset, "
        "or set early_stopping=False."
    )


def batch_size_for(batch_size: int | str, n_train: int, batch_norm: bool) -> int:
    """scikit-learn's batch size: "auto" is min(200, n), a larger one is clipped (with a warning).

    With batch normalisation the size grows until no batch holds a single row, whose batch
    statistics would be undefined.
    """
    if batch_size == "auto":
        size = min(200, n_train)
    else:
        if batch_size > n_train:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than sample size. It is going to "
                "be clipped",
                stacklevel=5,
            )
        size = min(int(batch_size), n_train)
    if batch_norm:
        while n_train % size == 1 and size < n_train:
            size += 1
    return size


def optimizer_options(estimator: BaseMLP) -> dict[str, Any]:
    """The optimiser's keyword arguments from the estimator's parameters (those it accepts)."""
    options: dict[str, Any] = {"lr": estimator.learning_rate_init}
    if estimator.solver == "sgd":
        options["momentum"] = estimator.momentum
        options["nesterov"] = bool(estimator.nesterovs_momentum and estimator.momentum > 0)
    elif estimator.solver in ("adam", "adamw"):
        options["betas"] = (estimator.beta_1, estimator.beta_2)
        options["eps"] = estimator.epsilon
    else:
        options["eps"] = estimator.epsilon
    accepted = inspect.signature(OPTIMIZER_CLASSES[estimator.solver]).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values()):
        return options
    return {name: value for name, value in options.items() if name in accepted}
