"""Opening a model folder written by ``retroprop train``: the model and its preprocessing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def open_model(path: str) -> SavedRun:
    """Load a model folder; missing or foreign folders raise CLIError.

    Raises
    ------
    CLIError
        When ``rp.load`` raises ``ModelFileError`` (missing, incomplete, corrupt, not
        written by retroprop), or the stored preprocessing is unreadable.
    """
    import retroprop as rp
    from retroprop.io import ModelFileError, read_config

    try:
        metadata = read_config(path).get("metadata") or {}
        model = rp.load(path)
    except ModelFileError as error:
        raise CLIError(str(error), hint="give the folder `retroprop train --out` wrote") from error
    preprocessing = target = None
    if "preprocessing" in metadata and "target" in metadata:
        try:
            preprocessing = Preprocessing.from_json(metadata["preprocessing"])
            target = Target.from_json(metadata["target"])
        except (KeyError, TypeError, ValueError) as error:
            raise CLIError(
                f"{path}/config.json has an unreadable preprocessing: {error}"
            ) from error
    return SavedRun(Path(path), model, metadata, preprocessing, target)
