"""Saving and loading models without pickle: JSON for the architecture, safetensors for weights.

``rp.save(model, path)`` writes a directory holding

- ``model.safetensors``: every parameter and buffer, by name (the state dict);
- ``config.json``: the format, the architecture as nested module configs, the SHA-256 of the
  weights file, the name, shape and dtype of every tensor, and any metadata the caller adds;
- ``manifest.json``: the size and SHA-256 of every file of the folder.

The folder is written as one unit (:func:`staged_folder`): into a temporary folder beside the
target, each file synced, then swapped into place in one rename, under a lock; a crash, a
Ctrl-C or a full disk leaves the previous model as it was. Callers that store more files with
the model (the command line's report, history, metrics) write them into the same staged folder,
so the manifest covers them too.

Loading checks before it allocates and never runs code: the manifest (any edited file is
refused, named), then the config (parsed with a depth limit, every field checked), then the
safetensors header against the config, the architecture's declared widths and the file's real
size, all within ``max_bytes`` (default :data:`DEFAULT_MAX_BYTES`); only then are modules built,
from retroprop's allowlist of built-in classes, and the arrays read. Every problem is a
:class:`ModelFileError` naming the file and what is wrong. A folder saved before manifests
existed (retroprop < 0.3) loads with a warning; only its weights checksum is verified.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from retroprop._io_publish import SaveError, describe, staged_folder
from retroprop._io_validate import (
    CONFIG_FILE,
    DEFAULT_MAX_BYTES,
    MANIFEST_FILE,
    WEIGHTS_FILE,
    ModelFileError,
    architecture_shapes,
    check_tensors,
    open_regular,
    parse_json,
    read_header,
    read_manifest,
    read_regular,
    verify_file,
)

__all__ = [
    "save",
    "load",
    "load_with_config",
    "read_config",
    "atomic_write",
    "staged_folder",
    "write_model_files",
    "ModelFileError",
    "SaveError",
    "FORMAT",
    "DEFAULT_MAX_BYTES",
]

FORMAT = "retroprop-model"
FORMAT_VERSION = 1
_CONFIG_KEYS = ("format", "format_version", "architecture", "weights_sha256", "tensors")


def atomic_write(path: str | os.PathLike[str], data: bytes | str) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` through a temporary file and ``os.replace``.

    A crash or a Ctrl-C while writing leaves either the old file or the new one, never half of
    one, and no temporary file. The file gets a normal mode (0666 less the umask), not
    ``mkstemp``'s 0600.

    Raises
    ------
    SaveError
        An ``OSError`` whose message names ``path`` and the cause (no space, permission denied,
        is a directory, not a directory), in one line.

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
    try:
        _replace_with(path, payload)
    except SaveError:
        raise
    except OSError as error:
        reason = describe(error)
        raise SaveError(f"cannot write {path}: {reason}", error.errno, reason) from error
    return path


def _replace_with(path: Path, payload: bytes) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        try:
            view = memoryview(payload)
            while view:  # os.write may write less than asked (a signal, a full pipe)
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _safetensors_numpy():
    try:
        from safetensors import numpy as st_numpy
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "saving and loading models needs safetensors: pip install 'retroprop[io]'"
        ) from error
    return st_numpy


def write_model_files(
    model: Any, folder: str | os.PathLike[str], metadata: dict[str, Any] | None = None
) -> Path:
    """Write ``model.safetensors`` and ``config.json`` into ``folder`` (no manifest, no swap).

    The building block of :func:`save`, for a caller that writes a whole folder through
    :func:`staged_folder` (the model beside other files). Returns ``folder``.

    Raises
    ------
    TypeError
        When the model holds a module retroprop cannot describe (a user-defined class).
    """
    from retroprop.nn.config import module_to_config

    st_numpy = _safetensors_numpy()
    folder = Path(folder)
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
    atomic_write(folder / WEIGHTS_FILE, weights)
    atomic_write(folder / CONFIG_FILE, json.dumps(config, indent=2).encode("utf-8"))
    return folder


def save(
    model: Any,
    path: str | os.PathLike[str],
    metadata: dict[str, Any] | None = None,
    *,
    overwrite: bool = False,
) -> Path:
    """Save ``model`` to the directory ``path`` (created if missing), as one unit.

    Parameters
    ----------
    model : Module
        A model made of retroprop's built-in modules.
    path : path-like
        The directory to write ``config.json``, ``model.safetensors`` and ``manifest.json``
        into. A previous model there is replaced whole (other files in it go with it).
    metadata : dict, optional
        JSON-serialisable extras stored in ``config.json`` (e.g. preprocessing, class names).
    overwrite : bool, default False
        Replace a non-empty directory that does not hold a retroprop model.

    Returns
    -------
    Path
        The directory.

    Raises
    ------
    TypeError
        When the model holds a module retroprop cannot describe (a user-defined class).
    SaveError
        An ``OSError`` naming the path: no space, no permission, ``path`` is a file or a folder
        of other files, or another process is saving to it. The previous model is untouched.

    Examples
    --------
    >>> import tempfile
    >>> _ = rp.manual_seed(0)
    >>> model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    >>> folder = rp.save(model, tempfile.mkdtemp() + "/model")
    >>> again = rp.load(folder)
    >>> x = rp.tensor(np.ones((1, 2), dtype=np.float32))
    >>> bool(np.array_equal(model(x).data, again(x).data))
    True
    """
    from retroprop.nn.config import module_to_config

    module_to_config(model)  # a user-defined module is refused before the folder is touched
    with staged_folder(path, overwrite=overwrite) as folder:
        write_model_files(model, folder, metadata)
    return Path(path)


def _directory(path: str | os.PathLike[str]) -> Path:
    directory = Path(path)
    if not directory.exists():
        raise ModelFileError(f"no model at {directory}: the directory does not exist")
    if not directory.is_dir():
        raise ModelFileError(f"{directory} is a file; a retroprop model is a directory")
    if not os.path.lexists(directory / CONFIG_FILE):
        raise ModelFileError(f"{directory} is not a retroprop model: it has no {CONFIG_FILE}")
    return directory


def _check_config(config: Any, config_path: Path) -> dict[str, Any]:
    """``config`` if every field ``load`` relies on is present and of the right kind."""
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ModelFileError(f"{config_path} was not written by retroprop (no format {FORMAT!r})")
    missing = [key for key in _CONFIG_KEYS if key not in config]
    if missing:
        raise ModelFileError(f"{config_path} is incomplete: no {', '.join(missing)}")
    version = config["format_version"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(
            f"{config_path}: format_version must be a positive integer, got {version!r:.40}"
        )
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{config_path} has format version {version}; this retroprop reads "
            f"up to {FORMAT_VERSION}: upgrade retroprop"
        )
    if config.get("weights_file", WEIGHTS_FILE) != WEIGHTS_FILE:
        raise ModelFileError(
            f"{config_path}: weights_file is {config['weights_file']!r:.80}, but a model's "
            f"weights are always {WEIGHTS_FILE} inside its folder; refusing to read elsewhere"
        )
    if not isinstance(config.get("metadata", {}), dict):
        raise ModelFileError(f"{config_path}: metadata must be a JSON object")
    if not isinstance(config["weights_sha256"], str):
        raise ModelFileError(f"{config_path}: weights_sha256 must be a hex string")
    return config


def _read_checked_config(directory: Path, max_bytes: int) -> tuple[dict[str, Any], dict | None]:
    """The checked config and the checked manifest table (None for a folder saved without)."""
    manifest = read_manifest(directory)
    config_path = directory / CONFIG_FILE
    data = read_regular(config_path, "config", max_bytes)
    if manifest is not None:
        verify_file(directory, CONFIG_FILE, manifest[CONFIG_FILE], max_bytes, data)
    config = _check_config(parse_json(data, config_path), config_path)
    if manifest is not None and WEIGHTS_FILE not in manifest:
        raise ModelFileError(
            f"{directory / MANIFEST_FILE} does not list {WEIGHTS_FILE}: the folder was "
            "tampered with"
        )
    return config, manifest


def read_config(
    path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES
) -> dict[str, Any]:
    """Read and check a model directory's ``config.json`` (no weights loaded).

    The config is checked against the folder's ``manifest.json`` when it has one.

    Raises
    ------
    ModelFileError
        When the directory or file is missing, is not JSON, was edited after saving, or was
        not written by retroprop.
    """
    config, _ = _read_checked_config(_directory(path), max_bytes)
    return config


def _read_weights(
    directory: Path, config: dict[str, Any], manifest: dict | None, max_bytes: int
) -> bytes:
    """The weights file's bytes, read only after its header, size and shapes check out."""
    weights_path = directory / WEIGHTS_FILE
    config_path = directory / CONFIG_FILE
    fd, size = open_regular(weights_path, "weights")
    with os.fdopen(fd, "rb") as handle:
        if size > max_bytes:
            raise ModelFileError(
                f"{weights_path} has {size:,} bytes, more than max_bytes={max_bytes:,}; "
                "pass a larger max_bytes= to load a model this size"
            )
        if manifest is not None and size != manifest[WEIGHTS_FILE]["size"]:
            raise ModelFileError(
                f"{weights_path} has {size:,} bytes but {MANIFEST_FILE} records "
                f"{manifest[WEIGHTS_FILE]['size']:,}: the file was changed or cut after saving"
            )
        header = read_header(fd, size, weights_path)
        check_tensors(header, config["tensors"], config_path)
        declared = architecture_shapes(config["architecture"], config_path)
        for name, shape in declared.items():
            if name not in header or header[name][1] != shape:
                found = header[name][1] if name in header else "nothing"
                raise ModelFileError(
                    f"{config_path}: the architecture declares {name} of shape {shape} but "
                    f"{WEIGHTS_FILE} holds {found}"
                )
        weights = handle.read(size + 1)
    if len(weights) != size:
        raise ModelFileError(f"{weights_path} changed while being read")
    if manifest is not None:
        verify_file(directory, WEIGHTS_FILE, manifest[WEIGHTS_FILE], max_bytes, weights)
    if hashlib.sha256(weights).hexdigest() != config["weights_sha256"]:
        raise ModelFileError(
            f"{weights_path} does not match {CONFIG_FILE} (checksum differs): the file is "
            "corrupt, was changed, or a save was interrupted"
        )
    return weights


