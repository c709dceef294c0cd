"""``Diagnostics``: the health figures of every layer, recorded during ``fit``.

Every ``every`` batches the callback attaches the probes for the next training batch only:
that batch's own forward and backward pass is recorded (no extra pass), the figures are
computed after the update, and the hooks are removed again. Between samples no hook is
registered, so the other batches run exactly as without the callback.
"""

from __future__ import annotations

import warnings
from typing import Any

from retroprop.diagnostics.probes import Probe
from retroprop.diagnostics.problems import Problem, Thresholds, problems
from retroprop.diagnostics.stats import layer_stats
from retroprop.training.callbacks import Callback

__all__ = ["Diagnostics", "DiagnosticsWarning"]


class DiagnosticsWarning(UserWarning):
    """A pathology seen during training (vanishing gradient, dead units, ...)."""


class Diagnostics(Callback):
    """Record per-layer activations and gradients every ``every`` batches; warn on problems.

    Parameters
    ----------
    every : int, default 10
        Sample one training batch in ``every`` (the first batch is always sampled).
    thresholds : Thresholds, optional
        When a figure becomes a problem (see :class:`~retroprop.diagnostics.Thresholds`).
    warn : bool, default True
        Warn (``warnings.warn`` with :class:`DiagnosticsWarning`, and a line in fit's log)
        the first time each kind of problem appears.

    Attributes
    ----------
    records : list of dict
        One dict per layer and sampled batch with "epoch", "batch" (within the epoch), "step"
        (counted over the run), "layer" ("0: Linear 2->4"), "activation", "units",
        "activation_mean", "activation_std", "grad_norm" and "grad_std" (of dJ/dz),
        "weight_grad_norm", "weight_norm", "update_ratio", "dead_fraction",
        "saturated_fraction", "non_finite" and the batch's "loss". ``update_ratio`` is the
        step the optimiser actually took, ||W_after - W_before|| / ||W_before|| (for plain SGD
        that is ||lr dJ/dW|| / ||W||). ``dead_fraction`` is None on batches of fewer than 16
        examples.
    problems : list of Problem
        The first occurrence of each kind of problem, with its epoch and batch.
    batches_per_epoch : dict of int to int
        How many batches each epoch had (to place samples on an epoch axis).

    Examples
    --------
    >>> _ = rp.manual_seed(0)
    >>> X = np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32)
    >>> y = X.sum(axis=1)
    >>> model = nn.mlp([3, 8, 8, 1])
    >>> diagnostics = Diagnostics(every=4)
    >>> _ = rp.fit(model, X, y, loss="mse", optimizer=rp.optim.SGD(model.parameters(), lr=0.05),
    ...            epochs=2, batch_size=16, verbose=0, seed=0, callbacks=[diagnostics])
    >>> sorted({(r["epoch"], r["batch"]) for r in diagnostics.records})
    [(1, 1), (2, 1)]
    >>> diagnostics.records[0]["layer"], diagnostics.problems
    ('0: Linear 3->8', [])
    """

    reads_gradients = False

    def __init__(
        self, every: int = 10, thresholds: Thresholds | None = None, warn: bool = True
    ) -> None:
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"Diagnostics: every must be a positive int, got {every!r}")
        self.every = every
        self.thresholds = thresholds or Thresholds()
        self.warn = warn
        self.records: list[dict[str, Any]] = []
        self.problems: list[Problem] = []
        self.batches_per_epoch: dict[int, int] = {}
        self._probe: Probe | None = None
        self._step = 0
        self._epoch = 0

    def _sampled(self, step: int) -> bool:
        return (step - 1) % self.every == 0

    def _finished(self) -> bool:
        trainer = getattr(self, "trainer", None)
        return trainer is not None and bool(trainer.history.stop_reason)

    # ---------------------------------------------------------------- fit's hooks
    def on_train_begin(self, logs: dict[str, Any]) -> None:
        self.records, self.problems, self.batches_per_epoch = [], [], {}
        self._step, self._epoch = 0, 0
        self._probe = Probe(self.trainer.model, keep_weights=True, expired=self._finished)
        self._probe.attach()  # the first batch is sampled

    def on_epoch_begin(self, epoch: int) -> None:
        self._epoch = epoch

    def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None:
        probe = self._probe
        if probe is None:
            return
        self._step += 1
        self.batches_per_epoch[self._epoch] = batch
        if probe.attached and self._sampled(self._step):
            probe.detach()
            self._record(batch, logs.get("loss"))
        if self._sampled(self._step + 1):
            probe.attach()

    def on_train_end(self, logs: dict[str, Any]) -> None:
        self.detach()

    def detach(self) -> None:
        """Remove the probes' hooks now (``fit`` does it at the end of the run)."""
        if self._probe is not None:
            self._probe.detach()

    # ---------------------------------------------------------------- recording
    def _record(self, batch: int, loss: float | None) -> None:
        probe = self._probe
        assert probe is not None
        stats = [
            layer_stats(info, probe.capture(info), weight_after=info.linear.weight.data)
            for info in probe.layers
        ]
        probe.clear()  # do not keep the batch's arrays alive until the next sample
        for s in stats:
            record = {"epoch": self._epoch, "batch": batch, "step": self._step, "layer": s.name}
            record.update((k, v) for k, v in s.as_dict().items() if k not in ("name", "index"))
            record["loss"] = loss
            self.records.append(record)
        seen = {problem.kind for problem in self.problems}
        for problem in problems(stats, self.thresholds, loss):
            if problem.kind in seen:
                continue
            problem.epoch, problem.batch = self._epoch, batch
            self.problems.append(problem)
            seen.add(problem.kind)
            if self.warn:
                # stacklevel 5: the user's call to fit (fit -> _run -> on_batch_end -> _record)
                warnings.warn(f"Diagnostics: {problem}", DiagnosticsWarning, stacklevel=5)
                self.trainer.log(f"Diagnostics: {problem}")

    def plot_history(self, path: Any = None) -> Any:
        """The recorded figures over training, as a matplotlib Figure (saved when ``path``).

        Three panels against the epoch: ||dJ/dz|| per layer (log scale), the fraction of dead
        units and the fraction of saturated outputs per layer.
        """
        from retroprop.diagnostics.plots import plot_history

        return plot_history(self.records, path=path, batches_per_epoch=self.batches_per_epoch)
