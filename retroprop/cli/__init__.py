"""The ``retroprop`` command: ``train``, ``predict``, ``export``, ``info``, ``demo``,
``experiment``.

Each subcommand lives in its own module with ``add_parser(subparsers)`` and ``run(args)``; the
heavy imports (pandas, scikit-learn, matplotlib) happen inside ``run``, so ``--help`` is quick.
Errors the user can fix print ``retroprop: error: ...`` and exit with code 2, never a traceback
(see :mod:`retroprop.cli.errors` for every exit code).

>>> main(["--version"])
retroprop 0.1.0
0
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from typing import Any

from retroprop.cli.errors import EXIT_INTERRUPTED, EXIT_USAGE, CLIError, report

__all__ = ["main", "build_parser"]

DESCRIPTION = """\
retroprop: train neural networks by backpropagation, from scratch on NumPy.

  retroprop demo                               the course's network on circles
  retroprop train --dataset moons              train on built-in data
  retroprop train --data my.csv --target y     train on your own table
  retroprop predict --model DIR --data new.csv --output predictions.csv
  retroprop export --model DIR --output model.onnx    serve it anywhere (ONNX)
  retroprop info DIR                           what a saved model is and how it did
  retroprop tune --data my.csv --target y      search the settings (trials on Dask)
"""


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors in retroprop's two-line form (exit code 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"retroprop: error: {message}", file=sys.stderr)
        print(f"retroprop: see `{self.prog} --help`", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    """The parser with every subcommand."""
    from retroprop import __version__
    from retroprop.cli import demo, experiment, export, info, predict, train, tune

    parser = _Parser(
        prog="retroprop",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    subparsers = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    for module in (train, predict, export, info, demo, experiment, tune):
        module.add_parser(subparsers)
    parser.set_defaults(version_string=f"retroprop {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command with ``argv`` (default: ``sys.argv[1:]``) and return its exit code.

    Every failure the user can fix is one line on stderr and exit code 2, never a traceback;
    Ctrl-C at any moment (start-up included) is exit code 130. Output whose reader went away
    (``retroprop train ... | head``) is dropped and the command goes on: the run is saved.
    """
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _PipeSafe(out), _PipeSafe(err)
    try:
        return _main(argv)
    finally:
        sys.stdout, sys.stderr = out, err


class _PipeSafe:
    """A text stream that, once its reader has gone (BrokenPipeError), drops what is written
    and points the descriptor at /dev/null, so neither this command nor Python's flush at
    exit fails on it."""

    def __init__(self, stream: Any) -> None:
        self._stream, self._broken = stream, False

    def _gone(self) -> None:
        self._broken = True
        with contextlib.suppress(Exception):
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, self._stream.fileno())
            os.close(null)

    def write(self, text: str) -> int:
        if not self._broken:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._gone()
        return len(text)

    def flush(self) -> None:
        if not self._broken:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._gone()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _main(argv: Sequence[str] | None) -> int:
    try:
        return _dispatch(argv)
    except CLIError as error:
        return report(error)
    except ModuleNotFoundError as error:  # installed without its extras: one line, exit 2
        from retroprop.cli.extras import missing_extra

        code = missing_extra(error)
        if code is None:
            raise
        return code
    except KeyboardInterrupt:
        print("\nretroprop: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `retroprop predict ... | head`
        return 0
    except MemoryError:
        print(
            "retroprop: error: out of memory; try a smaller --batch-size or less data",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except OSError as error:  # no space, permission, is a directory, another writer...
        print(f"retroprop: error: {_os_error_line(error)}", file=sys.stderr)
        return EXIT_USAGE


def _os_error_line(error: OSError) -> str:
    """One line for an OSError: a SaveError's own message, else the reason and the path.

    Examples
    --------
    >>> import errno
    >>> _os_error_line(OSError(errno.ENOSPC, "No space left on device", "out/report.html"))
    'cannot write out/report.html: no space left on device'
    """
    from retroprop.io import SaveError

    if isinstance(error, SaveError) or not error.strerror:
        return " ".join(str(error).split())
    reason = error.strerror[0].lower() + error.strerror[1:]
    return f"cannot write {error.filename}: {reason}" if error.filename else reason


def _dispatch(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, or argparse's own usage error (exit code 2)
        return int(exit_.code or 0)
    if args.version:
        print(args.version_string)
        return 0
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
    return int(args.handler(args))
