"""What the terminal shows while ``retroprop train`` runs, and what the run keeps if it fails.

``fit(verbose=1)`` prints the course's line per epoch; on an interactive terminal,
:class:`EpochBar` adds a live bar over the epochs with the current losses, and
:func:`lines_above` keeps ``fit``'s lines printing above the bar instead of through it.
:class:`Recorder` holds on to the run's ``History`` so it survives a ``DivergenceError``.
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Iterator
from typing import Any

from retroprop.training.callbacks import Callback
from retroprop.training.progress import ProgressBar

__all__ = ["Recorder", "EpochBar", "lines_above"]


class Recorder(Callback):
    """Keeps a handle on the run (its ``History``) for after ``fit`` returns or raises."""

    reads_gradients = False

    @property
    def history(self) -> Any:
        """The run's History, with the epochs completed so far."""
        return self.trainer.history


class EpochBar(Callback):
    """A bar over the epochs (``retroprop.training.progress.ProgressBar``), with the latest
    loss and validation loss."""

    reads_gradients = False

    def __init__(self, epochs: int, stream: Any = None) -> None:
        self.epochs = epochs
        self.stream = sys.stderr if stream is None else stream
        self.bar: ProgressBar | None = None

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        self.bar = ProgressBar(self.epochs, "Training", "epoch", stream=self.stream)
        self.bar.update(0)  # drawn from the start: an epoch of the command line may be long

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if self.bar is None:
            return
        shown = {k: f"{v:.4f}" for k, v in logs.items() if k in ("loss", "val_loss")}
        self.bar.update(epoch, **shown)

    def on_train_end(self, logs: dict[str, Any]) -> None:
        self.close()

    def close(self) -> None:
        """Remove the bar; safe to call more than once (``fit`` also ends the run's callbacks
        with ``on_train_end`` after a divergence, and the command closes the bar again)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class _LineWriter(io.TextIOBase):
    """A stdout stand-in that clears the bars on ``bar_stream``, writes whole lines to
    ``target``, and lets the bars redraw below them."""

    def __init__(self, target: Any, bar_stream: Any) -> None:
        self.target = target
        self.bar_stream = bar_stream
        self.pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        from tqdm.auto import tqdm

        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        if lines:
            with tqdm.external_write_mode(file=self.bar_stream):
                self.target.write("".join(line + "\n" for line in lines))
                self.target.flush()
        return len(text)

    def flush(self) -> None:
        self.target.flush()


@contextlib.contextmanager
def lines_above(enabled: bool) -> Iterator[None]:
    """Print ``fit``'s lines above the progress bar (on stderr) while it is shown."""
    if not enabled:
        yield
        return
    writer = _LineWriter(sys.stdout, sys.stderr)
    with contextlib.redirect_stdout(writer):
        try:
            yield
        finally:
            if writer.pending:
                writer.write("\n")
