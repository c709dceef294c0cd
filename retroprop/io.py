"""Saving and loading models without pickle: JSON for the architecture, safetensors for weights.

``rp.save(model, path)`` writes a directory holding

- ``model.safetensors``: every parameter and buffer, by name (the state dict);
- ``config.json``: the format, the architecture as nested module configs, the SHA-256 of the
  weights file, and any metadata the caller adds.

Each file is written to a temporary name and moved into place (``os.replace``), weights first,
so a crash never leaves a half-written file; the checksum ties the two together, so a crash
between the two moves, a corrupt file or a tampered one is reported, not loaded. Loading builds
modules only from retroprop's allowlist of built-in classes and reads arrays only: it never runs
code from the file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["save", "load", "read_config", "atomic_write", "ModelFileError", "FORMAT"]

FORMAT = "retroprop-model"
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"


class ModelFileError(ValueError):
    """A model directory that is missing, incomplete, corrupt, or not written by retroprop."""


def atomic_write(path: str | os.PathLike[str], data: bytes | str) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` through a temporary file and ``os.replace``.

    A crash or a Ctrl-C while writing leaves either the old file or the new one, never half of
    one, and no temporary file. The file gets a normal mode (0666 less the umask), not
    ``mkstemp``'s 0600.

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
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return path


def _safetensors_numpy():
    try:
        from safetensors import numpy as st_numpy
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "saving and loading models needs safetensors: pip install 'retroprop[io]'"
        ) from error
    return st_numpy


def save(model: Any, path: str | os.PathLike[str], metadata: dict[str, Any] | None = None) -> Path:
    """Save ``model`` to the directory ``path`` (created if missing), atomically.

    Parameters
    ----------
    model : Module
        A model made of retroprop's built-in modules.
    path : path-like
        The directory to write ``config.json`` and ``model.safetensors`` into.
    metadata : dict, optional
        JSON-serialisable extras stored in ``config.json`` (e.g. preprocessing, class names).

    Returns
    -------
    Path
        The directory.

    Raises
    ------
    TypeError
        When the model holds a module retroprop cannot describe (a user-defined class).

    Examples
    --------
    >>> import tempfile
    >>> model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    >>> folder = rp.save(model, tempfile.mkdtemp() + "/model")
    >>> again = rp.load(folder)
    >>> x = rp.tensor(np.ones((1, 2), dtype=np.float32))
    >>> bool(np.array_equal(model(x).data, again(x).data))
    True
    """
    from retroprop.nn.config import module_to_config

    st_numpy = _safetensors_numpy()
    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    architecture = module_to_config(model)
    state = {  # ascontiguousarray alone would turn a 0-d buffer into shape (1,)
        name: np.ascontiguousarray(array).reshape(array.shape)
        for name, array in model.state_dict().items()
    }
    weights = st_numpy.save(state, metadata={"format": FORMAT})
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "architecture": architecture,
        "weights_file": WEIGHTS_FILE,
        "weights_sha256": hashlib.sha256(weights).hexdigest(),
        "tensors": {
            name: {"shape": list(a.shape), "dtype": str(a.dtype)} for name, a in state.items()
        },
        "metadata": metadata or {},
    }
    atomic_write(directory / WEIGHTS_FILE, weights)
    atomic_write(directory / CONFIG_FILE, json.dumps(config, indent=2).encode("utf-8"))
    return directory


def read_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check a model directory's ``config.json`` (no weights loaded).

    Raises
    ------
    ModelFileError
        When the directory or file is missing, is not JSON, or was not written by retroprop.
    """
    directory = Path(path)
    if not directory.exists():
        raise ModelFileError(f"no model at {directory}: the directory does not exist")
    if not directory.is_dir():
        raise ModelFileError(f"{directory} is a file; a retroprop model is a directory")
    config_path = directory / CONFIG_FILE
    if not config_path.is_file():
        raise ModelFileError(f"{directory} is not a retroprop model: it has no {CONFIG_FILE}")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelFileError(f"{config_path} is corrupt: not valid JSON ({error})") from error
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ModelFileError(f"{config_path} was not written by retroprop (no format {FORMAT!r})")
    if config.get("format_version", 0) > FORMAT_VERSION:
        raise ModelFileError(
            f"{config_path} has format version {config['format_version']}; this retroprop reads "
            f"up to {FORMAT_VERSION}: upgrade retroprop"
        )
    return config


def load(path: str | os.PathLike[str]) -> Any:
    """Rebuild a model saved by :func:`save`; it predicts exactly as the saved one did.

    The returned model is in eval mode. Its ``config.json`` metadata is available as
    ``retroprop.io.read_config(path)["metadata"]``.

    Raises
    ------
    ModelFileError
        Missing, corrupt, tampered or inconsistent files, named with the reason.
    """
    from retroprop.nn.config import module_from_config

    st_numpy = _safetensors_numpy()
    directory = Path(path)
    config = read_config(directory)
    weights_path = directory / config.get("weights_file", WEIGHTS_FILE)
    if not weights_path.is_file():
        raise ModelFileError(f"{directory} is incomplete: {weights_path.name} is missing")
    weights = weights_path.read_bytes()
    if hashlib.sha256(weights).hexdigest() != config.get("weights_sha256"):
        raise ModelFileError(
            f"{weights_path} does not match {CONFIG_FILE} (checksum differs): the file is "
            "corrupt, was changed, or a save was interrupted"
        )
    try:
        state = st_numpy.load(weights)
    except Exception as error:  # safetensors raises its own error types
        raise ModelFileError(f"{weights_path} is corrupt: {error}") from error
    try:
        model = module_from_config(config["architecture"])
    except (KeyError, TypeError, ValueError) as error:
        raise ModelFileError(
            f"{directory / CONFIG_FILE} has an invalid architecture: {error}"
        ) from error
    try:
        model.load_state_dict(state)
    except (KeyError, ValueError, RuntimeError) as error:
        raise ModelFileError(f"{weights_path} does not fit the architecture: {error}") from error
    model.eval()
    return model
