"""The progress bar within an epoch: shown only once the epoch has proved long."""

from __future__ import annotations

import sys
import time
from typing import Any

__all__ = ["EpochProgress"]

SHOW_AFTER_SECONDS = 1.0


class EpochProgress:
    """A tqdm bar that appears after ``SHOW_AFTER_SECONDS`` of an epoch, with the batch loss.

    Short epochs print only their summary line; long ones get a live bar (on stderr) that is
    removed when the epoch ends. Without tqdm installed, nothing is shown.
    """

    def __init__(self, total: int, epoch: int, verbose: int) -> None:
        self.total = total
        self.epoch = epoch
        self.enabled = bool(verbose) and total > 1
        self.started = time.perf_counter()
        self.bar: Any = None

    def update(self, batch: int, loss: float) -> None:
        """Record that ``batch`` (1-based) is done with this loss."""
        if not self.enabled:
            return
        if self.bar is None:
            if time.perf_counter() - self.started < SHOW_AFTER_SECONDS or batch >= self.total:
                return
            try:
                from tqdm.auto import tqdm
            except ImportError:
                self.enabled = False
                return
            self.bar = tqdm(
                total=self.total,
                initial=batch,
                desc=f"Epoch {self.epoch}",
                leave=False,
                unit="batch",
                file=sys.stderr,
                mininterval=0.2,
            )
        else:
            self.bar.update(1)
        self.bar.set_postfix(loss=f"{loss:.4f}", refresh=False)

    def close(self) -> None:
        """Remove the bar (if it appeared)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
