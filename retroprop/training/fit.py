"""``fit``: the course's training loop, one loop for every caller.

For each epoch: shuffle, then for each batch: forward, loss, backward, update. Then validate,
log, and let the callbacks decide whether to go on. ``batch_size=None`` is full-batch gradient
descent, ``1`` is stochastic (the course's per-example BACK-PROP-LEARNING), ``k`` mini-batch.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from retroprop.grad_mode import no_grad
from retroprop.random import default_generator, using_generator
from retroprop.tensor import Tensor
from retroprop.training.callbacks import Callback, LRScheduler
from retroprop.training.data import as_features, as_targets, validation_split_indices
from retroprop.training.evaluation import evaluate, format_line, metric_logs
from retroprop.training.guard import DivergenceError, describe_divergence, gradients_finite
from retroprop.training.history import History
from retroprop.training.objectives import Objective, resolve_loss, resolve_metric
from retroprop.training.progress import EpochProgress

__all__ = ["fit", "Trainer"]


def _model_dtype(model: Any) -> np.dtype:
    for p in model.parameters():
        return p.dtype
    return np.dtype(np.float32)


def _first_linear(model: Any) -> Any:
    for module in model.modules():
        if hasattr(module, "in_features"):
            return module
    return None


def _output_width(model: Any, X: np.ndarray) -> int:
    with no_grad(), np.errstate(all="ignore"):  # overflow here is the guard's to report
        was_training = model.training
        model.eval()
        out = model(Tensor(X[:1]))
        model.train(was_training)
    return 1 if out.ndim == 1 else out.shape[1]


def _resolve_optimizer(optimizer: Any, model: Any) -> Any:
    if isinstance(optimizer, str):
        from retroprop.optim import get_optimizer

        return get_optimizer(optimizer, model.parameters())
    return optimizer


class Trainer:
    """The state of one ``fit`` run, shared with callbacks.

    Attributes
    ----------
    model, optimizer, objective, history
    stop_training : bool
        Set by a callback to end the run after the current epoch.
    stop_reason : str
    epoch : int
    """

    def __init__(
        self, model: Any, optimizer: Any, objective: Objective, history: History, verbose: int
    ) -> None:
        self.model = model
        self.optimizer = optimizer
        self.objective = objective
        self.history = history
        self.verbose = verbose
        self.stop_training = False
        self.stop_reason = ""
        self.epoch = 0
        self.callbacks: list[Callback] = []

    def log(self, message: str) -> None:
        """Print a line when verbose."""
        if self.verbose:
            print(message, flush=True)

    @property
    def learning_rate(self) -> float | None:
        """The first parameter group's learning rate."""
        groups = getattr(self.optimizer, "param_groups", None)
        return float(groups[0]["lr"]) if groups else None


