"""The global random generator that initialisers and modules draw from, as in PyTorch.

``rp.manual_seed(n)`` before building a model makes its initial weights reproducible, bit for
bit; ``rp.fit(..., seed=n)`` seeds a run's shuffling, dropout and validation split.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np

__all__ = ["manual_seed", "default_generator", "using_generator"]

_state: dict[str, np.random.Generator] = {"generator": np.random.default_rng()}


def manual_seed(seed: int) -> np.random.Generator:
    """Seed the global generator and return it.

    Examples
    --------
    >>> a = rp.manual_seed(0).standard_normal()
    >>> b = rp.manual_seed(0).standard_normal()
    >>> a == b
    True
    """
    _state["generator"] = np.random.default_rng(seed)
    return _state["generator"]


def default_generator() -> np.random.Generator:
    """The generator used when no other is given (initialisers, dropout)."""
    return _state["generator"]


@contextlib.contextmanager
def using_generator(generator: np.random.Generator) -> Iterator[np.random.Generator]:
    """Make ``generator`` the global one inside the block (restored afterwards)."""
    previous = _state["generator"]
    _state["generator"] = generator
    try:
        yield generator
    finally:
        _state["generator"] = previous
