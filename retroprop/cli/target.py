"""The target column: which task it makes, and how its values become what the loss expects.

====================  =================================  =======================================
target                task                               output layer and loss
====================  =================================  =======================================
two classes           binary                             1 sigmoid unit, binary cross-entropy
3 or more classes     multiclass                         logits (softmax), fused cross-entropy
numbers               regression                         1 identity unit, MSE (standardised y)
====================  =================================  =======================================

Text (or boolean) values are classes and keep their names; whole numbers with at most
:data:`MAX_AUTO_CLASSES` distinct values are classes too; other numbers are a regression target.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from retroprop.cli.errors import CLIError

__all__ = ["TASKS", "MAX_AUTO_CLASSES", "Target"]

TASKS = ("auto", "binary", "multiclass", "regression")
MAX_AUTO_CLASSES = 20


def _class_name(value: Any) -> str:
    """'3' for 3 and 3.0, 'cat' for 'cat'."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, np.integer):
        return str(int(value))
    return str(value)


@dataclass
class Target:
    """What the target column is and how to encode it.

    Attributes
    ----------
    name : str
        The column's name.
    task : {"binary", "multiclass", "regression"}
    classes : list of str or None
        Class names, in the order of the model's outputs (class 1 of a binary task is the
        positive one).
    mean, scale : float
        Regression: the model learns (y - mean) / scale, fitted on the training rows.

    Examples
    --------
    >>> import pandas as pd
    >>> target = Target.infer(pd.Series(["dog", "cat", "dog"], name="pet"))
    >>> target.task, target.classes
    ('binary', ['cat', 'dog'])
    >>> target.encode(pd.Series(["dog", "cat"])).tolist()
    [1, 0]
    >>> Target.infer(pd.Series([1.5, 2.0, 7.25, 3.0], name="price")).task
    'regression'
    """

    name: str
    task: str
    classes: list[str] | None = None
    mean: float = 0.0
    scale: float = 1.0

    @property
    def classification(self) -> bool:
        """Whether the task predicts classes."""
        return self.task != "regression"

    @property
    def output_width(self) -> int:
        """Units of the output layer."""
        return len(self.classes) if self.task == "multiclass" else 1

    @classmethod
    def infer(cls, values: Any, task: str = "auto") -> Target:
        """The task and class names of the target ``values`` (``task`` overrides the guess).

        Raises
        ------
        CLIError
            A target with a single class or value, text for a regression, or a task that
            does not fit the number of classes.
        """
        from retroprop.cli.tabular import is_numeric_column

        if task not in TASKS:
            raise CLIError(f"unknown task {task!r}", hint=f"choose one of: {', '.join(TASKS)}")
        name = str(values.name)
        numeric = is_numeric_column(values)
        distinct = values.dropna().unique()
        if len(distinct) < 2:
            shown = _class_name(distinct[0]) if len(distinct) else "nothing"
            raise CLIError(
                f"the target column {name!r} holds a single class ({shown!r}): there is "
                "nothing to learn",
                hint="a classifier needs at least two classes in the target",
            )
        if task == "regression" and not numeric:
            raise CLIError(
                f"--task regression needs numbers, but the target column {name!r} holds text "
                f"such as {_class_name(distinct[0])!r}"
            )
        if task == "auto":
            whole = numeric and bool(np.all(np.mod(distinct.astype(np.float64), 1) == 0))
            if numeric and not (whole and len(distinct) <= MAX_AUTO_CLASSES):
                task = "regression"
            else:
                task = "binary" if len(distinct) == 2 else "multiclass"
        if task == "regression":
            return cls(name, "regression")
        ordered = sorted(distinct, key=float) if numeric else sorted(distinct, key=str)
        classes = list(dict.fromkeys(_class_name(v) for v in ordered))
        if task == "binary" and len(classes) != 2:
            raise CLIError(
                f"--task binary needs 2 classes, but {name!r} has {len(classes)}: "
                f"{', '.join(classes[:10])}{' ...' if len(classes) > 10 else ''}"
            )
        return cls(name, task, classes)

    def fit_scale(self, values: Any) -> Target:
        """Regression: learn the mean and scale of the training targets."""
        if self.task == "regression":
            y = np.asarray(values, dtype=np.float64)
            self.mean = float(y.mean())
            self.scale = float(y.std()) or 1.0
        return self

    def encode(self, values: Any) -> np.ndarray:
        """Class indices (int64) or standardised values (float64)."""
        if self.task == "regression":
            return (np.asarray(values, dtype=np.float64) - self.mean) / self.scale
        index = {name: i for i, name in enumerate(self.classes)}
        return np.array([index[_class_name(v)] for v in values], dtype=np.int64)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data."""
        data: dict[str, Any] = {"name": self.name, "task": self.task}
        if self.classification:
            data["classes"] = list(self.classes)
        else:
            data.update(mean=self.mean, scale=self.scale)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Target:
        """Rebuild from :meth:`to_json`'s output."""
        classes = data.get("classes")
        return cls(
            name=str(data["name"]),
            task=str(data["task"]),
            classes=None if classes is None else [str(c) for c in classes],
            mean=float(data.get("mean", 0.0)),
            scale=float(data.get("scale", 1.0)),
        )
