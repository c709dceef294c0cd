"""What a finished training run produced, as the report's panels read it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Evaluation", "RunRecord"]


class Evaluation:
    """Predictions on one split, for the confusion matrix or the predicted-vs-true plot.

    Parameters
    ----------
    split : str
        "test", "validation" or "train".
    y_true, y_pred : ndarray
        Class indices (classification) or values (regression).
    """

    def __init__(self, split: str, y_true: np.ndarray, y_pred: np.ndarray) -> None:
        self.split = split
        self.y_true = np.asarray(y_true)
        self.y_pred = np.asarray(y_pred)


@dataclass(frozen=True)
class RunRecord:
    """Everything a training run produced that a report panel may show.

    Each panel reads the fields it needs and leaves the others; a field left at its default
    (None) means the run has nothing of that kind, and the panels that need it are left out.

    Attributes
    ----------
    title : str
        The page's heading ("retroprop: circles").
    status : str
        One sentence on how the run ended (completed, early stopped, interrupted, diverged).
    settings : mapping
        Name -> value: the run's options, shown as a table.
    history : mapping
        ``History.history``: per-epoch "loss", "val_loss", metrics, "lr".
    epochs : sequence of int
        The epoch numbers of ``history``.
    metrics : mapping
        Split name -> {"loss": ..., "accuracy": ...}: the final figures.
    status_level : {"ok", "warn", "bad"}
        The colour of the status line.
    model : Module, optional
        Drawn with its layer widths and parameter counts.
    class_names : sequence of str, optional
        Classification: the names of the classes, in the model's order (None: regression).
    evaluation : Evaluation, optional
        Predictions on a held-out split: a confusion matrix (classification) or predicted
        against true values (regression).
    boundary : retroprop.report.figures.Boundary, optional
        For 2-D data: the decision boundary with the points.
    best_epoch : int, optional
        The epoch whose weights were kept (early stopping), marked on the curves.
    loss_name, target_name : str
        For the axis labels.
    gradient_flow : retroprop.report.gradient_flow.GradientFlow, optional
        The per-layer gradient figures recorded during training.
    command : str
        The command that reproduces the run, seed included ("" when there is none).
    verdict : str
        One line on how good the model is, then the findings with the flag to try.
    details : mapping, optional
        Classification: "per_class" precision/recall/F1/support and "confusion_matrix".
    data_summary : mapping, optional
        Each input column's kind and missing values, and the class balance
        (``retroprop.cli.data_summary.summarise_data``).
    trials : sequence of mapping, optional
        A search's trials (``retroprop tune``), best first: "trial", "status", "score" and
        each setting (:mod:`retroprop.report.trials`).

    Examples
    --------
    >>> record = RunRecord("demo", "completed 2 epochs", {"lr": 0.3}, {"loss": [0.7, 0.5]},
    ...                    [1, 2], {"train": {"loss": 0.5}})
    >>> record.classification, record.model is None
    (False, True)
    """

    title: str
    status: str
    settings: Mapping[str, Any]
    history: Mapping[str, Sequence[float]]
    epochs: Sequence[int]
    metrics: Mapping[str, Mapping[str, Any]]
    status_level: str = "ok"
    model: Any = None
    class_names: Sequence[str] | None = None
    evaluation: Evaluation | None = None
    boundary: Any = None
    best_epoch: int | None = None
    loss_name: str = "loss"
    target_name: str = "target"
    gradient_flow: Any = None
    command: str = ""
    verdict: str = ""
    details: Mapping[str, Any] | None = None
    data_summary: Mapping[str, Any] | None = None
    trials: Sequence[Mapping[str, Any]] | None = None

    @property
    def classification(self) -> bool:
        """Whether the run predicts classes (it has class names)."""
        return self.class_names is not None
