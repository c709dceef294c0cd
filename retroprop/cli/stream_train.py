"""Training on a partitioned table: each epoch streams the partitions through the Trainer.

An epoch visits the partitions in a new seeded order, reads and encodes one partition's
training rows at a time, shuffles them with the run's generator and steps through them batch by
batch (without ``--batch``, one step per partition). Validation, early stopping, the divergence
guard and every callback are the :class:`~retroprop.training.trainer.Trainer`'s own.

With ONE partition the steps are those of a normal run on the same training rows: the same
generator draws the same row order, batch by batch (the partition order is not drawn).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from retroprop.training.data import Dataset, check_data
from retroprop.training.evaluation import metric_logs
from retroprop.training.progress import EpochProgress
from retroprop.training.trainer import Trainer

__all__ = ["StreamingTrainer", "stream_fit", "stream_fitter"]


class StreamingTrainer(Trainer):
    """A :class:`~retroprop.training.trainer.Trainer` whose epoch streams partitions.

    Parameters
    ----------
    data : StreamedData
        The partitions (:class:`retroprop.cli.partitions.StreamedData`).
    class_weights : ndarray or None
        Weight of each class index (``--class-weight balanced``), else None.
    *args, **kwargs
        As the Trainer's; ``train`` is the sample of training rows (its length is recorded).
    """

    def __init__(self, data: Any, class_weights: Any, *args: Any, **kwargs: Any) -> None:
        batch_size = kwargs.get("batch_size")
        super().__init__(*args, **kwargs)
        self.data, self.class_weights = data, class_weights
        self.requested_batch = batch_size
        self.history.params["samples"] = data.total_train_rows
        self.history.params["partitions"] = len(data.train_rows)

    def partition(self, index: int) -> Dataset:
        """Partition ``index``'s training rows, checked as ``fit`` checks its data (kept in
        memory when it is the only one)."""
        if index in self.data.cached:
            return self.data.cached[index]
        X, y = self.data.encoded_train(index)
        weights = None if self.class_weights is None else self.class_weights[y]
        dataset = check_data(self.model, self.objective, X, y, weights)
        if len(self.data.train_rows) == 1:
            self.data.cached[index] = dataset
        return dataset

    def run_epoch(self, epoch: int) -> dict[str, float]:
        """One pass over every partition; the epoch's loss is the mean over all its rows, the
        metrics the partitions' figures weighted by their rows."""
        self.epoch = epoch
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch)
        sizes = self.data.train_rows
        shuffle_parts = self.shuffle and len(sizes) > 1
        order = self.rng.permutation(len(sizes)) if shuffle_parts else np.arange(len(sizes))
        steps = self.data.total_batches(self.requested_batch)
        self._bar = EpochProgress(steps, epoch, self.verbose)
        loss_sum, rows, batch, seen = 0.0, 0, 0, []
        for index in order:
            if not sizes[index]:
                continue
            part = self.partition(int(index))
            part_loss, logs, batch = self._run_partition(part, batch)
            loss_sum, rows = loss_sum + part_loss, rows + len(part)
            seen.append((len(part), logs))
        self._close_bar()
        if len(seen) == 1:  # as the Trainer computes them
            return {"loss": loss_sum / rows, **seen[0][1]}
        names = seen[0][1].keys()
        weighted = {k: sum(n * logs[k] for n, logs in seen) / rows for k in names}
        return {"loss": loss_sum / rows, **weighted}

    def _run_partition(self, part: Dataset, batch: int) -> tuple[float, dict[str, float], int]:
        """The Trainer's batch loop over one partition: (sum of row losses, metrics, batch)."""
        X, y, weights = part.X, part.y, part.weights
        n = len(part)
        size = min(self.requested_batch or n, n)
        order = self.rng.permutation(n) if self.shuffle else None
        y_epoch = y if order is None else y[order]
        outputs = None
        loss_sum = 0.0
        for start in range(0, n, size):
            batch += 1
            rows: Any = slice(start, start + size) if order is None else order[start : start + size]
            xb = X[rows] if order is None else X.take(rows, axis=0)
            wb = None if weights is None else weights[rows]
            value, output = self.step(xb, y_epoch[start : start + size], wb, batch)
            loss_sum += value * xb.shape[0]
            if self.metric_functions:
                if outputs is None:
                    outputs = np.empty((n,) + output.shape[1:], dtype=output.dtype)
                outputs[start : start + size] = output.data
        logs: dict[str, float] = {}
        if outputs is not None:
            w_epoch = weights if weights is None or order is None else weights[order]
            logs = metric_logs(self.objective, self.metric_functions, y_epoch, outputs, "", w_epoch)
        return loss_sum, logs, batch


def stream_fit(
    model: Any,
    X: np.ndarray,
    y: np.ndarray,
    *,
    data: Any,
    class_weights: np.ndarray | None,
    loss: str,
    epochs: int,
    seed: int,
    sample_weight: np.ndarray | None = None,
    validation_data: tuple[Any, ...] | None = None,
    **trainer_options: Any,
) -> Any:
    """``rp.fit`` for a partitioned table, called as ``rp.fit`` is: the same checks, generator
    and Trainer run, with the epochs streamed by :class:`StreamingTrainer`.

    ``X``, ``y``, ``sample_weight`` are the sample of training rows (recorded, not trained
    on); ``trainer_options`` go to the Trainer (optimizer, batch_size, metrics, callbacks,
    verbose). Returns the History.

    Raises
    ------
    DivergenceError
        As ``rp.fit``.
    """
    from retroprop.training.objectives import resolve_loss

    objective = resolve_loss(loss)
    sample = check_data(model, objective, X, y, sample_weight)
    validation = None
    if validation_data is not None:
        validation = check_data(model, objective, *validation_data, prefix="validation: ")
    optimizer = trainer_options.pop("optimizer")
    trainer = StreamingTrainer(
        data,
        class_weights,
        model,
        objective,
        optimizer,
        sample,
        validation,
        epochs=epochs,
        rng=np.random.default_rng(seed),
        seed=seed,
        **trainer_options,
    )
    return trainer.run()


def stream_fitter(data: Any, class_weight: str = "none") -> Any:
    """A function called as ``rp.fit`` that trains on ``data``'s partitions (``--class-weight
    balanced``: each class weighs n / (k * count) of the training sample)."""
    per_class = None
    if class_weight == "balanced" and data.target.classification:
        from retroprop.cli.metrics import balanced_weights

        train = data.y("train")
        per_class = np.zeros(len(data.target.classes))
        per_class[train] = balanced_weights(train)

    def fit(model: Any, X: Any, y: Any, **options: Any) -> Any:
        return stream_fit(model, X, y, data=data, class_weights=per_class, **options)

    return fit
