"""The scores of a run, one source of truth for the terminal, ``metrics.json`` and the report.

The loss is computed as training computed it: from the network's logits (never from clamped
probabilities) with the training objective and the same sample weights, so the final
validation loss is the history's entry for the kept weights. Everything else comes from
``sklearn.metrics``:

==============  ===========================================================================
task            scores
==============  ===========================================================================
classification  accuracy, balanced accuracy, macro F1; binary: ROC AUC, average precision;
                per class: precision, recall, F1, support; the confusion matrix
regression      MAE, RMSE, R² in the target's own units
==============  ===========================================================================

Each split is compared with a **baseline** that learned nothing but the training targets: the
majority class (its training frequency as the probability) or the training mean.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "classification_scores",
    "regression_scores",
    "class_details",
    "decide",
    "balanced_weights",
    "score_rows",
]


def decide(proba: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Class indices from probabilities (n, classes); binary: positive when p >= threshold.

    Examples
    --------
    >>> decide(np.array([[0.7, 0.3], [0.2, 0.8]]), threshold=0.25).tolist()
    [1, 1]
    >>> decide(np.array([[0.1, 0.3, 0.6]])).tolist()
    [2]
    """
    proba = np.asarray(proba, dtype=np.float64)
    if proba.shape[1] == 2:
        return (proba[:, 1] >= threshold).astype(np.int64)
    return proba.argmax(axis=1).astype(np.int64)


def balanced_weights(y: np.ndarray) -> np.ndarray:
    """Per-row weights n / (k * count of the row's class): each class weighs the same in total.

    Examples
    --------
    >>> balanced_weights(np.array([0, 0, 0, 1])).tolist()
    [0.6666666666666666, 0.6666666666666666, 0.6666666666666666, 2.0]
    """
    from sklearn.utils.class_weight import compute_sample_weight

    return compute_sample_weight("balanced", np.asarray(y)).astype(np.float64)


def classification_scores(
    y: np.ndarray, proba: np.ndarray, threshold: float = 0.5
) -> dict[str, float]:
    """Accuracy, balanced accuracy, macro F1, and for two classes ROC AUC and average precision.

    Parameters
    ----------
    y : ndarray of int, shape (n,)
        True class indices.
    proba : ndarray, shape (n, classes)
        Predicted probabilities.
    threshold : float
        Binary decision threshold on the positive class's probability.

    Examples
    --------
    >>> y = np.array([0, 0, 1, 1])
    >>> p1 = np.array([0.1, 0.6, 0.4, 0.9])
    >>> scores = classification_scores(y, np.column_stack([1 - p1, p1]))
    >>> scores["accuracy"], scores["roc_auc"], scores["balanced_accuracy"]
    (0.5, 0.75, 0.5)
    """
    from sklearn import metrics

    y = np.asarray(y, dtype=np.int64)
    proba = np.nan_to_num(np.asarray(proba, dtype=np.float64), nan=1.0 / proba.shape[1])
    predicted = decide(proba, threshold)
    labels = np.arange(proba.shape[1])
    scores = {
        "accuracy": float(metrics.accuracy_score(y, predicted)),
        "balanced_accuracy": _balanced_accuracy(y, predicted, labels),
        "f1_macro": float(
            metrics.f1_score(y, predicted, labels=labels, average="macro", zero_division=0)
        ),
    }
    if proba.shape[1] == 2:
        both = len(np.unique(y)) == 2
        scores["roc_auc"] = float(metrics.roc_auc_score(y, proba[:, 1])) if both else np.nan
        scores["average_precision"] = (
            float(metrics.average_precision_score(y, proba[:, 1])) if both else np.nan
        )
    return scores


def _balanced_accuracy(y: np.ndarray, predicted: np.ndarray, labels: np.ndarray) -> float:
    """Mean recall over the classes present in ``y`` (sklearn's balanced accuracy)."""
    from sklearn.metrics import recall_score

    present = np.unique(y)
    return float(
        recall_score(y, predicted, labels=present, average="macro", zero_division=0)
        if len(labels)
        else np.nan
    )


