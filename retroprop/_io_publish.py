"""Writing a model folder as one unit: staged beside the target, hashed, synced, swapped in.

:func:`staged_folder` is the one way retroprop writes a folder. The caller writes its files
into a fresh temporary folder beside the target; on leaving the ``with`` block a
``manifest.json`` listing every file's size and SHA-256 is added, every file and folder is
fsynced, and the temporary folder takes the target's place in one rename:

- on Linux the two folders are exchanged atomically (``renameat2(RENAME_EXCHANGE)``, through
  ctypes, Linux >= 3.15 on ext4, xfs, btrfs, tmpfs), so a reader or a ``kill -9`` at any moment
  sees either the whole previous folder or the whole new one;
- elsewhere (or on a file system without the exchange) the previous folder is renamed aside
  and the new one renamed in: a crash between those two renames leaves the previous folder
  under ``.<name>.old-*``, which the next save of that target moves back before it starts.

Ctrl-C is deferred during the swap. A lock file beside the target (``.<name>.lock``, held with
``flock``) refuses a second concurrent writer. A failed save leaves the previous folder as it
was, and every ``OSError`` is raised as :class:`SaveError` naming the path.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import glob
import os
import secrets
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from retroprop._io_validate import (
    CONFIG_FILE,
    MANIFEST_FILE,
    MANIFEST_FORMAT,
    ModelFileError,
    file_sha256,
    parse_json,
    read_regular,
)

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory lock
    fcntl = None

__all__ = ["SaveError", "staged_folder", "is_model_folder", "write_manifest", "describe"]

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


class SaveError(OSError):
    """A model folder could not be written; the message names the path and the reason.

    An ``OSError`` (keeping ``errno``), so ``except OSError`` still catches it; its ``str`` is one
    plain line the command line prints as is.

    Examples
    --------
    >>> error = SaveError("cannot save to /x: no space left on device", errno.ENOSPC)
    >>> str(error), error.errno == errno.ENOSPC, isinstance(error, OSError)
    ('cannot save to /x: no space left on device', True, True)
    """

    def __init__(self, message: str, code: int | None = None, reason: str | None = None) -> None:
        super().__init__(code, message)
        self.message = message
        self.reason = reason  # the bare cause ("No space left on device"), when an OSError

    def __str__(self) -> str:
        return self.message


def describe(error: OSError) -> str:
    """The cause of ``error`` in a few words: its reason, and the file when it names one."""
    if isinstance(error, SaveError) and error.reason:
        return error.reason
    reason = error.strerror or str(error)
    return f"{reason} ({error.filename})" if error.filename else reason


def is_model_folder(path: Path) -> bool:
    """Whether ``path`` holds a retroprop model (a manifest, or a config.json of the format)."""
    from retroprop.io import FORMAT

    if (path / MANIFEST_FILE).is_file():
        return True
    try:
        config = parse_json(read_regular(path / CONFIG_FILE, "config", 2**26), path / CONFIG_FILE)
    except (ModelFileError, OSError):
        return False
    return isinstance(config, dict) and config.get("format") == FORMAT


def write_manifest(folder: Path) -> dict[str, Any]:
    """Hash every regular file under ``folder`` into ``folder/manifest.json``; return the table.

    Raises
    ------
    SaveError
        When the folder holds a symlink or anything but files and folders.
    """
    import json

    files = {}
    for root, directories, names in os.walk(folder):
        for name in sorted(directories + names):
            path = Path(root, name)
            if path.is_symlink() or not (path.is_file() or path.is_dir()):
                raise SaveError(f"{path} is not a regular file; a model folder holds files only")
        for name in sorted(names):
            relative = Path(root, name).relative_to(folder).as_posix()
            if relative != MANIFEST_FILE:
                size, digest = file_sha256(Path(root, name), limit=2**63)
                files[relative] = {"size": size, "sha256": digest}
    manifest = {
        "format": MANIFEST_FORMAT,
        "format_version": 1,
        "files": dict(sorted(files.items())),
    }
    _write_synced(folder / MANIFEST_FILE, json.dumps(manifest, indent=2).encode("utf-8") + b"\n")
    return files


def _write_synced(path: Path, payload: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(folder: Path) -> None:
    """fsync every file and folder under ``folder``, deepest first, then ``folder`` itself."""
    for root, _, names in os.walk(folder, topdown=False):
        for name in [*names, "."]:
            fd = os.open(Path(root, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _fsync_directory(folder: Path) -> None:
    with contextlib.suppress(OSError):  # some file systems refuse fsync on a directory
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def _lock(target: Path) -> Iterator[None]:
    """Hold ``.<name>.lock`` beside ``target`` or raise SaveError when another writer does."""
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    lock_path = target.parent / f".{target.name}.lock"
    while True:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise SaveError(
                f"{target} is being saved by another process (it holds {lock_path}); wait for "
                "it to finish or save somewhere else",
                errno.EBUSY,
            ) from None
        try:  # the previous holder removes the file when done: lock the file that is there
            same = os.path.samestat(os.fstat(fd), os.stat(lock_path))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock_path)
        os.close(fd)


@contextlib.contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Hold a Ctrl-C (SIGINT) until the block ends, then deliver it (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is None:  # installed outside Python: leave it alone
        yield
        return
    received: list[int] = []
    signal.signal(signal.SIGINT, lambda number, frame: received.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received and callable(previous):
            previous(signal.SIGINT, None)  # the default handler raises KeyboardInterrupt
        elif received and previous == signal.SIG_DFL:
            os.kill(os.getpid(), signal.SIGINT)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically with Linux's renameat2; False where that is unavailable."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    renameat2.argtypes += [ctypes.c_uint]
    result = renameat2(
        _AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE
    )
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(second))


def _publish(stage: Path, target: Path) -> None:
    """Put ``stage`` in ``target``'s place; the previous folder (if any) ends up at ``stage``."""
    if not os.path.lexists(target):
        os.rename(stage, target)
    elif not _exchange(stage, target):
        aside = target.parent / f".{target.name}.old-{os.getpid()}-{secrets.token_hex(4)}"
        os.rename(target, aside)
        try:
            os.rename(stage, target)
        except BaseException:
            os.rename(aside, target)
            raise
        os.rename(aside, stage)  # so the caller removes it with the staging folder
    _fsync_directory(target.parent)


