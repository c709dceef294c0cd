"""How the ``retroprop`` command fails: one plain line on stderr and an exit code, no traceback.

Exit codes
----------
0
    The command did what was asked.
1
    Training diverged (the loss, an output or a gradient became NaN or inf, on the training or
    the validation rows). The model of the last epoch whose losses and outputs were finite, its
    history and its report are saved all the same, and say which epoch that is. ``experiment``
    exits 1 when any of its runs diverged.
2
    Bad input: a missing or compressed file, an unknown column or dataset, NaN or overflowing
    values in the data, an option outside its range, a network too big for the memory, an
    output that cannot be written (every ``OSError``: no space, permission, is a directory, not
    a directory, another process saving there), a model directory not written by retroprop, a
    model or rows whose predictions would not be finite.
130
    Ctrl-C, at any moment. During training the model and report reached so far are saved first;
    a save in progress is abandoned and the previous run kept.
"""

from __future__ import annotations

import sys
from typing import TextIO

__all__ = ["CLIError", "EXIT_OK", "EXIT_DIVERGED", "EXIT_USAGE", "EXIT_INTERRUPTED", "report"]

EXIT_OK = 0
EXIT_DIVERGED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class CLIError(Exception):
    """An error the user can fix; its message is printed as ``retroprop: error: <message>``.

    Parameters
    ----------
    message : str
        What is wrong, naming the file, column or option (one line).
    hint : str, optional
        A second line: what to do about it.
    code : int, default 2
        The process exit code.

    Examples
    --------
    >>> error = CLIError("no such file: data.csv", hint="check the path")
    >>> str(error), error.hint, error.code
    ('no such file: data.csv', 'check the path', 2)
    """

    def __init__(self, message: str, hint: str | None = None, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.hint = hint
        self.code = code


def report(error: CLIError, stream: TextIO | None = None) -> int:
    """Print ``error`` as one or two lines on stderr and return its exit code.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> report(CLIError("unknown dataset 'foo'", hint="choose one of: xor, circles"), out)
    2
    >>> print(out.getvalue(), end="")
    retroprop: error: unknown dataset 'foo'
    retroprop: choose one of: xor, circles
    """
    stream = sys.stderr if stream is None else stream
    print(f"retroprop: error: {error}", file=stream)
    if error.hint:
        print(f"retroprop: {error.hint}", file=stream)
    return error.code
