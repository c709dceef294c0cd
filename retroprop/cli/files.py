"""Writing a run's files atomically: a temporary file in the same directory, then ``os.replace``.

A crash or a Ctrl-C while writing leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["atomic_write", "write_json", "write_history_csv", "json_safe"]


def atomic_write(path: str | os.PathLike[str], data: bytes | str) -> Path:
    """Write ``data`` to ``path`` through a temporary file and ``os.replace``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> atomic_write(folder / "a.txt", "hello").read_text()
    'hello'
    >>> sorted(p.name for p in folder.iterdir())  # no temporary file left behind
    ['a.txt']
    """
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; give a normal file's mode
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


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
