"""``Trainer``: one training run, its state and its steps.

:func:`retroprop.fit` checks the data it is given and hands them to a ``Trainer``; the
estimators (and any face that has checked its data itself) build one directly from
:class:`~retroprop.training.data.Dataset` objects. The Trainer trusts its data.

The run is the course's loop in named steps: :meth:`Trainer.prepare` (callbacks attached and
told, the last finite weights kept), :meth:`Trainer.run_epoch` (shuffle, then
:meth:`Trainer.step` per batch: forward, loss, backward, update, each checked by the divergence
guard), :meth:`Trainer.validate`, :meth:`Trainer.end_epoch` (record, print, callbacks), and
:meth:`Trainer.finish`.
"""

from __future__ import annotations

import contextlib
import operator
import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from retroprop.random import default_generator, using_generator
from retroprop.tensor import Tensor
from retroprop.training.callbacks import Callback, LRScheduler
from retroprop.training.captured import CapturedStep, fused_update, sgd_in_product
from retroprop.training.data import Dataset
from retroprop.training.evaluation import evaluate, format_line, metric_logs, per_example_loss
from retroprop.training.guard import DivergenceError, arrays_finite, describe_divergence
from retroprop.training.history import History
from retroprop.training.objectives import Objective, resolve_metric
from retroprop.training.progress import EpochProgress

__all__ = ["Trainer", "batch_loss"]


def batch_loss(
    objective: Objective, output: Tensor, target: np.ndarray, weight: np.ndarray | None
) -> Tensor:
    """The loss of one batch: the mean, or with weights sum_i w_i l_i / sum_i w_i."""
    if weight is None:
        return objective.function(output, target)
    per_example = per_example_loss(objective, output, target)
    return (per_example * weight).sum() / float(max(weight.sum(), 1e-12))


