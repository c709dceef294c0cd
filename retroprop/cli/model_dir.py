"""Opening a model folder written by ``retroprop train``: the model and its preprocessing."""

from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from retroprop.cli.errors import CLIError
from retroprop.cli.tabular import Preprocessing
from retroprop.cli.target import Target

__all__ = ["SavedRun", "open_model", "require_preprocessing", "stored_threshold"]


@dataclass
class SavedRun:
    """A saved model and what ``retroprop train`` stored with it.

    Attributes
    ----------
    path : Path
    model : Module
    metadata : dict
        ``config.json``'s metadata.
    preprocessing : Preprocessing or None
        None for a model saved by ``rp.save`` in a script (no preprocessing stored).
    target : Target or None
    """

    path: Path
    model: Any
    metadata: dict[str, Any]
    preprocessing: Preprocessing | None
    target: Target | None


def open_model(path: str, *, max_bytes: int | None = None) -> SavedRun:
    """Load a model folder (``max_bytes``: see ``rp.load``); bad folders raise CLIError.

    The folder is read once by ``load_with_config``: the manifest, the config and the weights
    are all checked before the model is built, so the metadata used here is the one verified.
    A folder saved before manifests existed loads with its warning turned into a line on stderr.

    Raises
    ------
    CLIError
        When loading raises ``ModelFileError`` (missing, incomplete, corrupt, edited, too large,
        not written by retroprop), or the stored preprocessing is unreadable.
    """
    from retroprop.io import DEFAULT_MAX_BYTES, ModelFileError, load_with_config

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UserWarning)
            model, config = load_with_config(path, max_bytes=max_bytes or DEFAULT_MAX_BYTES)
    except ModelFileError as error:
        raise CLIError(str(error), hint="give the folder `retroprop train --out` wrote") from error
    for warning in caught:
        print(f"retroprop: warning: {warning.message}", file=sys.stderr)
    metadata = config.get("metadata") or {}
    preprocessing = target = None
    if "preprocessing" in metadata and "target" in metadata:
        try:
            _check_lists(metadata["preprocessing"])
            preprocessing = Preprocessing.from_json(metadata["preprocessing"])
            target = Target.from_json(metadata["target"])
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as error:
            raise CLIError(
                f"{path}/config.json has an unreadable preprocessing: {error}"
            ) from error
        _check_stored(path, preprocessing, target, metadata)
        _check_widths(path, model, preprocessing, target)
    return SavedRun(Path(path), model, metadata, preprocessing, target)


def require_preprocessing(saved: SavedRun, model_dir: str, hint: str) -> None:
    """Refuse a model saved without preprocessing (by ``rp.save``, not ``retroprop train``).

    Raises
    ------
    CLIError
        When ``saved.preprocessing`` is None; ``hint`` says what to do instead.
    """
    if saved.preprocessing is None:
        raise CLIError(
            f"{model_dir} holds a model but no preprocessing: it was saved by rp.save, not "
            "by `retroprop train`",
            hint=hint,
        )


def stored_threshold(metadata: dict[str, Any]) -> float:
    """The binary decision threshold saved by ``--threshold`` (0.5 when none was given).

    Examples
    --------
    >>> stored_threshold({"options": {"threshold": 0.3}}), stored_threshold({})
    (0.3, 0.5)
    """
    options = metadata.get("options") or {}
    threshold = options.get("threshold") if isinstance(options, dict) else None
    return 0.5 if threshold is None else float(threshold)


def _check_lists(data: Any) -> None:
    """Raise TypeError when a stored list is not one (``"abc"`` would read as three items)."""
    for key in ("numeric", "categorical", "ranges"):
        for name, values in (data.get(key) or {}).items():
            if not isinstance(values, list):
                raise TypeError(f"{key} of column {name!r} is {values!r}, not a list")


