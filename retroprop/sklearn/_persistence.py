"""Saving a fitted estimator without pickle: :func:`retroprop.save` plus JSON metadata.

The network goes to ``model.safetensors`` and ``config.json`` as for any model; the estimator
adds, under the metadata key ``"sklearn_estimator"``, its class name, ``get_params()``, the
classes (with their dtype) and the fitted attributes, all as plain JSON values. Loading
rebuilds the estimator from an allowlist of two classes and never runs code from the file.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.validation import check_is_fitted

from retroprop.io import load, read_config, save
from retroprop.sklearn._predictor import float64_copy

__all__ = ["save_estimator", "load_estimator", "METADATA_KEY"]

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


def _array(stored: dict[str, Any]) -> np.ndarray:
    return np.array(stored["values"], dtype=stored["dtype"])


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


def load_estimator(path: Any, expected: type | None = None) -> Any:
    """Load an estimator saved by :func:`save_estimator`.

    Parameters
    ----------
    path : path-like
        The directory.
    expected : class, optional
        Raise ValueError unless the saved estimator is of this class.

    Raises
    ------
    ValueError
        When the directory holds no estimator, or not the expected one.
    """
    from retroprop.sklearn.classifier import MLPClassifier
    from retroprop.sklearn.regressor import MLPRegressor

    record = read_config(path).get("metadata", {}).get(METADATA_KEY)
    if not isinstance(record, dict):
        raise ValueError(
            f"{path} holds a retroprop model but no estimator; load it with retroprop.load"
        )
    classes = {"MLPClassifier": MLPClassifier, "MLPRegressor": MLPRegressor}
    cls = classes.get(record.get("estimator"))
    if cls is None:
        raise ValueError(f"{path}: unknown estimator {record.get('estimator')!r}")
    if expected is not None and not issubclass(cls, expected):
        raise ValueError(f"{path} holds a {cls.__name__}, not a {expected.__name__}")
    params = dict(record["params"])
    if isinstance(params.get("hidden_layer_sizes"), list):
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    estimator = cls(**params)
    estimator.model_ = load(path)
    fitted = record["fitted"]
    for name in _PLAIN_ATTRIBUTES:
        setattr(estimator, name, fitted[name])
    sizes, *rest = fitted["_architecture"]
    estimator._architecture = (tuple(sizes), *rest)
    if "feature_names_in_" in fitted:
        estimator.feature_names_in_ = np.array(fitted["feature_names_in_"], dtype=object)
    if "classes" in record:
        binarizer = LabelBinarizer()
        binarizer.classes_ = _array(record["classes"])
        binarizer.y_type_ = record["classes"]["y_type"]
        binarizer.sparse_input_ = False
        estimator._label_binarizer = binarizer
        estimator.classes_ = binarizer.classes_
    estimator.optimizer_ = None
    estimator._optimizer_solver = None
    estimator._best_state = None
    estimator._predictor = float64_copy(estimator.model_)
    return estimator
