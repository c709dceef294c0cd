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

__all__ = ["SavedRun", "open_model"]


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
            preprocessing = Preprocessing.from_json(metadata["preprocessing"])
            target = Target.from_json(metadata["target"])
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as error:
            raise CLIError(
                f"{path}/config.json has an unreadable preprocessing: {error}"
            ) from error
        _check_widths(path, model, preprocessing, target)
    return SavedRun(Path(path), model, metadata, preprocessing, target)


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