def fit(
    model: Any,
    X: Any,
    y: Any,
    *,
    loss: str | Callable[..., Tensor],
    optimizer: Any,
    epochs: int,
    batch_size: int | None = None,
    shuffle: bool = True,
    validation_split: float = 0.0,
    validation_data: tuple[Any, Any] | None = None,
    callbacks: Iterable[Any] = (),
    metrics: Sequence[Any] = (),
    verbose: int = 1,
    seed: int | None = None,
    sample_weight: Any = None,
    clip_grad_norm: float | None = None,
) -> History:
    """Train ``model`` on (X, y) by backpropagation and gradient descent.

    Parameters
    ----------
    model : Module
        The network; its output is the loss's input (logits for ``cross_entropy`` and
        ``binary_cross_entropy_with_logits``, probabilities for ``binary_cross_entropy``).
    X : array-like, shape (n_samples, n_features)
    y : array-like, shape (n_samples,) or (n_samples, n_outputs)
        Integer class labels for ``cross_entropy``; 0/1 for the binary losses.
    loss : str or callable
        "mse", "pseudo_mse", "binary_cross_entropy", "binary_cross_entropy_with_logits",
        "cross_entropy", or ``loss(output, target) -> Tensor``.
    optimizer : Optimizer or str
        An optimiser built on ``model.parameters()``, or a name ("sgd", "adam", ...) with
        its defaults.
    epochs : int
        Passes over the training data.
    batch_size : int or None, default None
        None: full batch; 1: stochastic; k: mini-batches of k (the last may be smaller).
    shuffle : bool, default True
        Reshuffle the training rows every epoch (keep False for ordered data).
    validation_split : float, default 0.0
        Fraction of rows held out for validation: random, seeded, stratified by class for
        classification losses.
    validation_data : (X_val, y_val), optional
        Explicit validation data (overrides ``validation_split``).
    callbacks : iterable
        :class:`Callback` instances; learning-rate schedulers are stepped once per epoch.
    metrics : sequence
        Names ("accuracy", "mae", "mse", "r2") or ``metric(y_true, y_pred) -> float``.
    verbose : int, default 1
        1: one line per epoch (and a progress bar within long epochs); 0: silent.
    seed : int, optional
        Seeds shuffling, dropout and the validation split; None draws from the global
        generator (see ``rp.manual_seed``).
    sample_weight : array-like, shape (n_samples,), optional
        Weights of the training rows in the loss.
    clip_grad_norm : float, optional
        Clip the global gradient norm to this value before each update.

    Returns
    -------
    History
        Per-epoch "loss" (mean over the epoch's batches), "val_loss", metrics, "lr".

    Raises
    ------
    ValueError
        Bad data: X not 2-D, lengths that differ, NaN or inf, labels outside the output
        layer, a width that does not match the first layer.
    DivergenceError
        The loss or a gradient became NaN or inf; the model keeps its last finite weights.

    Examples
    --------
    XOR, learned by sigmoid units with full-batch gradient descent:

    >>> from retroprop import optim
    >>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    >>> y = np.array([0, 1, 1, 0])
    >>> _ = rp.manual_seed(1)
    >>> model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1), nn.Sigmoid())
    >>> history = rp.fit(model, X, y, loss="binary_cross_entropy",
    ...                  optimizer=optim.Adam(model.parameters(), lr=0.05), epochs=300,
    ...                  verbose=0, seed=0)
    >>> history["loss"][-1] < 0.05
    True
    >>> (model(X).numpy().ravel() > 0.5).astype(int).tolist()
    [0, 1, 1, 0]
    """
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be None (full batch) or >= 1, got {batch_size}")
    objective = resolve_loss(loss)
    optimizer = _resolve_optimizer(optimizer, model)
    dtype = _model_dtype(model)
    X = as_features(X, dtype)
    y = as_targets(y, X.shape[0])
    first = _first_linear(model)
    if first is not None and X.shape[1] != first.in_features:
        raise ValueError(
            f"X has {X.shape[1]} columns but the first Linear layer expects "
            f"in_features={first.in_features}"
        )
    width = _output_width(model, X)
    y = objective.prepare_targets(y, width, dtype)
    weights = None
    if sample_weight is not None:
        weights = as_targets(sample_weight, X.shape[0], "sample_weight").astype(dtype)
        if weights.ndim != 1 or (weights < 0).any():
            raise ValueError("sample_weight must be a 1-D array of non-negative weights")

    rng = np.random.default_rng(seed) if seed is not None else default_generator()
    history = History(
        params={
            "epochs": epochs,
            "batch_size": batch_size,
            "seed": seed,
            "loss": objective.name,
            "shuffle": shuffle,
        }
    )
    trainer = Trainer(model, optimizer, objective, history, verbose)

    X_val = y_val = None
    if validation_data is not None:
        X_val = as_features(validation_data[0], dtype, "X_val")
        y_val = objective.prepare_targets(
            as_targets(validation_data[1], X_val.shape[0], "y_val"), width, dtype
        )
        trainer.log(f"Validation: {X_val.shape[0]} rows given as validation_data")
    elif validation_split:
        labels = (
            y
            if objective.kind == "multiclass"
            else (y[:, 0] if objective.kind == "binary" and y.shape[1] == 1 else None)
        )
        train_rows, val_rows = validation_split_indices(X.shape[0], validation_split, rng, labels)
        X_val, y_val = X[val_rows], y[val_rows]
        X, y = X[train_rows], y[train_rows]
        weights = None if weights is None else weights[train_rows]
        kind = "stratified random" if labels is not None else "random"
        trainer.log(
            f"Validation: {len(val_rows)} of {len(val_rows) + len(train_rows)} rows "
            f"held out ({kind} split, {validation_split:.0%}"
            f"{f', seed {seed}' if seed is not None else ''})"
        )
    history.params.update(samples=X.shape[0], validation_samples=0 if X_val is None else len(X_val))

    metric_functions = [resolve_metric(m) for m in metrics]
    callback_list = [c if isinstance(c, Callback) else LRScheduler(c) for c in callbacks]
    for callback in callback_list:
        callback.set_trainer(trainer)
        if (
            getattr(callback, "monitor", "").startswith("val_")
            and X_val is None
            and not isinstance(callback, LRScheduler)
        ):
            raise ValueError(
                f"{type(callback).__name__} monitors {callback.monitor!r} but there is no "
                "validation data: pass validation_split or validation_data, or monitor 'loss'"
            )

    parameters = [p for p in model.parameters() if p.requires_grad]
    clip = None
    if clip_grad_norm is not None:
        from retroprop.optim import clip_grad_norm_ as clip

    was_training = model.training
    context = using_generator(rng) if seed is not None else contextlib.nullcontext()
    # Overflow on the way to a divergence is reported by the guard, not as NumPy warnings.
    with context, np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        _run(
            trainer,
            X,
            y,
            weights,
            X_val,
            y_val,
            epochs,
            batch_size,
            shuffle,
            rng,
            metric_functions,
            callback_list,
            parameters,
            clip,
            clip_grad_norm,
        )
    model.train(was_training)
    return history


