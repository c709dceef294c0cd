"""Saving a fitted estimator without pickle: :func:`retroprop.save` plus JSON metadata.

The network goes to ``model.safetensors`` and ``config.json`` as for any model; the estimator
adds, under the metadata key ``"sklearn_estimator"``, its class name, ``get_params()``, the
classes (with their dtype) and the fitted attributes, all as plain JSON values. Loading
rebuilds the estimator from an allowlist of two classes and never runs code from the file.

Before anything is built, the record is checked against an allowlist of keys and kinds
(:func:`check_record`): a counter stored as a float, a string ``format_version``, an unknown
parameter, a missing key, a class list that does not fit the network's outputs or a dtype
string outside the few a class array can have (so no dtype can allocate gigabytes) are each a
:class:`~retroprop.io.ModelFileError` naming the file and the field.
"""

from __future__ import annotations

import re
import warnings
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.validation import check_is_fitted

from retroprop.io import DEFAULT_MAX_BYTES, ModelFileError, load_with_config, save
from retroprop.sklearn._predictor import float64_copy

__all__ = ["save_estimator", "load_estimator", "check_record", "METADATA_KEY"]

METADATA_KEY = "sklearn_estimator"
FORMAT_VERSION = 1
# Fitted attributes stored as they are (numbers, strings, lists of numbers, None).
_PLAIN_ATTRIBUTES = (
    "n_features_in_",
    "n_outputs_",
    "n_layers_",
    "out_activation_",
    "n_iter_",
    "t_",
    "loss_",
    "loss_curve_",
    "best_loss_",
    "validation_scores_",
    "validation_loss_curve_",
    "best_validation_score_",
    "best_validation_loss_",
    "_no_improvement_count",
    "_output_kind",
    "_tracking",
)


# The kind of every fitted attribute, checked on load: a counter is an int, never 3.0.
_COUNTERS = ("n_features_in_", "n_outputs_", "n_layers_", "n_iter_", "t_", "_no_improvement_count")
_NUMBERS = ("loss_", "best_loss_", "best_validation_score_", "best_validation_loss_")
_CURVES = ("loss_curve_", "validation_scores_", "validation_loss_curve_")
_RECORD_KEYS = {"format_version", "estimator", "params", "dropped_params", "fitted"}
_Y_TYPES = ("binary", "multiclass", "multilabel-indicator")
# A class array's dtype: bool, integers, floats, object, or text as long as the longest class.
_CLASS_DTYPE = re.compile(r"[<>|=]?(b1|[iu][1248]|f[248]|O|U(\d{1,6}))")


