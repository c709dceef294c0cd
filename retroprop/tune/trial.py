"""One trial of a search: train with one set of settings, score it on the validation rows.

A trial trains exactly as ``retroprop train`` does (the same network for the task, the same
optimiser with L2 on the weights only, early stopping on the validation loss, the same seed for
the weights and the shuffling), so the best trial retrained on the same rows with the same seed
gives the same model, and its validation loss is the trial's score. A trial that diverges or
raises returns a :class:`TrialResult` saying so: it never stops the search.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["TrialData", "TrialResult", "run_trial", "STATUSES"]

#: How a trial can end: "ok" (scored), "diverged" (NaN or inf), "failed" (raised).
STATUSES = ("ok", "diverged", "failed")


@dataclass(frozen=True)
class TrialData:
    """The preprocessed arrays every trial trains on: sent to each worker once.

    Attributes
    ----------
    X_train, X_val : ndarray, shape (n_rows, n_features)
        The encoded features (float32) of the training and validation rows.
    y_train : ndarray, shape (n_train,)
        The encoded training targets (class indices or standardised values).
    y_val : ndarray, shape (n_val,)
        The validation targets as read (class names or values): what the scores compare with.
    w_train, w_val : ndarray or None
        Row weights (``--class-weight balanced``), or None.
    target : retroprop.cli.target.Target
        The task, the classes and the target's scaling.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    target: Any
    w_train: np.ndarray | None = None
    w_val: np.ndarray | None = None

    @classmethod
    def from_prepared(cls, data: Any, class_weight: str = "none") -> TrialData:
        """The arrays of a :class:`~retroprop.cli.prepare.PreparedData` (which has a validation
        split), weighted as ``retroprop train --class-weight`` weighs them.

        Raises
        ------
        ValueError
            When the data have no validation rows to score the trials on.
        """
        from retroprop.cli.outputs import split_weights

        if "validation" not in data.X:
            raise ValueError("a search scores each trial on validation rows: --validation-size > 0")
        return cls(
            X_train=data.X["train"],
            y_train=data.y("train"),
            X_val=data.X["validation"],
            y_val=np.asarray(data.targets["validation"]),
            target=data.target,
            w_train=split_weights(data, "train", class_weight),
            w_val=split_weights(data, "validation", class_weight),
        )


@dataclass(frozen=True)
class TrialResult:
    """How one trial went.

    Attributes
    ----------
    index : int
        The trial's number in the search (0, 1, ...).
    seed : int
        Its training seed (weights, shuffling, dropout).
    settings : mapping
        The options it tried (``lr``, ``layers``, ...), as ``retroprop train`` names them.
    status : {"ok", "diverged", "failed"}
    score : float or None
        The validation loss as trained (lower is better); None when it did not finish.
    scores : mapping
        The validation scores: "loss", and "accuracy" or "mae", "rmse", "r2".
    epochs : int
        Epochs trained (early stopping may end it before the last).
    seconds : float
    error : str
        Why it diverged or failed ("" when it is "ok").
    """

    index: int
    seed: int
    settings: Mapping[str, Any]
    status: str
    score: float | None = None
    scores: Mapping[str, float] = field(default_factory=dict)
    epochs: int = 0
    seconds: float = 0.0
    error: str = ""

    def row(self) -> dict[str, Any]:
        """A flat row for ``trials.csv``, ``trials.json`` and the report's table.

        Examples
        --------
        >>> TrialResult(2, 7, {"lr": 0.01}, "ok", 0.25, {"loss": 0.25, "accuracy": 0.9}).row()
        {'trial': 2, 'status': 'ok', 'score': 0.25, 'lr': 0.01, 'val_accuracy': 0.9, \
'epochs': 0, 'seconds': 0.0, 'seed': 7, 'error': ''}
        """
        extra = {f"val_{k}": v for k, v in self.scores.items() if k != "loss"}
        return {
            "trial": self.index,
            "status": self.status,
            "score": self.score,
            **dict(self.settings),
            **extra,
            "epochs": self.epochs,
            "seconds": round(self.seconds, 3),
            "seed": self.seed,
            "error": self.error,
        }


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS on one thread while the block runs (threadpoolctl, when installed): a worker per
    core does not oversubscribe, and a trial computes the same sums wherever it runs."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn brings it
        yield
        return
    with threadpool_limits(limits=1):
        yield


def _callbacks(config: Any, optimizer: Any) -> list[Any]:
    """Early stopping on the validation loss and the lr decay, as ``retroprop train`` sets them."""
    from retroprop.training import EarlyStopping

    callbacks: list[Any] = []
    if config.early_stopping:
        callbacks.append(EarlyStopping(monitor="val_loss", patience=config.early_stopping))
    if config.lr_decay is not None:
        from retroprop.optim.lr_scheduler import ExponentialLR

        callbacks.append(ExponentialLR(optimizer, gamma=config.lr_decay))
    return callbacks


def _train(data: TrialData, config: Any) -> tuple[Any, Any]:
    """(the trained model, its History), as ``retroprop train`` trains it."""
    import retroprop as rp
    from retroprop.cli.network import config_network, training_view
    from retroprop.cli.train import make_optimizer

    model = config_network(config, data.X_train.shape[1], data.target)
    trained, loss = training_view(model, data.target)
    optimizer = make_optimizer(model, config)
    y_val = data.target.encode(data.y_val)
    validation = (data.X_val, y_val) + (() if data.w_val is None else (data.w_val,))
    history = rp.fit(
        trained,
        data.X_train,
        data.y_train,
        loss=loss,
        optimizer=optimizer,
        epochs=config.epochs,
        batch_size=config.batch,
        sample_weight=data.w_train,
        validation_data=validation,
        callbacks=_callbacks(config, optimizer),
        metrics=["accuracy"] if data.target.classification else ["r2"],
        verbose=0,
        seed=config.seed,
    )
    return model, history


def run_trial(data: TrialData, config: Any, index: int, settings: Mapping[str, Any]) -> TrialResult:
    """Train with ``config`` (a :class:`~retroprop.cli.config.TrainConfig` holding the trial's
    settings and seed) and score the model on the validation rows.

    Never raises for a bad trial: divergence and errors are returned as its status.
    """
    from retroprop.cli.network import evaluate
    from retroprop.training import DivergenceError

    started = time.perf_counter()
    common = {"index": index, "seed": config.seed, "settings": dict(settings)}
    try:
        with one_blas_thread(), np.errstate(all="ignore"):
            model, history = _train(data, config)
            scores = evaluate(
                model, data.X_val, data.y_val, data.target, data.w_val, config.threshold
            )
    except DivergenceError as error:
        return TrialResult(
            **common, status="diverged", seconds=time.perf_counter() - started, error=str(error)
        )
    except Exception as error:  # a trial's failure is recorded, never fatal to the search
        message = f"{type(error).__name__}: {error}"
        return TrialResult(
            **common, status="failed", seconds=time.perf_counter() - started, error=message
        )
    loss = scores["loss"]
    finite = bool(np.isfinite(loss))
    return TrialResult(
        **common,
        status="ok" if finite else "diverged",
        score=float(loss) if finite else None,
        scores={k: float(v) for k, v in scores.items()},
        epochs=len(history.epoch),
        seconds=time.perf_counter() - started,
        error="" if finite else "the validation loss is not finite",
    )
