"""Progress bars: the one tqdm bar every part of retroprop shows (on stderr).

:class:`ProgressBar` appears only once its work has proved long (``show_after`` seconds) and
is removed when closed; without tqdm installed, nothing is shown. ``fit`` shows one within a
long epoch (:class:`EpochProgress`); the command line shows one over the epochs
(``retroprop.cli.progress.EpochBar``).
"""

from __future__ import annotations

import sys
import time
from typing import Any

__all__ = ["ProgressBar", "EpochProgress", "SHOW_AFTER_SECONDS"]

SHOW_AFTER_SECONDS = 1.0


class ProgressBar:
    """A tqdm bar over ``total`` steps, drawn once ``show_after`` seconds have passed.

    Parameters
    ----------
    total : int
        Steps in all.
    desc, unit : str
        tqdm's label and unit.
    enabled : bool, default True
        False: show nothing.
    show_after : float, default 0.0
        Seconds before the bar may appear (0: at the first update; a bar is never drawn at
        its last step, when there is nothing left to wait for).
    stream : file, optional
        Where to draw (default: stderr).

    Examples
    --------
    >>> bar = ProgressBar(3, "Training", "epoch", enabled=False)
    >>> bar.update(1, loss="0.5"); bar.close(); bar.bar is None
    True
    """

    def __init__(
        self,
        total: int,
        desc: str,
        unit: str,
        *,
        enabled: bool = True,
        show_after: float = 0.0,
        stream: Any = None,
    ) -> None:
        self.total = total
        self.desc, self.unit = desc, unit
        self.enabled = enabled
        self.show_after = show_after
        self.stream = stream
        self.started = time.perf_counter()
        self.bar: Any = None

    def update(self, done: int, **postfix: str) -> None:
        """Record that ``done`` (1-based) steps are finished; show ``postfix`` beside the bar."""
        if not self.enabled:
            return
        if self.bar is None:
            if time.perf_counter() - self.started < self.show_after or done >= self.total:
                return
            try:
                from tqdm.auto import tqdm
            except ImportError:
                self.enabled = False
                return
            self.bar = tqdm(
                total=self.total,
                initial=done,
                desc=self.desc,
                leave=False,
                unit=self.unit,
                file=sys.stderr if self.stream is None else self.stream,
                mininterval=0.2,
            )
        else:
            self.bar.update(done - self.bar.n)
        self.bar.set_postfix(postfix, refresh=False)

    def close(self) -> None:
        """Remove the bar (if it appeared)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class EpochProgress(ProgressBar):
    """The bar within one epoch of ``fit``, over its batches, with the batch loss.

    Short epochs print only their summary line; long ones (over ``SHOW_AFTER_SECONDS``) get a
    live bar that is removed when the epoch ends.
    """

    def __init__(self, total: int, epoch: int, verbose: int) -> None:
        super().__init__(
            total,
            f"Epoch {epoch}",
            "batch",
            enabled=bool(verbose) and total > 1,
            show_after=SHOW_AFTER_SECONDS,
        )
        self.epoch = epoch

    def update(self, batch: int, loss: float) -> None:  # type: ignore[override]
        """Record that ``batch`` (1-based) is done with this loss."""
        if self.enabled:  # not even the formatting for a run without a bar
            super().update(batch, loss=f"{loss:.4f}")
