"""Whether operations record a computational graph: ``no_grad``, ``enable_grad``,
``set_grad_enabled``, with PyTorch's behaviour (context managers and decorators)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["no_grad", "enable_grad", "is_grad_enabled", "set_grad_enabled"]

F = TypeVar("F", bound=Callable[..., Any])


class _GradModeState(threading.local):
    """The switch read by every op, one per thread (as PyTorch's grad mode is thread-local): a
    thread inside ``no_grad`` (say, validating) never stops another thread's graph (say, one
    fit of a search run in threads by joblib). Each thread starts with grad mode on."""

    enabled: bool = True


_GradMode = _GradModeState()


def is_grad_enabled() -> bool:
    """Return True when new operations record the graph that ``backward()`` needs.

    Examples
    --------
    >>> is_grad_enabled()
    True
    >>> with no_grad():
    ...     is_grad_enabled()
    False
    """
    return _GradMode.enabled


class _Switch:
    """A context manager and decorator that sets grad mode to ``self.mode`` inside."""

    mode: bool

    def __enter__(self) -> None:
        self._previous = _GradMode.enabled
        _GradMode.enabled = self.mode

    def __exit__(self, *exc_info: object) -> None:
        _GradMode.enabled = self._previous

    def __call__(self, function: F) -> F:
        mode = self.mode

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            previous = _GradMode.enabled
            _GradMode.enabled = mode
            try:
                return function(*args, **kwargs)
            finally:
                _GradMode.enabled = previous

        return wrapper  # type: ignore[return-value]


class no_grad(_Switch):
    """Record no graph inside the block: for inference and for in-place parameter updates.

    Tensors computed inside have ``requires_grad=False`` and no ``grad_fn``. Works as
    ``with rp.no_grad():``, as ``@rp.no_grad()`` and as ``@rp.no_grad``.

    Examples
    --------
    >>> w = rp.tensor([1.0, 2.0], requires_grad=True)
    >>> with rp.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """

    mode = False

    def __new__(cls, function: Callable[..., Any] | None = None) -> Any:
        if function is None:
            return super().__new__(cls)
        return super().__new__(cls)(function)  # used bare, as @no_grad

    def __init__(self, function: Callable[..., Any] | None = None) -> None:
        pass


class enable_grad(_Switch):
    """Record the graph inside the block, even within ``no_grad()``."""

    mode = True

    def __new__(cls, function: Callable[..., Any] | None = None) -> Any:
        if function is None:
            return super().__new__(cls)
        return super().__new__(cls)(function)

    def __init__(self, function: Callable[..., Any] | None = None) -> None:
        pass


class set_grad_enabled(_Switch):
    """Turn graph recording on or off: at once when called, or for a ``with`` block.

    Parameters
    ----------
    mode : bool
        True records operations, False does not.

    Examples
    --------
    >>> _ = set_grad_enabled(False)
    >>> is_grad_enabled()
    False
    >>> _ = set_grad_enabled(True)
    >>> with set_grad_enabled(False):
    ...     is_grad_enabled()
    False
    >>> is_grad_enabled()
    True
    """

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self._previous = _GradMode.enabled
        _GradMode.enabled = self.mode

    def __enter__(self) -> None:
        pass  # already set by __init__; __exit__ restores the mode from before it
