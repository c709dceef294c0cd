"""A display that redraws in place in a Jupyter notebook, at most a few times a second.

:class:`LiveDisplay` wraps IPython's ``display(..., display_id=True)`` and the handle's
``update``; the live-plot callbacks (``retroprop.training.live.LivePlot``,
``retroprop.diagnostics.live.LiveGradientFlow``) draw through it. IPython is imported only when
a live display starts (``pip install retroprop[notebook]``).

Outside a notebook (no IPython, or IPython without a kernel: a terminal or a script) nothing
can be redrawn in place: the display warns once, with :class:`LivePlotWarning`, and shows
nothing, so a notebook's training code still runs as a script.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from typing import Any

__all__ = ["LiveDisplay", "LivePlotWarning", "in_notebook", "MIN_INTERVAL_SECONDS"]

MIN_INTERVAL_SECONDS = 0.25  # at most 4 redraws a second: drawing must not slow training


class LivePlotWarning(UserWarning):
    """A live plot was asked for where it cannot be drawn (no Jupyter kernel)."""


def in_notebook() -> bool:
    """True inside a Jupyter kernel (IPython importable and running with a kernel)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class _Html:
    """An HTML payload for ``display`` (IPython's ``HTML`` without importing it here)."""

    def __init__(self, markup: str) -> None:
        self.markup = markup

    def _repr_html_(self) -> str:
        return self.markup

    def __repr__(self) -> str:
        return "<retroprop live display>"


class LiveDisplay:
    """One notebook output that is redrawn in place, throttled.

    Parameters
    ----------
    name : str
        Who asks (named in the warning outside a notebook).
    min_interval : float, optional
        Seconds between two redraws (default ``MIN_INTERVAL_SECONDS``, 0.25); updates in
        between are skipped (the last one is drawn by ``update(..., force=True)``, which the
        callbacks call when training ends).
    clock : callable, optional
        Returns the time in seconds (default ``time.monotonic``; tests pass their own).

    Attributes
    ----------
    active : bool
        False outside a notebook: ``update`` does nothing.
    redraws : int
        How many times the output was drawn.
    """

    def __init__(
        self,
        name: str,
        min_interval: float | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.name = name
        self.min_interval = MIN_INTERVAL_SECONDS if min_interval is None else float(min_interval)
        self.clock = time.monotonic if clock is None else clock
        self.handle: Any = None
        self.redraws = 0
        self._last = -float("inf")
        self.active = in_notebook()
        if not self.active:
            warnings.warn(
                f"{name}: no Jupyter notebook here (IPython with a kernel), so the live plot is "
                "not drawn; training goes on without it. Run in Jupyter "
                "(pip install 'retroprop[notebook]'), or leave plot=False outside one.",
                LivePlotWarning,
                stacklevel=6,  # the user's call to fit (fit, run, prepare, on_train_begin)
            )

    def update(self, markup: Callable[[], str] | str, force: bool = False) -> bool:
        """Draw ``markup`` (HTML, or a function that makes it: only called when drawn).

        Returns True when it was drawn, False when skipped (too soon, or not in a notebook).
        """
        if not self.active:
            return False
        now = self.clock()
        if not force and now - self._last < self.min_interval:
            return False
        payload = _Html(markup() if callable(markup) else markup)
        if self.handle is None:
            from IPython.display import display

            self.handle = display(payload, display_id=True)
        else:
            self.handle.update(payload)
        self._last = now
        self.redraws += 1
        return True
