"""Writing a run's files atomically: a temporary file in the same directory, then ``os.replace``.

A crash or a Ctrl-C while writing leaves either the old file or the new one, never half of one.
Every failure is a :class:`~retroprop.io.SaveError` (an ``OSError``) whose message names the
path and the cause in one line, for the command to print with exit code 2. A whole run folder
is written as one unit with :func:`~retroprop.io.staged_folder`.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from retroprop.io import SaveError, atomic_write, staged_folder  # shared with rp.save

__all__ = [
    "atomic_write",
    "staged_folder",
    "SaveError",
    "write_json",
    "write_history_csv",
    "json_safe",
    "check_not_compressed",
]


def json_safe(value: Any) -> Any:
    """``value`` with NaN and inf replaced by None and NumPy scalars made plain (strict JSON).

    Examples
    --------
    >>> json_safe({"loss": float("nan"), "acc": [1.0, float("inf")]})
    {'loss': None, 'acc': [1.0, None]}
    """
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def check_not_compressed(path: str | os.PathLike[str] | None, flag: str = "--data") -> None:
    """Refuse a gzip file whose name does not say so (pandas would read its bytes as text).

    ``train`` and ``predict`` both call it before reading ``--data``; a name ending in .gz or
    .gzip is left to pandas, which decompresses it.

    Raises
    ------
    CLIError
        The file starts with gzip's magic bytes: one line naming it, and how to fix it.

    Examples
    --------
    >>> import gzip, tempfile
    >>> with tempfile.NamedTemporaryFile(suffix=".csv", delete=False) as file:
    ...     _ = file.write(gzip.compress(b"a,b"))
    >>> check_not_compressed(file.name)
    Traceback (most recent call last):
    ...
    retroprop.cli.errors.CLIError: --data ... is gzip-compressed, not a plain CSV
    >>> os.remove(file.name)
    """
    from retroprop.cli.errors import CLIError

    if not path or os.fspath(path).lower().endswith((".gz", ".gzip")):
        return
    try:
        with open(path, "rb") as file:
            magic = file.read(2)
    except OSError:
        return  # reading it names the problem
    if magic == b"\x1f\x8b":
        raise CLIError(
            f"{flag} {path} is gzip-compressed, not a plain CSV",
            hint=f"decompress it (gunzip -c {path} > data.csv) or name it {path}.gz",
        )


def write_json(path: str | os.PathLike[str], data: Any) -> Path:
    """Write ``data`` as indented, strict JSON (no NaN), atomically."""
    text = json.dumps(json_safe(data), indent=2, allow_nan=False, ensure_ascii=False)
    return atomic_write(path, text + "\n")


def write_history_csv(
    path: str | os.PathLike[str], epochs: Sequence[int], history: Mapping[str, Sequence[float]]
) -> Path:
    """One row per epoch: ``epoch`` and each logged quantity, atomically.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "history.csv"
    >>> print(write_history_csv(path, [1, 2], {"loss": [0.5, 0.25]}).read_text(), end="")
    epoch,loss
    1,0.5
    2,0.25
    """
    keys = list(history)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["epoch", *keys])
    for row, epoch in enumerate(epochs):
        values = [history[key][row] if row < len(history[key]) else "" for key in keys]
        writer.writerow([epoch, *(repr(float(v)) if v != "" else "" for v in values)])
    return atomic_write(path, buffer.getvalue())
