"""The memory a training run will need, estimated before anything is allocated.

A network of widths ``[n_0, n_1, ..., n_L]`` holds ``sum_l (n_{l-1} + 1) n_l`` parameters; with
their gradients and an optimiser's state (Adam keeps two moments) that is about four float32
copies. A batch of ``B`` rows keeps each layer's pre-activation and activation for the
backward pass, about ``3 B n_l`` floats per layer. The estimate is compared with the memory the
machine (or its cgroup) has, and a run that cannot fit is refused naming the largest layer and
the flag to change, instead of failing after minutes with a ``MemoryError``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from retroprop.cli.errors import CLIError

__all__ = ["estimate_bytes", "available_bytes", "check_memory"]

_FLOAT_BYTES = 4  # the command line trains in float32
_PARAMETER_COPIES = 4  # weights, gradients, two optimiser moments
_ACTIVATION_COPIES = 3  # pre-activation, activation, gradient flowing back


def estimate_bytes(widths: Sequence[int], batch_rows: int) -> tuple[int, int, int]:
    """(total bytes, bytes of the largest layer's weights, its index) for ``widths`` and a batch.

    Examples
    --------
    >>> total, largest, index = estimate_bytes([2, 1000, 1], 10)
    >>> index, largest
    (0, 12000)
    """
    parameters = [
        (fan_in + 1) * fan_out for fan_in, fan_out in zip(widths[:-1], widths[1:], strict=True)
    ]
    largest_index = max(range(len(parameters)), key=parameters.__getitem__)
    weights = sum(parameters) * _FLOAT_BYTES * _PARAMETER_COPIES
    activations = batch_rows * sum(widths) * _FLOAT_BYTES * _ACTIVATION_COPIES
    return weights + activations, parameters[largest_index] * _FLOAT_BYTES, largest_index


def available_bytes() -> int | None:
    """The machine's physical memory, or its cgroup's limit when lower; None when unknown."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(limit_file).read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, int(text))
    return total


def _gb(size: float) -> str:
    return f"{size / 1e9:.3g} GB"


def check_memory(widths: Sequence[int], batch_rows: int, limit: int | None = None) -> int:
    """Refuse a network and batch that would not fit in memory; return the estimate in bytes.

    Parameters
    ----------
    widths : sequence of int
        The layer widths, inputs first, outputs last.
    batch_rows : int
        The rows of one batch (all training rows for full batch).
    limit : int, optional
        The bytes available (default: :func:`available_bytes`).

    Raises
    ------
    CLIError
        When the estimate exceeds ``limit``: names the largest layer and ``--layers`` when the
        weights alone do not fit, else ``--batch-size``.

    Examples
    --------
    >>> check_memory([2, 8, 1], 32, limit=10**9) > 0
    True
    >>> check_memory([2, 60000, 60000, 1], 32, limit=10**9)
    Traceback (most recent call last):
    ...
    retroprop.cli.errors.CLIError: the network needs about 57.7 GB (layer 1, 60000 -> 60000, \
alone holds 14.4 GB of weights) but this machine has 1 GB of memory
    """
    total, largest, index = estimate_bytes(widths, batch_rows)
    limit = available_bytes() if limit is None else limit
    if limit is None or total <= limit:
        return total
    weights_total, _, _ = estimate_bytes(widths, 0)
    if weights_total > limit:
        raise CLIError(
            f"the network needs about {_gb(total)} (layer {index}, {widths[index]} -> "
            f"{widths[index + 1]}, alone holds {_gb(largest)} of weights) but this machine "
            f"has {_gb(limit)} of memory",
            hint="choose narrower layers with --layers",
        )
    raise CLIError(
        f"a batch of {batch_rows:,} rows through layers {' -> '.join(map(str, widths))} needs "
        f"about {_gb(total)} but this machine has {_gb(limit)} of memory",
        hint="choose a smaller --batch-size",
    )