def _check_stored(
    path: str, preprocessing: Preprocessing, target: Target, metadata: dict[str, Any]
) -> None:
    """What ``predict`` and ``export`` compute with is usable: an edited config.json whose
    manifest was rehashed gets one line naming what is wrong, not a traceback or a model
    that predicts NaN (a zero scale, a reversed range, a category listed twice...)."""
    problem = _preprocessing_problem(preprocessing) or _options_problem(metadata, target)
    if problem:
        raise CLIError(
            f"{path}/config.json has an unusable preprocessing: {problem}",
            hint="it was edited or damaged; train the model again",
        )


def _preprocessing_problem(prep: Preprocessing) -> str | None:
    """The first thing wrong in ``prep``, or None."""
    if len(set(prep.columns)) != len(prep.columns):
        return "a column is listed twice"
    schema = {c.name: c.kind for c in prep.schema.columns} if prep.schema else None
    for column in prep.columns:
        if schema is not None and column not in schema:
            return f"column {column!r} has no kind in the schema"
        numeric = column in prep.numeric if schema is None else schema[column] == "numeric"
        if numeric:
            problem = _numeric_problem(prep, column)
            if problem:
                return f"numeric column {column!r}: {problem}"
            continue
        categories = prep.categorical.get(column)
        if not categories or len(set(categories)) != len(categories):
            return f"column {column!r} has no list of distinct categories"
    return None


def _numeric_problem(prep: Preprocessing, column: str) -> str | None:
    stored = prep.numeric.get(column)
    if stored is None or len(stored) != 2:
        return "no mean and scale"
    mean, scale = stored
    if not (np.isfinite(mean) and np.isfinite(scale) and scale > 0):
        return f"mean {mean} and scale {scale} (a finite mean and a positive scale)"
    if len(prep.ranges.get(column, (mean, mean))) != 2:
        return f"range {prep.ranges[column]} (two numbers)"
    low, high = prep.ranges.get(column, (mean, mean))
    median = prep.medians.get(column, mean)
    bounds = np.array([low, high, median], dtype=np.float64)
    with np.errstate(all="ignore"):
        scaled = (bounds - mean) / scale
    if not np.isfinite(bounds).all() or low > high:
        return f"range [{low}, {high}] and median {median} (finite, low <= high)"
    if not (np.abs(scaled) < np.finfo(np.float32).max).all():
        return f"range [{low}, {high}] overflows once scaled by mean {mean} and scale {scale}"
    return None


def _options_problem(metadata: dict[str, Any], target: Target) -> str | None:
    options = metadata.get("options")
    if options is not None and not isinstance(options, dict):
        return f"its options are {type(options).__name__}, not a mapping"
    try:
        threshold = stored_threshold(metadata)
    except (TypeError, ValueError):
        return f"threshold {metadata['options']['threshold']!r} is not a number"
    if not 0.0 < threshold < 1.0:
        return f"threshold {threshold} is not a probability in (0, 1)"
    if target.classification and len(set(target.classes or [])) != len(target.classes or []):
        return f"the classes of {target.name!r} repeat a name: {target.classes}"
    return None


def _check_widths(path: str, model: Any, preprocessing: Preprocessing, target: Target) -> None:
    """The network takes the stored features and has one output per stored class.

    A cut or padded class list, or a task that does not fit the output layer, would otherwise
    surface as an IndexError (or a wrong label) in ``predict``.
    """
    from retroprop.nn.inference import predict

    if target.task not in ("binary", "multiclass", "regression") or (
        target.classification and (not target.classes or len(target.classes) < 2)
    ):
        raise CLIError(f"{path}/config.json has an unreadable target: {target.to_json()!r:.120}")
    features = len(preprocessing.feature_names)
    try:
        width = predict(model, np.zeros((1, features), dtype=np.float32)).shape[-1]
    except (ValueError, TypeError) as error:
        raise CLIError(
            f"{path}/config.json stores {features} input features, which do not fit the "
            f"network: {error}"
        ) from error
    if width != target.output_width or (target.task == "binary" and len(target.classes) != 2):
        what = f"{len(target.classes)} classes" if target.classification else "a regression"
        raise CLIError(
            f"{path}/config.json stores {what} ({target.task}) but the network has {width} "
            "outputs: the class list was cut or edited"
        )
