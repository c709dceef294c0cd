"""The verdict on a run: one line for the top of the terminal output and the report, and the
findings under it, each with the command-line flag to try.

What is looked for, on the weights kept:

==================  ===================================================================
finding             when
==================  ===================================================================
overfit             the validation loss rose well above its best (25% and 0.02) and the
                    last weights were kept; or early stopping kept the best ones (a note)
dead units          half or more of a ReLU layer's units are 0 on every sampled training row
no better than      the held-out score is within :data:`MARGIN` of the baseline's
the baseline        (majority class, or the training mean)
barely above the    accuracy within 0.01 of the majority class while the classes are
majority class      imbalanced: accuracy says little; look at the balanced scores
collapsed outputs   a regression gives one identical value to 20% or more of the rows
still improving     the best epoch is the last one and the epoch cap was reached
==================  ===================================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Verdict", "judge", "dead_units", "HEADLINE", "MARGIN"]

HEADLINE = {"binary": "roc_auc", "multiclass": "accuracy", "regression": "r2"}
NAMES = {"roc_auc": "ROC AUC", "accuracy": "accuracy", "r2": "R²"}
MARGIN = 0.02
LEVELS = ("ok", "warn", "bad")


@dataclass
class Verdict:
    """One line, its level, and the findings (sentences that name a flag to try).

    Examples
    --------
    >>> v = Verdict("test accuracy 0.9", findings=[("warn", "overfit: try --l2")])
    >>> v.level, str(v)
    ('warn', 'Warning: test accuracy 0.9. overfit: try --l2')
    """

    line: str
    findings: list[tuple[str, str]] = field(default_factory=list)

    @property
    def level(self) -> str:
        """The worst level of the findings ("ok" with none)."""
        return max((level for level, _ in self.findings), key=LEVELS.index, default="ok")

    def __str__(self) -> str:
        prefix = {"ok": "Good", "warn": "Warning", "bad": "Problem"}[self.level]
        return " ".join([f"{prefix}: {self.line}."] + [text for _, text in self.findings])


def dead_units(model: Any, X: np.ndarray, max_rows: int = 2000) -> list[tuple[int, int, int]]:
    """(hidden layer number, dead units, units) for each ReLU layer of a Sequential model:
    a unit is dead when its output is 0 on every one of (up to ``max_rows``) rows of X."""
    import retroprop as rp
    from retroprop.nn.inference import evaluating

    rows = X[:: max(1, len(X) // max_rows)][:max_rows]
    found, layer = [], 0
    with evaluating(model), np.errstate(all="ignore"):
        a = rp.tensor(rows)
        for module in model:
            a = module(a)
            if type(module).__name__ == "ReLU":
                layer += 1
                alive = np.any(a.data > 0, axis=0)
                found.append((layer, int((~alive).sum()), int(alive.size)))
    return found


def _overfit(history: Mapping[str, Sequence[float]], best_epoch: int | None) -> list:
    losses = np.asarray(history.get("val_loss", []), dtype=np.float64)
    if losses.size < 3 or not np.all(np.isfinite(losses)):
        return []
    best, best_at, peak_after = losses.min(), int(losses.argmin()), losses[losses.argmin() :].max()
    if not (peak_after > 1.25 * best and peak_after - best > 0.02):
        return []
    rose = f"the validation loss rose from {best:.4g} (epoch {best_at + 1}) to {peak_after:.4g}"
    if best_epoch is not None:
        return [("ok", f"Overfitting caught: {rose}; the weights of epoch {best_epoch} are kept.")]
    return [
        (
            "bad",
            f"The model overfit: {rose} and the last weights were kept. Try --early-stopping 10 "
            "(keeps the best epoch), --l2 1e-4 or --dropout 0.2.",
        )
    ]


def _baseline(task: str, scores: Mapping[str, float], baseline: Mapping[str, float]) -> list:
    key = HEADLINE[task]
    value, base = scores.get(key, np.nan), baseline.get(key, np.nan)
    if not np.isfinite(value) or value <= base + MARGIN:
        what = "predicting the training mean" if task == "regression" else "the majority class"
        return [
            (
                "bad",
                f"The model is no better than the baseline ({what}: {NAMES[key]} {base:.3f}, "
                f"the model {value:.3f}). Try a higher --lr, more --epochs or other --layers.",
            )
        ]
    accuracy, majority = scores.get("accuracy"), baseline.get("accuracy")
    if task == "binary" and accuracy is not None and accuracy < majority + 0.01:
        return [
            (
                "warn",
                f"Accuracy {accuracy:.3f} is barely above the majority class's {majority:.3f}: "
                "the classes are imbalanced, so read balanced accuracy and recall; try "
                "--class-weight balanced or a lower --threshold.",
            )
        ]
    return []


def _collapse(prediction: np.ndarray | None) -> list:
    if prediction is None or len(prediction) < 20:
        return []
    _, counts = np.unique(np.round(prediction, 6), return_counts=True)
    share = counts.max() / len(prediction)
    if share < 0.2:
        return []
    return [
        (
            "warn",
            f"{share:.0%} of the held-out rows get one identical prediction: the network's "
            "units died for them. Try --activation leaky_relu or a lower --lr.",
        )
    ]


def _dead(layers: Sequence[tuple[int, int, int]]) -> list:
    worst = [(k, dead, n) for k, dead, n in layers if n and dead / n >= 0.5]
    if not worst:
        return []
    text = ", ".join(f"{dead} of {n} units of hidden layer {k}" for k, dead, n in worst)
    return [
        (
            "warn",
            f"Dead units: {text} output 0 on every training row. Try --activation leaky_relu "
            "or a lower --lr.",
        )
    ]


def judge(
    task: str,
    metrics: Mapping[str, Mapping[str, float]],
    history: Mapping[str, Sequence[float]],
    best_epoch: int | None,
    dead: Sequence[tuple[int, int, int]] = (),
    prediction: np.ndarray | None = None,
    epochs_cap: int | None = None,
) -> Verdict:
    """The verdict of a finished run (see the module's table for what is looked for).

    Examples
    --------
    >>> metrics = {"test": {"roc_auc": 0.52, "accuracy": 0.97},
    ...            "baseline (test)": {"roc_auc": 0.5, "accuracy": 0.967}}
    >>> verdict = judge("binary", metrics, {"val_loss": [0.43, 0.9, 2.29]}, None)
    >>> verdict.level, [level for level, _ in verdict.findings]
    ('bad', ['bad', 'bad'])
    """
    held_out = next(s for s in ("test", "validation", "train") if s in metrics)
    scores, baseline = metrics[held_out], metrics.get(f"baseline ({held_out})", {})
    key = HEADLINE[task]
    line = f"{held_out} {NAMES[key]} {scores.get(key, np.nan):.3f}"
    if key in baseline:
        line += f" (baseline {baseline[key]:.3f})"
    findings = [
        *_baseline(task, scores, baseline),
        *_overfit(history, best_epoch),
        *_dead(dead),
        *(_collapse(prediction) if task == "regression" else []),
    ]
    losses = np.asarray(history.get("val_loss") or history.get("loss") or [], dtype=np.float64)
    finite = losses.size and np.all(np.isfinite(losses))
    if finite and losses.size == epochs_cap and int(np.argmin(losses)) == losses.size - 1:
        findings.append(
            ("ok", "The loss was still improving at the last epoch: more --epochs may help.")
        )
    return Verdict(line, findings)