def _plain(value: Any) -> Any:
    """``value`` as JSON data (numpy scalars and arrays to Python), or raise TypeError."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        return float(value)
    if isinstance(value, np.ndarray):
        return [_plain(item) for item in value.tolist()]
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, type) and issubclass(value, np.generic):
        return np.dtype(value).name
    raise TypeError(f"{type(value).__name__} is not JSON data")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_fitted(fitted: Any, fail: Any) -> None:
    if not isinstance(fitted, dict):
        fail("'fitted' must be a JSON object")
    expected = {*_PLAIN_ATTRIBUTES, "_architecture"}
    missing = sorted(expected - set(fitted))
    unknown = sorted(set(fitted) - expected - {"feature_names_in_"})
    if missing or unknown:
        fail(f"fitted attributes {'missing ' + str(missing) if missing else ''}"
             f"{' unknown ' + str(unknown) if unknown else ''}")  # fmt: skip
    for name in _COUNTERS:
        value = fitted[name]
        if not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
            fail(f"{name} must be a non-negative integer, got {value!r:.40}")
    for name in _NUMBERS:
        if fitted[name] is not None and not _is_number(fitted[name]):
            fail(f"{name} must be a number or null, got {fitted[name]!r:.40}")
    for name in _CURVES:
        curve = fitted[name]
        if curve is not None and not (
            isinstance(curve, list) and all(v is None or _is_number(v) for v in curve)
        ):
            fail(f"{name} must be a list of numbers or null")
    for name in ("out_activation_", "_output_kind"):
        if not isinstance(fitted[name], str):
            fail(f"{name} must be a string, got {fitted[name]!r:.40}")
    if fitted["_tracking"] is not None and not isinstance(fitted["_tracking"], bool):
        fail(f"_tracking must be true, false or null, got {fitted['_tracking']!r:.40}")
    architecture = fitted["_architecture"]
    if not (
        isinstance(architecture, list)
        and architecture
        and isinstance(architecture[0], list)
        and all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in architecture[0])
        and all(v is None or isinstance(v, str | int | float | bool) for v in architecture[1:])
    ):
        fail("_architecture must be [layer sizes, then plain settings]")
    names = fitted.get("feature_names_in_", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        fail("feature_names_in_ must be a list of strings")


def _check_classes(classes: Any, fail: Any) -> None:
    if not isinstance(classes, dict) or set(classes) != {"values", "dtype", "y_type"}:
        fail("'classes' must hold exactly values, dtype and y_type")
    values, dtype = classes["values"], classes["dtype"]
    if classes["y_type"] not in _Y_TYPES:
        fail(f"classes.y_type must be one of {', '.join(_Y_TYPES)}, got {classes['y_type']!r:.40}")
    if not isinstance(values, list) or not values:
        fail("classes.values must be a non-empty list")
    if not all(isinstance(v, str | int | float | bool) for v in values):
        fail("classes.values must hold strings, numbers or booleans")
    match = _CLASS_DTYPE.fullmatch(dtype) if isinstance(dtype, str) else None
    longest = max(len(str(v)) for v in values)
    if match is None or (match.group(2) is not None and int(match.group(2)) > max(longest, 1)):
        fail(
            f"classes.dtype {dtype!r:.40} is not allowed (bool, integer, float, object, or text "
            f"no wider than the longest class, {longest})"
        )


def check_record(record: Any, where: Any) -> None:
    """Check an estimator record's keys and kinds against the allowlist (no values used).

    Raises
    ------
    ModelFileError
        Naming ``where`` (the config file) and the first field that is missing, unknown, or of
        the wrong kind.
    """

    def fail(problem: str) -> None:
        raise ModelFileError(f"{where}: the saved estimator record is invalid: {problem}")

    if not isinstance(record, dict):
        fail("not a JSON object")
    missing = sorted(_RECORD_KEYS - set(record))
    unknown = sorted(set(record) - _RECORD_KEYS - {"classes"})
    if missing or unknown:
        fail(f"keys {'missing ' + str(missing) if missing else ''}"
             f"{' unknown ' + str(unknown) if unknown else ''}")  # fmt: skip
    version = record["format_version"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        fail(f"format_version must be a positive integer, got {version!r:.40}")
    if version > FORMAT_VERSION:
        fail(f"format_version {version} is newer than this retroprop reads ({FORMAT_VERSION})")
    if not isinstance(record["params"], dict):
        fail("'params' must be a JSON object")
    dropped = record["dropped_params"]
    if not isinstance(dropped, list) or not all(isinstance(name, str) for name in dropped):
        fail("'dropped_params' must be a list of names")
    _check_fitted(record["fitted"], fail)
    if "classes" in record:
        _check_classes(record["classes"], fail)


def _check_outputs(estimator: Any, record: dict[str, Any], where: Any) -> None:
    """The network takes ``n_features_in_`` columns and has one output per class (or target)."""
    from retroprop.nn.inference import predict

    columns = estimator.n_features_in_
    dtype = next(iter(estimator.model_.parameters())).data.dtype  # the network's (X's) dtype
    try:
        width = predict(estimator.model_, np.zeros((1, columns), dtype=dtype)).shape[-1]
    except (ValueError, TypeError) as error:
        raise ModelFileError(
            f"{where}: n_features_in_={columns} does not fit the network: {error}"
        ) from error
    classes = record.get("classes")
    if classes is None:
        fits, expected = width == estimator.n_outputs_, f"n_outputs_={estimator.n_outputs_}"
    elif classes["y_type"] == "binary":
        fits, expected = len(classes["values"]) == 2 and width in (1, 2), "2 classes"
    else:
        fits, expected = width == len(classes["values"]), f"{len(classes['values'])} classes"
    if not fits:
        raise ModelFileError(
            f"{where}: the network has {width} outputs, which does not fit the record's "
            f"{expected} (a cut or edited class list)"
        )


def save_estimator(estimator: Any, path: Any) -> Path:
    """Save a fitted MLPClassifier or MLPRegressor to the directory ``path``.

    Parameters that are not JSON data (callbacks, a callable init, a RandomState) are stored
    as None, with a warning naming them; the weights do not depend on them.

    Returns
    -------
    pathlib.Path
        The directory.
    """
    check_is_fitted(estimator)
    params, dropped = {}, []
    for name, value in estimator.get_params(deep=False).items():
        try:
            params[name] = _plain(value)
        except TypeError:
            params[name] = None
            dropped.append(name)
    if dropped:
        warnings.warn(
            f"{type(estimator).__name__}.save: {', '.join(dropped)} cannot be stored as data "
            "and will be None when loaded (the weights and predictions are unaffected)",
            UserWarning,
            stacklevel=3,
        )
    fitted = {name: _plain(getattr(estimator, name)) for name in _PLAIN_ATTRIBUTES}
    fitted["_architecture"] = _plain(estimator._architecture)
    if hasattr(estimator, "feature_names_in_"):
        fitted["feature_names_in_"] = _plain(estimator.feature_names_in_)
    record: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "estimator": type(estimator).__name__,
        "params": params,
        "dropped_params": dropped,
        "fitted": fitted,
    }
    if hasattr(estimator, "classes_"):
        binarizer = estimator._label_binarizer
        record["classes"] = {
            "values": _plain(binarizer.classes_),
            "dtype": binarizer.classes_.dtype.str,
            "y_type": binarizer.y_type_,
        }
    return save(estimator.model_, path, metadata={METADATA_KEY: record})


def load_estimator(
    path: Any, expected: type | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> Any:
    """Load an estimator saved by :func:`save_estimator`.

    Parameters
    ----------
    path : path-like
        The directory.
    expected : class, optional
        Raise ValueError unless the saved estimator is of this class.
    max_bytes : int, default retroprop.io.DEFAULT_MAX_BYTES
        The largest weights file accepted (see :func:`retroprop.load`).

    Raises
    ------
    ModelFileError
        When the folder or the estimator record is malformed (see :func:`check_record`).
    ValueError
        When the directory holds no estimator, or not the expected one.
    """
    from retroprop.sklearn.classifier import MLPClassifier
    from retroprop.sklearn.regressor import MLPRegressor

    model, config = load_with_config(path, max_bytes=max_bytes)
    where = Path(path) / "config.json"
    record = config["metadata"].get(METADATA_KEY)
    if record is None:
        raise ValueError(
            f"{path} holds a retroprop model but no estimator; load it with retroprop.load"
        )
    check_record(record, where)
    classes = {"MLPClassifier": MLPClassifier, "MLPRegressor": MLPRegressor}
    cls = classes.get(record["estimator"]) if isinstance(record["estimator"], str) else None
    if cls is None:
        raise ModelFileError(f"{where}: unknown estimator {record['estimator']!r:.40}")
    if expected is not None and not issubclass(cls, expected):
        raise ValueError(f"{path} holds a {cls.__name__}, not a {expected.__name__}")
    params = dict(record["params"])
    unknown = sorted(set(params) - set(cls().get_params(deep=False)))
    if unknown:
        raise ModelFileError(f"{where}: unknown saved parameter(s) {unknown} for {cls.__name__}")
    if isinstance(params.get("hidden_layer_sizes"), list):
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    estimator = cls(**params)
    estimator.model_ = model
    fitted = record["fitted"]
    for name in _PLAIN_ATTRIBUTES:
        setattr(estimator, name, fitted[name])
    sizes, *rest = fitted["_architecture"]
    estimator._architecture = (tuple(sizes), *rest)
    if "feature_names_in_" in fitted:
        estimator.feature_names_in_ = np.array(fitted["feature_names_in_"], dtype=object)
    _check_outputs(estimator, record, where)
    if "classes" in record:
        binarizer = LabelBinarizer()
        binarizer.classes_ = np.array(record["classes"]["values"], dtype=record["classes"]["dtype"])
        binarizer.y_type_ = record["classes"]["y_type"]
        binarizer.sparse_input_ = False
        estimator._label_binarizer = binarizer
        estimator.classes_ = binarizer.classes_
    estimator.optimizer_ = None
    estimator._optimizer_solver = None
    estimator._best_state = None
    estimator._predictor = float64_copy(estimator.model_)
    return estimator