def _clear_leftovers(target: Path) -> None:
    """Remove what a killed writer of ``target`` left; restore a folder renamed aside."""
    parent, name = target.parent, glob.escape(target.name)
    asides = sorted(parent.glob(f".{name}.old-*"))
    if asides and not os.path.lexists(target):
        os.rename(asides.pop(), target)
    for leftover in [*asides, *parent.glob(f".{name}.staging-*")]:
        shutil.rmtree(leftover, ignore_errors=True)


def _check_target(target: Path, overwrite: bool) -> None:
    if not os.path.lexists(target):
        return
    if target.is_symlink() or not target.is_dir():
        raise SaveError(
            f"cannot save to {target}: it is a file, and a model is saved as a folder",
            errno.ENOTDIR,
        )
    if not overwrite and any(target.iterdir()) and not is_model_folder(target):
        raise SaveError(
            f"cannot save to {target}: the folder holds other files and no retroprop model; "
            "choose an empty or new folder, or pass overwrite=True to replace it all",
            errno.EEXIST,
        )


@contextlib.contextmanager
def staged_folder(path: str | os.PathLike[str], *, overwrite: bool = False) -> Iterator[Path]:
    """Write a folder as one unit: yield a temporary folder, then swap it into ``path``.

    Write every file of the folder into the yielded path. When the block ends normally, a
    ``manifest.json`` hashing every file is added, everything is fsynced, and the temporary
    folder replaces ``path`` in one rename (Ctrl-C deferred). When the block raises, nothing
    is published and ``path`` keeps its previous content. The previous content is deleted.

    Parameters
    ----------
    path : path-like
        The folder to write. Its parent is created when missing.
    overwrite : bool, default False
        Replace a non-empty folder that is not a retroprop model (otherwise refused).

    Raises
    ------
    SaveError
        Another writer holds the folder; ``path`` is a file, or a folder of other files; or any
        OSError (no space, permission...), with the path and the reason.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "run"
    >>> with staged_folder(target) as folder:
    ...     _ = (folder / "notes.txt").write_text("hello")
    >>> sorted(p.name for p in target.iterdir())
    ['manifest.json', 'notes.txt']
    """
    target = Path(os.path.abspath(path))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with _lock(target):
            _clear_leftovers(target)
            _check_target(target, overwrite)
            stage = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.staging-"))
            try:
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(stage, 0o777 & ~umask)  # mkdtemp's 0700 is not a model folder's mode
                yield stage
                write_manifest(stage)
                _fsync_tree(stage)
                with _sigint_deferred():
                    _publish(stage, target)
            finally:
                shutil.rmtree(stage, ignore_errors=True)
    except SaveError as error:
        if not error.reason:  # already about the target: the lock, a file in the way
            raise
        raise SaveError(f"cannot save to {target}: {error.reason}", error.errno) from error
    except OSError as error:
        reason = describe(error)
        raise SaveError(f"cannot save to {target}: {reason}", error.errno, reason) from error
