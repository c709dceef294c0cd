"""Checking a model folder before anything is allocated: bounded JSON, header, shapes, manifest.

Everything here reads bytes and plain JSON values only. A folder from an untrusted source can at
worst make these functions raise :class:`ModelFileError`, which names the file and what is
wrong: no module is built, no array of a size the file merely claims is allocated, and nothing
from the file is imported or run. :mod:`retroprop.io` calls these checks in that order.

The safetensors layout checked here is the published one (https://github.com/huggingface/
safetensors, "Format"): 8 bytes little-endian header length N, N bytes of JSON mapping each
tensor name to ``{"dtype", "shape", "data_offsets": [begin, end]}`` (offsets relative to the
byte after the header), then the data, the tensors contiguous without holes.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from retroprop.nn.config import MODULE_TYPES

__all__ = [
    "ModelFileError",
    "DEFAULT_MAX_BYTES",
    "MAX_JSON_DEPTH",
    "CONFIG_FILE",
    "WEIGHTS_FILE",
    "MANIFEST_FILE",
    "MANIFEST_FORMAT",
    "parse_json",
    "open_regular",
    "read_regular",
    "file_sha256",
    "read_manifest",
    "verify_file",
    "read_header",
    "check_tensors",
    "architecture_shapes",
]

DEFAULT_MAX_BYTES = 2**31
"""The largest weights file (or other file of a model folder) loaded without ``max_bytes=``."""
MAX_JSON_DEPTH = 200
"""Deepest nesting of ``[`` and ``{`` accepted in a model's JSON (a real config uses ~20)."""
MAX_MODULE_DEPTH = 64
"""Deepest nesting of containers (Sequential, Residual) accepted in an architecture."""
MAX_HEADER_BYTES = 100 * 2**20  # the limit the safetensors library itself applies
MAX_MANIFEST_BYTES = 16 * 2**20
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
MANIFEST_FILE = "manifest.json"
MANIFEST_FORMAT = "retroprop-manifest"

# safetensors dtype code -> numpy dtype; nothing else may be named in a header.
SAFETENSORS_DTYPES: dict[str, np.dtype] = {
    code: np.dtype(name)
    for code, name in {
        "BOOL": "bool",
        "U8": "uint8",
        "I8": "int8",
        "I16": "int16",
        "I32": "int32",
        "I64": "int64",
        "F16": "float16",
        "F32": "float32",
        "F64": "float64",
    }.items()
}
_HEX64 = re.compile(r"[0-9a-f]{64}")
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


class ModelFileError(ValueError):
    """A model directory that is missing, incomplete, corrupt, or not written by retroprop."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_json(data: bytes, where: Path) -> Any:
    """Parse ``data`` as strict UTF-8 JSON nested at most :data:`MAX_JSON_DEPTH` deep.

    The depth is measured first, on the bytes with every string blanked, so 100,000 nested
    ``[`` are refused without recursing.

    Raises
    ------
    ModelFileError
        Naming ``where``: not UTF-8, not JSON, or nested too deep.

    Examples
    --------
    >>> parse_json(b'{"a": [1, 2]}', Path("x.json"))
    {'a': [1, 2]}
    >>> parse_json(b"[" * 100_000, Path("x.json"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    retroprop._io_validate.ModelFileError: x.json is corrupt: JSON nested 100000 deep ...
    """
    brackets = np.frombuffer(_STRINGS.sub(b'""', data), dtype=np.uint8)
    steps = np.isin(brackets, (ord("["), ord("{"))).astype(np.int64)
    steps -= np.isin(brackets, (ord("]"), ord("}")))
    depth = int(np.cumsum(steps).max(initial=0))
    if depth > MAX_JSON_DEPTH:
        raise ModelFileError(
            f"{where} is corrupt: JSON nested {depth} deep (at most {MAX_JSON_DEPTH} accepted)"
        )
    try:
        return json.loads(data.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise ModelFileError(f"{where} is corrupt: not valid JSON ({error})") from error


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def open_regular(path: Path, what: str) -> tuple[int, int]:
    """Open ``path`` for reading without following a symlink; return ``(fd, size)``.

    Raises
    ------
    ModelFileError
        When ``path`` is missing, a symlink, or not a regular file.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise ModelFileError(
            f"{path.parent} is incomplete: {what} {path.name} is missing"
        ) from None
    except OSError as error:  # ELOOP: a symlink; EACCES; EISDIR on some systems
        raise ModelFileError(
            f"{path} cannot be read as the model's {what} ({error.strerror}); a model folder "
            "holds regular files, not symlinks"
        ) from error
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise ModelFileError(f"{path} is not a regular file; a model's {what} must be one")
    return fd, info.st_size


def read_regular(path: Path, what: str, limit: int) -> bytes:
    """The bytes of the regular file ``path`` (no symlink), refused beyond ``limit`` bytes."""
    fd, size = open_regular(path, what)
    with os.fdopen(fd, "rb") as handle:
        if size > limit:
            raise ModelFileError(
                f"{path} has {size:,} bytes, more than the {limit:,} accepted for a model's "
                f"{what} (raise max_bytes= if you trust this file)"
            )
        data = handle.read(size + 1)  # read(n) reserves n bytes: never the limit itself
    if len(data) != size:  # the file grew while being read
        raise ModelFileError(f"{path} changed while being read")
    return data


def _chunks(path: Path, what: str, limit: int) -> Iterator[bytes]:
    fd, size = open_regular(path, what)
    with os.fdopen(fd, "rb") as handle:
        if size > limit:
            raise ModelFileError(
                f"{path} has {size:,} bytes, more than the {limit:,} accepted in a model folder "
                "(raise max_bytes= if you trust this file)"
            )
        while chunk := handle.read(2**20):
            yield chunk


def file_sha256(path: Path, what: str = "file", limit: int = DEFAULT_MAX_BYTES) -> tuple[int, str]:
    """``(size, SHA-256 hex digest)`` of ``path``, read in 1 MiB chunks."""
    digest, size = hashlib.sha256(), 0
    for chunk in _chunks(path, what, limit):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def _safe_member(name: Any) -> bool:
    """A relative POSIX path inside the folder: no ``..``, no absolute path, no backslash."""
    if not isinstance(name, str) or not name or "\\" in name or "\0" in name:
        return False
    parts = name.split("/")
    return not name.startswith("/") and all(part not in ("", ".", "..") for part in parts)


def read_manifest(directory: Path) -> dict[str, dict[str, Any]] | None:
    """The checked ``files`` table of ``directory/manifest.json``, or None when there is none.

    Raises
    ------
    ModelFileError
        When the manifest is a symlink, too large, not JSON, or any entry is malformed (a name
        outside the folder, a size that is not a non-negative integer, a digest that is not 64
        lowercase hex digits), or it does not list ``config.json``.
    """
    path = directory / MANIFEST_FILE
    if not os.path.lexists(path):
        return None
    manifest = parse_json(read_regular(path, "manifest", MAX_MANIFEST_BYTES), path)
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise ModelFileError(f"{path} is not a retroprop manifest (no format {MANIFEST_FORMAT!r})")
    if not isinstance(files, dict):
        raise ModelFileError(f"{path} is corrupt: 'files' must map file names to size and sha256")
    for name, entry in files.items():
        if not _safe_member(name) or name == MANIFEST_FILE:
            raise ModelFileError(f"{path} is corrupt: {name!r} is not a file inside the folder")
        if not (
            isinstance(entry, dict)
            and set(entry) == {"size", "sha256"}
            and _is_int(entry["size"])
            and entry["size"] >= 0
            and isinstance(entry["sha256"], str)
            and _HEX64.fullmatch(entry["sha256"])
        ):
            raise ModelFileError(
                f"{path} is corrupt: the entry for {name!r} must be {{'size': bytes, 'sha256': "
                f"64 hex digits}}, got {entry!r:.200}"
            )
    if CONFIG_FILE not in files:
        raise ModelFileError(f"{path} does not list {CONFIG_FILE}: the folder was tampered with")
    return files


def verify_file(
    directory: Path, name: str, entry: dict[str, Any], limit: int, data: bytes | None = None
) -> None:
    """Check the file ``name`` (or its already-read ``data``) against its manifest ``entry``.

    Raises
    ------
    ModelFileError
        Naming the file: missing, a symlink, of another size, or with another SHA-256.
    """
    path = directory / name
    if data is None:
        size, digest = file_sha256(path, "file", limit)
    else:
        size, digest = len(data), hashlib.sha256(data).hexdigest()
    if size != entry["size"]:
        raise ModelFileError(
            f"{path} has {size:,} bytes but {MANIFEST_FILE} records {entry['size']:,}: the file "
            "was changed or cut after the model was saved"
        )
    if digest != entry["sha256"]:
        raise ModelFileError(
            f"{path} was changed after the model was saved (its SHA-256 checksum differs from "
            f"{MANIFEST_FILE}); refusing to load an edited model"
        )


def read_header(fd: int, size: int, path: Path) -> dict[str, tuple[np.dtype, tuple[int, ...]]]:
    """Read and check the safetensors header of the open file ``fd`` of ``size`` bytes.

    Only the header is read. Every tensor must have an allowed dtype, a shape of non-negative
    integers, and offsets that tile the data region exactly, which must end at the file's end.

    Returns
    -------
    dict
        Tensor name -> (numpy dtype, shape).

    Raises
    ------
    ModelFileError
        Naming ``path`` and the first inconsistency found.
    """
    if size < 8:
        raise ModelFileError(f"{path} is corrupt: {size} bytes, too short for a safetensors file")
    length = int.from_bytes(os.pread(fd, 8, 0), "little")
    if length > min(size - 8, MAX_HEADER_BYTES):
        raise ModelFileError(
            f"{path} is corrupt: its header claims {length:,} bytes but the file has {size:,}"
        )
    header = parse_json(os.pread(fd, length, 8), path)
    if not isinstance(header, dict):
        raise ModelFileError(f"{path} is corrupt: the safetensors header is not a JSON object")
    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ModelFileError(f"{path} is corrupt: __metadata__ must map strings to strings")
    tensors, spans = {}, []
    for name, entry in header.items():
        dtype, shape, span = _header_entry(name, entry, path)
        tensors[name] = (dtype, shape)
        spans.append(span)
    end = 0
    for begin, stop in sorted(spans):
        if begin != end:
            raise ModelFileError(f"{path} is corrupt: tensor data overlaps or leaves a gap")
        end = stop
    if end != size - 8 - length:
        raise ModelFileError(
            f"{path} is corrupt: its header describes {end:,} bytes of data but the file holds "
            f"{size - 8 - length:,} (a cut or padded file)"
        )
    return tensors


def _header_entry(name: str, entry: Any, path: Path) -> tuple[np.dtype, tuple[int, ...], tuple]:
    where = f"{path} is corrupt: tensor {name!r:.80}"
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise ModelFileError(f"{where} needs exactly dtype, shape and data_offsets")
    dtype = SAFETENSORS_DTYPES.get(entry["dtype"]) if isinstance(entry["dtype"], str) else None
    if dtype is None:
        raise ModelFileError(
            f"{where} has dtype {entry['dtype']!r:.40}; allowed: {', '.join(SAFETENSORS_DTYPES)}"
        )
    shape, offsets = entry["shape"], entry["data_offsets"]
    if not isinstance(shape, list) or not all(_is_int(n) and n >= 0 for n in shape):
        raise ModelFileError(f"{where} has shape {shape!r:.80}, not a list of counts")
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(_is_int(n) and n >= 0 for n in offsets)
        or offsets[1] - offsets[0] != math.prod(shape) * dtype.itemsize
    ):
        raise ModelFileError(
            f"{where} has data_offsets {offsets!r:.80}, which do not hold shape {shape} of "
            f"{dtype.name}"
        )
    return dtype, tuple(shape), (offsets[0], offsets[1])


def check_tensors(
    header: dict[str, tuple[np.dtype, tuple[int, ...]]], declared: Any, path: Path
) -> None:
    """Check the config's ``tensors`` table against the weights file's header.

    Raises
    ------
    ModelFileError
        When ``declared`` is malformed or a name, shape or dtype differs from the header.
    """
    if not isinstance(declared, dict):
        raise ModelFileError(f"{path} is corrupt: 'tensors' must map names to shape and dtype")
    if set(declared) != set(header):
        differ = sorted(set(declared) ^ set(header))[:5]
        raise ModelFileError(
            f"{path} lists tensors that the weights file does not hold, or the reverse: {differ}"
        )
    for name, entry in declared.items():
        dtype, shape = header[name]
        if (
            not isinstance(entry, dict)
            or entry.get("shape") != list(shape)
            or entry.get("dtype") != dtype.name
        ):
            raise ModelFileError(
                f"{path}: tensor {name!r} is {entry!r:.80} in the config but {list(shape)} of "
                f"{dtype.name} in {WEIGHTS_FILE}"
            )


def architecture_shapes(
    architecture: Any,
    path: Path,
    prefix: str = "",
    depth: int = 0,
    where: str = "architecture",
) -> dict[str, tuple[int, ...]]:
    """The parameter and buffer shapes the architecture's modules declare.

    Read from the plain config, before any module is built, so that a 60,000-wide layer is
    compared with the weights file's header instead of being allocated. Containers are walked
    to :data:`MAX_MODULE_DEPTH`; each registered module type (:data:`~retroprop.nn.config.
    MODULE_TYPES`) gives its own shapes (``Module.config_shapes``); an unknown type is left to
    ``module_from_config``, which refuses it.

    Raises
    ------
    ModelFileError
        A node that is not a dict with a string ``type``, nesting too deep, or a width that is
        not a positive integer, named by its place (``architecture.modules[0]``).

    Examples
    --------
    >>> architecture_shapes({"type": "Sequential", "modules": [
    ...     {"type": "Linear", "in_features": 2, "out_features": 3}, {"type": "ReLU"}]}, Path("c"))
    {'0.weight': (2, 3), '0.bias': (3,)}
    """
    if depth > MAX_MODULE_DEPTH:
        raise ModelFileError(f"{path}: {where} nests containers deeper than {MAX_MODULE_DEPTH}")
    if isinstance(architecture, dict) and set(architecture) == {"ref"}:
        if not isinstance(architecture["ref"], str):
            raise ModelFileError(f"{path}: {where}.ref must be a module's dotted name")
        return {}  # a module used again: its parameters were declared where it first appears
    if not isinstance(architecture, dict) or not isinstance(architecture.get("type"), str):
        raise ModelFileError(f"{path}: {where} must be a module config with a string 'type'")
    kind, shapes = architecture["type"], {}
    if kind == "Sequential" and isinstance(architecture.get("modules"), list):
        for index, child in enumerate(architecture["modules"]):
            shapes |= architecture_shapes(
                child, path, f"{prefix}{index}.", depth + 1, f"{where}.modules[{index}]"
            )
    elif kind == "Residual" and "block" in architecture:
        block = architecture["block"]
        shapes |= architecture_shapes(block, path, f"{prefix}block.", depth + 1, f"{where}.block")
    elif kind in MODULE_TYPES:
        declared = MODULE_TYPES[kind].config_shapes(
            architecture, lambda key: _width(architecture, key, path, where)
        )
        shapes = {f"{prefix}{name}": shape for name, shape in declared.items()}
    if depth == 0:
        _drop_tied(shapes, architecture.get("tied_parameters", {}), path)
    return shapes


def _drop_tied(shapes: dict[str, tuple[int, ...]], tied: Any, path: Path) -> None:
    """Remove each tied parameter (stored once, under its source's name) from ``shapes``."""
    if not isinstance(tied, dict):
        raise ModelFileError(f"{path}: architecture.tied_parameters must be a mapping")
    for alias, source in tied.items():
        if alias not in shapes or source not in shapes or shapes[alias] != shapes[source]:
            raise ModelFileError(
                f"{path}: architecture.tied_parameters ties {alias!r:.60} to {source!r:.60}, "
                "which are not two declared parameters of the same shape"
            )
        del shapes[alias]


def _width(config: dict[str, Any], key: str, path: Path, where: str) -> int:
    value = config.get(key)
    if not _is_int(value) or value < 1:
        raise ModelFileError(f"{path}: {where}.{key} must be a positive integer, got {value!r:.40}")
    return value