def load_with_config(
    path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[Any, dict[str, Any]]:
    """:func:`load`, also returning the checked ``config.json`` (with its ``metadata``).

    Use this rather than ``read_config`` then ``load``: the config returned is the one the
    model was built from, checked against the manifest in the same pass. When another process
    swaps a new model into the folder while it is read (the files then disagree with the
    manifest read first), the new model is read again, whole.
    """
    directory = _directory(path)
    for attempt in range(3):
        before = _identity(directory)
        try:
            return _load_once(directory, max_bytes)
        except ModelFileError:
            if attempt == 2 or _identity(directory) == before:
                raise
            # another process published a new model mid-read: read the new one whole
    raise AssertionError("unreachable")


def _identity(directory: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(directory)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _load_once(directory: Path, max_bytes: int) -> tuple[Any, dict[str, Any]]:
    from retroprop.nn.config import module_from_config

    st_numpy = _safetensors_numpy()
    config, manifest = _read_checked_config(directory, max_bytes)
    weights = _read_weights(directory, config, manifest, max_bytes)
    for name, entry in (manifest or {}).items():
        if name not in (CONFIG_FILE, WEIGHTS_FILE):
            verify_file(directory, name, entry, max_bytes)
    try:
        state = st_numpy.load(weights)
    except Exception as error:  # safetensors raises its own error types
        raise ModelFileError(f"{directory / WEIGHTS_FILE} is corrupt: {error}") from error
    try:
        model = module_from_config(config["architecture"])
    except (KeyError, TypeError, ValueError, OverflowError, RecursionError) as error:
        raise ModelFileError(
            f"{directory / CONFIG_FILE} has an invalid architecture: {error}"
        ) from error
    try:
        model.load_state_dict(state)
    except (KeyError, ValueError, TypeError, RuntimeError) as error:
        raise ModelFileError(
            f"{directory / WEIGHTS_FILE} does not fit the architecture: {error}"
        ) from error
    if manifest is None:
        warnings.warn(
            f"{directory} has no {MANIFEST_FILE} (saved by an older retroprop): only its "
            f"weights checksum was verified; save it again to protect every file",
            UserWarning,
            stacklevel=3,
        )
    model.eval()
    return model, config


def load(path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES) -> Any:
    """Rebuild a model saved by :func:`save`; it predicts exactly as the saved one did.

    Everything is checked before anything large is allocated (see the module docstring). The
    returned model is in eval mode. Its ``config.json`` metadata is available as
    ``retroprop.io.read_config(path)["metadata"]``, or from :func:`load_with_config`.

    Parameters
    ----------
    path : path-like
        The model directory.
    max_bytes : int, default DEFAULT_MAX_BYTES (2 GiB)
        The largest weights file (and any other file of the folder) accepted.

    Raises
    ------
    ModelFileError
        Missing, corrupt, edited, oversized or inconsistent files, named with the reason.
    """
    return load_with_config(path, max_bytes=max_bytes)[0]