class Trainer:
    """The state of one training run, shared with callbacks.

    Parameters
    ----------
    model : Module
    objective : Objective
    optimizer : Optimizer
        Built on ``model.parameters()``.
    train : Dataset
        Checked training rows (see :func:`retroprop.training.data.check_data`).
    validation : Dataset, optional
        Checked validation rows; their weights weigh the validation loss and metrics.
    epochs : int
    batch_size : int or None
        None: full batch.
    shuffle : bool
    rng : numpy.random.Generator, optional
        Shuffles the rows; None: the global generator.
    seed : int, optional
        When given, dropout draws from ``rng`` during the run; recorded in ``history.params``.
    metrics : sequence
        Names or callables, as ``fit`` takes them.
    callbacks : iterable
        Callbacks; a scheduler is wrapped in :class:`LRScheduler`.
    verbose : int
    clip_grad_norm : float, optional
    capture : bool, default True
        Take the :class:`~retroprop.training.captured.CapturedStep` for the batches it can
        run (same bits as the plain step, without building the graph); False: always the
        plain step.

    Attributes
    ----------
    model, optimizer, objective, history, callbacks
    stop_training : bool
        Set by a callback to end the run after the current epoch.
    stop_reason : str
    epoch : int
        The current epoch (1-based).
    validation_outputs : ndarray or None
        The model's raw outputs on the validation rows at the last validation.
    captured : CapturedStep or None
        The captured step of this run, None when every batch takes the plain step.
    """

    def __init__(
        self,
        model: Any,
        objective: Objective,
        optimizer: Any,
        train: Dataset,
        validation: Dataset | None = None,
        *,
        epochs: int,
        batch_size: int | None = None,
        shuffle: bool = True,
        rng: np.random.Generator | None = None,
        seed: int | None = None,
        metrics: Sequence[Any] = (),
        callbacks: Iterable[Any] = (),
        verbose: int = 1,
        clip_grad_norm: float | None = None,
        capture: bool = True,
    ) -> None:
        if epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {epochs}")
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"batch_size must be None (full batch) or >= 1, got {batch_size}")
        self.model, self.objective, self.optimizer = model, objective, optimizer
        self.train, self.validation = train, validation
        self.epochs, self.shuffle, self.seed = epochs, shuffle, seed
        self.batch_size = len(train) if batch_size is None else min(batch_size, len(train))
        self.rng = rng if rng is not None else default_generator()
        self.metric_functions = [resolve_metric(m) for m in metrics]
        self.callbacks: list[Callback] = [
            c if isinstance(c, Callback) else LRScheduler(c) for c in callbacks
        ]
        self.verbose = verbose
        self.clip_grad_norm = clip_grad_norm
        self.parameters = [p for p in model.parameters() if p.requires_grad]
        self.history = History(
            params={
                "epochs": epochs,
                "batch_size": batch_size,
                "seed": seed,
                "loss": objective.name,
                "shuffle": shuffle,
                "samples": len(train),
                "validation_samples": 0 if validation is None else len(validation),
            }
        )
        self.stop_training = False
        self.stop_reason = ""
        self.epoch = 0
        self.validation_outputs: np.ndarray | None = None
        self._previous_loss: float | None = None
        self._snapshot: dict[str, np.ndarray] = {}
        self._bar: EpochProgress | None = None
        self._captured_plan: tuple[Any, Any] = (None, None)  # the last batch's
        self._captured_key: list[Any] = []  # what it was worked out from
        self.captured = (
            CapturedStep.capture(model, objective, self.parameters, train.weights, self.batch_size)
            if capture
            else None
        )

    def log(self, message: str) -> None:
        """Print a line when verbose."""
        if self.verbose:
            print(message, flush=True)

    @property
    def learning_rate(self) -> float | None:
        """The first parameter group's learning rate."""
        groups = getattr(self.optimizer, "param_groups", None)
        return float(groups[0]["lr"]) if groups else None

    # ------------------------------------------------------------------ the run
    def run(self) -> History:
        """Train for ``epochs`` (or until a callback stops the run); return the History.

        Raises
        ------
        DivergenceError
            The output, the loss or a gradient became NaN or inf; the model keeps the weights
            of the end of the last completed epoch.
        """
        was_training = self.model.training
        context = using_generator(self.rng) if self.seed is not None else contextlib.nullcontext()
        # Overflow on the way to a divergence is reported by the guard, not as NumPy warnings.
        with context, np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            self.prepare()
            started = time.perf_counter()
            try:
                for epoch in range(1, self.epochs + 1):
                    self.end_epoch(epoch, self.run_epoch(epoch))
                    if self.stop_training:
                        break
            except KeyboardInterrupt:  # Ctrl-C: stop cleanly, keep the weights reached so far
                self._close_bar()
                self.stop_reason = f"interrupted (Ctrl-C) during epoch {self.epoch}"
                self.history.interrupted = True
            self.history.params["seconds"] = time.perf_counter() - started
            self.finish()
        self.model.train(was_training)
        return self.history

    def prepare(self) -> None:
        """Attach the callbacks, check what they monitor, keep the weights, start training."""
        for callback in self.callbacks:
            callback.set_trainer(self)
            if (
                getattr(callback, "monitor", "").startswith("val_")
                and self.validation is None
                and not isinstance(callback, LRScheduler)
            ):
                raise ValueError(
                    f"{type(callback).__name__} monitors {callback.monitor!r} but there is no "
                    "validation data: pass validation_split or validation_data, or monitor 'loss'"
                )
        self.model.train()
        for callback in self.callbacks:
            callback.on_train_begin({})
        self._snapshot = {k: v.copy() for k, v in self.model.state_dict().items()}
        self.history.params["kept_epoch"] = 0  # the epoch whose weights a divergence restores

    def run_epoch(self, epoch: int) -> dict[str, float]:
        """One pass over the training rows, batch by batch; returns the epoch's training logs."""
        self.epoch = epoch
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch)
        X, y, weights = self.train.X, self.train.y, self.train.weights
        n, size = len(self.train), self.batch_size
        # Shuffled rows are gathered batch by batch: a batch is small enough to stay in cache,
        # where a shuffled copy of the whole of X would not.
        order = self._permutation(n) if self.shuffle else None
        # The shuffled targets are kept whole only for the epoch's metrics.
        y_epoch = y if order is None or self.metric_functions else None
        if order is not None and self.metric_functions:
            y_epoch = y[order]
        outputs = None
        self._bar = EpochProgress(-(-n // size), epoch, self.verbose)
        loss_sum = 0.0
        captured = self.captured
        if captured is not None and captured.inputs.shape[0] < min(size, n):
            # The batch size grew since the capture (the playground changes it between epochs).
            captured = self.captured = CapturedStep.capture(
                self.model, self.objective, self.parameters, weights, size
            )
        for batch, start in enumerate(range(0, n, size), start=1):
            rows: Any = slice(start, start + size) if order is None else order[start : start + size]
            yb = y.take(rows, axis=0) if y_epoch is None else y_epoch[start : start + size]
            if captured is not None and captured.ready():
                value, output = self.captured_step(captured.gather(X, rows), yb, batch)
            else:
                xb = X[rows] if order is None else X.take(rows, axis=0)
                wb = None if weights is None else weights[rows]
                value, output = self.step(xb, yb, wb, batch)
            loss_sum += value * yb.shape[0]
            if self.metric_functions:
                if outputs is None:
                    outputs = np.empty((n,) + output.shape[1:], dtype=output.dtype)
                outputs[start : start + size] = output.data
        self._close_bar()
        logs = {"loss": loss_sum / n}
        if outputs is not None:
            w_epoch = weights if weights is None or order is None else weights[order]
            logs.update(
                metric_logs(self.objective, self.metric_functions, y_epoch, outputs, "", w_epoch)
            )
        return logs

    def step(
        self, xb: np.ndarray, yb: np.ndarray, wb: np.ndarray | None, batch: int
    ) -> tuple[float, Tensor]:
        """Forward, loss, backward, update on one batch; returns (loss value, output)."""
        output = self.model(Tensor(xb))
        if not np.isfinite(output.data).all():  # before a loss that may refuse NaN
            self._diverged("the output", np.nan, batch, xb)
        loss = batch_loss(self.objective, output, yb, wb)
        value = loss.item()
        if value != value or value in (float("inf"), float("-inf")):
            self._diverged("the loss", value, batch, xb)
        self.optimizer.zero_grad()
        loss.backward()
        self._update(batch, value)
        return value, output

    def captured_step(self, xb: np.ndarray, yb: np.ndarray, batch: int) -> tuple[float, Tensor]:
        """:meth:`step` by the captured step (:mod:`retroprop.training.captured`): same bits."""
        captured = self.captured
        assert captured is not None
        logits = captured.forward(xb)
        if not arrays_finite([logits]):  # one sum; elementwise only when it is not finite
            self._diverged("the output", np.nan, batch, xb)
        value, grad = captured.loss(logits, yb)
        if value != value or value in (float("inf"), float("-inf")):
            self._diverged("the loss", value, batch, xb)
        self.optimizer.zero_grad()
        update, sgd = self._captured_update()
        captured.backward(xb, grad, update, sgd)
        self._update(batch, value, stepped=update is not None)
        return value, Tensor._from_op(logits, None)

    def _captured_update(self) -> tuple[Any, Any]:
        """How the captured backward updates: (``fused_update``'s rule or None, SGD's groups
        for the update inside the product or None); (None, None): ``step()`` after it.

        The update goes inside the backward only when no two parameters share memory (a
        layer's update would change what another's backward reads); inside the product for
        plain SGD when nothing reads ``.grad`` after the step (no gradient clipping, no
        callback that may read it) and BLAS is there (a layer whose arrays BLAS may not take
        is updated by the rule). Worked out again whenever anything it depends on is another
        object than at the last batch: the optimiser, its groups (their list, dicts,
        parameter lists and parameters, momentum), its state, the clipping, the callbacks
        and what they say, the parameters' arrays. The objects compared are held, so none
        can be freed and another take its address.
        """
        optimizer, callbacks = self.optimizer, self.callbacks
        groups = getattr(optimizer, "param_groups", None)
        key = [optimizer, groups, getattr(optimizer, "state", None), self.clip_grad_norm]
        key += [self.captured, callbacks, *callbacks]
        key += [callback.reads_gradients for callback in callbacks]
        key += [param._data for param in self.parameters]
        for group in groups or ():
            params = group["params"]
            key += [group, params, *params, group.get("momentum")]
        known = self._captured_key
        if len(key) == len(known) and all(map(operator.is_, key, known)):
            return self._captured_plan
        self._captured_key = key
        update = sgd = None
        captured = self.captured
        if self.clip_grad_norm is None and captured is not None and not self._shared_memory():
            update = fused_update(optimizer, self.parameters)
            if (
                update is not None
                and captured.gemm is not None
                and not any(callback.reads_gradients for callback in callbacks)
            ):
                sgd = sgd_in_product(optimizer, self.parameters)
        self._captured_plan = (update, sgd)
        return update, sgd

    def _shared_memory(self) -> bool:
        """Whether two parameters' arrays overlap (weights tied by assigning one array to two
        layers)."""
        arrays = [param._data for param in self.parameters]
        return any(np.may_share_memory(a, b) for i, a in enumerate(arrays) for b in arrays[i + 1 :])

    def _update(self, batch: int, value: float, stepped: bool = False) -> None:
        """Clip, update (unless ``stepped``: done in the backward), and tell the progress bar
        and the callbacks: the end of a step.

        A non-finite gradient is not looked for here (that would read every gradient once
        more per batch): it makes the weights non-finite, which the next batch's output (or
        the end of the epoch) reports, naming the layer.
        """
        if self.clip_grad_norm is not None:
            from retroprop.optim import clip_grad_norm_

            clip_grad_norm_(self.parameters, self.clip_grad_norm)
        if not stepped:
            self.optimizer.step()
        if self._previous_loss is None:
            self._previous_loss = value
        if self._bar is not None:
            self._bar.update(batch, value)
        for callback in self.callbacks:
            callback.on_batch_end(batch, {"loss": value})

    def validate(self) -> dict[str, float]:
        """The validation loss and metrics ("val_" + name), weighted by the validation weights."""
        if self.validation is None:
            return {}
        data = self.validation
        val_loss, outputs = evaluate(self.model, self.objective, data.X, data.y, data.weights)
        self.validation_outputs = outputs
        logs = {"val_loss": val_loss}
        logs.update(
            metric_logs(
                self.objective, self.metric_functions, data.y, outputs, "val_", data.weights
            )
        )
        return logs

    def end_epoch(self, epoch: int, logs: dict[str, float]) -> None:
        """Validate, record and print the epoch, keep its weights, and call the callbacks."""
        logs.update(self.validate())
        if self.learning_rate is not None:
            logs["lr"] = self.learning_rate
        self.history.record(epoch, logs)
        if self.verbose:
            self.log(format_line(epoch, self.epochs, self._previous_loss, logs))
        self._previous_loss = logs["loss"]
        self._check_epoch_finite(logs)
        for name, array in self.model.state_dict().items():  # in place: no new arrays per epoch
            np.copyto(self._snapshot[name], array)
        self.history.params["kept_epoch"] = epoch
        for callback in self.callbacks:
            callback.on_epoch_end(epoch, logs)

    def finish(self) -> None:
        """Say why the run ended, and let the callbacks finish (restore weights, remove hooks)."""
        if not self.stop_reason:
            self.stop_reason = f"completed {len(self.history.epoch)} epochs"
        self.history.stop_reason = self.stop_reason
        for callback in self.callbacks:
            callback.on_train_end({})
        self.log(f"Stopped: {self.stop_reason}")

    # ------------------------------------------------------------------ helpers
    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _permutation(self, n: int) -> np.ndarray:
        """``rng.permutation(n)`` (the same draws: the same order and generator state for a
        seed) in the smallest integer type that holds a row number: 2 bytes a row instead of 8
        for up to 65,536 rows."""
        order = np.arange(n, dtype=np.min_scalar_type(max(n - 1, 0)))
        self.rng.shuffle(order)
        return order

    def _check_epoch_finite(self, logs: dict[str, float]) -> None:
        """A divergence when the epoch's training or validation loss, or its validation outputs,
        are not finite: such weights are not kept as "the last finite model"."""
        for key in ("loss", "val_loss"):
            if key in logs and not np.isfinite(logs[key]):
                what = "the validation loss" if key == "val_loss" else "the training loss"
                self._diverged(what, logs[key], 0, None)
        outputs = self.validation_outputs
        if self.validation is not None and outputs is not None and not np.isfinite(outputs).all():
            self._diverged("the validation output", float("nan"), 0, None)
        if not arrays_finite([p.data for p in self.parameters]):  # a last step's bad gradient
            self._diverged("the weights", float("nan"), 0, None)

    def _diverged(self, what: str, value: float, batch: int, inputs: np.ndarray | None) -> None:
        self._close_bar()
        message = describe_divergence(
            self.model, what, value, self.epoch, batch, self.learning_rate, inputs
        )
        kept = self.history.params.get("kept_epoch", 0)
        message += (
            f" Kept: the weights of epoch {kept}, the last whose losses and outputs were finite."
            if kept
            else " Kept: the initial weights (no epoch ended with finite losses and outputs)."
        )
        # Back to the end of the last completed epoch: finite, and not yet blown up.
        self.model.load_state_dict(self._snapshot)
        self.history.stop_reason = self.stop_reason = message
        for callback in self.callbacks:  # let callbacks clean up (remove their hooks...)
            callback.on_train_end({"error": message})
        raise DivergenceError(message)