def class_details(
    y: np.ndarray, proba: np.ndarray, class_names: Sequence[str], threshold: float = 0.5
) -> dict[str, Any]:
    """Per-class precision, recall, F1 and support, and the confusion matrix (rows: true).

    Examples
    --------
    >>> details = class_details(np.array([0, 1, 1]), np.array([[0.9, 0.1], [0.6, 0.4],
    ...                         [0.2, 0.8]]), ["no", "yes"])
    >>> details["per_class"]["yes"]["recall"], details["confusion_matrix"]
    (0.5, [[1, 0], [1, 1]])
    """
    from sklearn import metrics

    predicted = decide(proba, threshold)
    labels = np.arange(len(class_names))
    precision, recall, f1, support = metrics.precision_recall_fscore_support(
        y, predicted, labels=labels, zero_division=0
    )
    per_class = {
        str(name): {
            "precision": float(precision[k]),
            "recall": float(recall[k]),
            "f1": float(f1[k]),
            "support": int(support[k]),
        }
        for k, name in enumerate(class_names)
    }
    matrix = metrics.confusion_matrix(y, predicted, labels=labels)
    return {"per_class": per_class, "confusion_matrix": matrix.tolist()}


def regression_scores(y: np.ndarray, prediction: np.ndarray) -> dict[str, float]:
    """MAE, RMSE and R² in the target's own units; NaN predictions give NaN scores.

    Examples
    --------
    >>> regression_scores(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0]))
    {'mae': 0.3333333333333333, 'rmse': 0.5773502691896257, 'r2': 0.5}
    """
    from sklearn import metrics

    y = np.asarray(y, dtype=np.float64)
    prediction = np.asarray(prediction, dtype=np.float64)
    if not np.all(np.isfinite(prediction)):
        return {"mae": np.nan, "rmse": np.nan, "r2": np.nan}
    return {
        "mae": float(metrics.mean_absolute_error(y, prediction)),
        "rmse": float(np.sqrt(metrics.mean_squared_error(y, prediction))),
        "r2": float(metrics.r2_score(y, prediction)) if len(y) > 1 else np.nan,
    }


def score_rows(
    z: np.ndarray, truth: Any, target: Any, threshold: float = 0.5
) -> tuple[dict[str, float], int]:
    """The train command's scores (loss from the logits ``z``, then the task's scores) on rows
    whose true target is known; returns (scores, rows scored). Rows whose target is missing,
    or a class the model does not know, are left out.

    Examples
    --------
    >>> from retroprop.cli.target import Target
    >>> target = Target("y", "binary", ["no", "yes"])
    >>> scores, n = score_rows(np.array([[-2.0], [2.0], [0.0]]), ["no", "yes", None], target)
    >>> n, scores["accuracy"], scores["roc_auc"]
    (2, 1.0, 1.0)
    """
    from retroprop.cli.network import from_logits, loss_from_logits
    from retroprop.cli.target import _class_name

    values = list(truth)
    if target.classification:
        index = {name: k for k, name in enumerate(target.classes)}
        known = np.array([v is not None and _class_name(v) in index for v in values], dtype=bool)
        y = np.array([index[_class_name(v)] for v, ok in zip(values, known, strict=True) if ok])
    else:
        numbers = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
        known = np.isfinite(numbers)
        y = numbers[known]
    if not known.any():
        return {}, 0
    z = np.asarray(z, dtype=np.float64)[known]
    prediction = from_logits(z, target)
    if target.classification:
        scores = {"loss": loss_from_logits(z, y, target)}
        scores.update(classification_scores(y, prediction, threshold))
    else:
        scores = {"loss": loss_from_logits(z, target.encode(y), target)}
        scores.update(regression_scores(y, prediction))
    return scores, int(known.sum())