def _batch_loss(
    objective: Objective, output: Tensor, target: np.ndarray, weight: np.ndarray | None
) -> Tensor:
    if weight is None:
        return objective.function(output, target)
    per_example = objective.function(output, target, reduction="none")
    if per_example.ndim > 1:
        per_example = per_example.mean(axis=tuple(range(1, per_example.ndim)))
    return (per_example * weight).sum() / float(max(weight.sum(), 1e-12))


def _run(
    trainer: Trainer,
    X: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None,
    X_val: np.ndarray | None,
    y_val: np.ndarray | None,
    epochs: int,
    batch_size: int | None,
    shuffle: bool,
    rng: np.random.Generator,
    metric_functions: list,
    callbacks: list[Callback],
    parameters: list[Tensor],
    clip: Any,
    clip_norm: float | None,
) -> None:
    model, optimizer, objective, history = (
        trainer.model,
        trainer.optimizer,
        trainer.objective,
        trainer.history,
    )
    n = X.shape[0]
    size = n if batch_size is None else min(batch_size, n)
    n_batches = -(-n // size)
    model.train()
    trainer.callbacks = callbacks
    for callback in callbacks:
        callback.on_train_begin({})
    previous_loss: float | None = None
    started = time.perf_counter()
    snapshot = {k: v.copy() for k, v in model.state_dict().items()}
    bar = None
    try:
        for epoch in range(1, epochs + 1):
            trainer.epoch = epoch
            for callback in callbacks:
                callback.on_epoch_begin(epoch)
            # Shuffled rows are gathered batch by batch: a batch is small enough to stay in cache,
            # where a shuffled copy of the whole of X would not.
            order = rng.permutation(n) if shuffle else None
            y_epoch = y if order is None else y[order]
            keep_outputs = bool(metric_functions)
            outputs = None
            bar = EpochProgress(n_batches, epoch, trainer.verbose)
            loss_sum = 0.0
            for batch, start in enumerate(range(0, n, size), start=1):
                stop = start + size
                if order is None:
                    xb, rows = X[start:stop], slice(start, stop)
                else:
                    rows = order[start:stop]
                    xb = X.take(rows, axis=0)
                yb = y_epoch[start:stop]
                wb = None if weights is None else weights[rows]
                output = model(Tensor(xb))
                if not np.isfinite(output.data).all():  # before a loss that may refuse NaN
                    _diverged(trainer, snapshot, "the output", np.nan, epoch, batch, bar, xb)
                loss = _batch_loss(objective, output, yb, wb)
                value = loss.item()
                if value != value or value in (float("inf"), float("-inf")):
                    _diverged(trainer, snapshot, "the loss", value, epoch, batch, bar, xb)
                optimizer.zero_grad()
                loss.backward()
                if not gradients_finite(parameters):
                    _diverged(trainer, snapshot, "a gradient", float("nan"), epoch, batch, bar, xb)
                if clip is not None:
                    clip(parameters, clip_norm)
                optimizer.step()
                loss_sum += value * xb.shape[0]
                if keep_outputs:
                    if outputs is None:
                        outputs = np.empty((n,) + output.shape[1:], dtype=output.dtype)
                    outputs[start:stop] = output.data
                if previous_loss is None:
                    previous_loss = value
                bar.update(batch, value)
                for callback in callbacks:
                    callback.on_batch_end(batch, {"loss": value})
            bar.close()
            logs = {"loss": loss_sum / n}
            if keep_outputs:
                logs.update(metric_logs(objective, metric_functions, y_epoch, outputs, ""))
            if X_val is not None:
                val_loss, val_outputs = evaluate(model, objective, X_val, y_val)
                logs["val_loss"] = val_loss
                logs.update(metric_logs(objective, metric_functions, y_val, val_outputs, "val_"))
            if trainer.learning_rate is not None:
                logs["lr"] = trainer.learning_rate
            history.record(epoch, logs)
            if trainer.verbose:
                trainer.log(format_line(epoch, epochs, previous_loss, logs))
            previous_loss = logs["loss"]
            for name, array in model.state_dict().items():  # in place: no new arrays per epoch
                np.copyto(snapshot[name], array)
            for callback in callbacks:
                callback.on_epoch_end(epoch, logs)
            if trainer.stop_training:
                break
    except KeyboardInterrupt:  # Ctrl-C: stop cleanly, keep the weights reached so far
        if bar is not None:
            bar.close()
        trainer.stop_reason = f"interrupted (Ctrl-C) during epoch {trainer.epoch}"
        history.interrupted = True
    if not trainer.stop_reason:
        trainer.stop_reason = f"completed {len(history.epoch)} epochs"
    history.stop_reason = trainer.stop_reason
    history.params["seconds"] = time.perf_counter() - started
    for callback in callbacks:
        callback.on_train_end({})
    trainer.log(f"Stopped: {trainer.stop_reason}")


def _diverged(
    trainer: Trainer,
    snapshot: dict[str, np.ndarray],
    what: str,
    value: float,
    epoch: int,
    batch: int,
    bar: Any,
    inputs: np.ndarray,
) -> None:
    if bar is not None:
        bar.close()
    message = describe_divergence(
        trainer.model, what, value, epoch, batch, trainer.learning_rate, inputs
    )
    # Back to the end of the last completed epoch: finite, and not yet blown up.
    trainer.model.load_state_dict(snapshot)
    trainer.history.stop_reason = trainer.stop_reason = message
    for callback in trainer.callbacks:  # let callbacks clean up (remove their hooks...)
        callback.on_train_end({"error": message})
    raise DivergenceError(message)
