"""``Registry``: one list of names per concept, filled where each thing is defined.

Activations, losses, initialisers, optimisers and the module types a model file may name are
each held in one registry, next to their base class; every other list of names (the command
line's choices, the estimators' allowed values, the load allowlist, the diagnostics' tables)
reads the registry when it is asked, so a new entry is known everywhere at once. This follows
Keras's ``register_keras_serializable``: a name is registered explicitly, and nothing is ever
imported by name.

Examples
--------
>>> colours = Registry("colour")
>>> _ = colours.register("red", 0xFF0000, aliases=("rouge",))
>>> colours["rouge"], "red" in colours, list(colours)
(16711680, True, ['red', 'rouge'])
>>> colours.register("red", 1)
Traceback (most recent call last):
...
ValueError: colour 'red' is already registered (16711680); unregister it first or pick another name
>>> colours.lookup("blue")
Traceback (most recent call last):
...
ValueError: unknown colour 'blue'; choose one of red, rouge
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Set
from typing import Any, Generic, TypeVar

__all__ = ["Registry", "NameView"]

T = TypeVar("T")


class Registry(Mapping[str, T], Generic[T]):
    """Names (and aliases) -> registered values of one kind, in registration order.

    A read-only mapping: ``name in registry``, ``registry[name]``, iteration over every name
    (aliases included) and ``len``. Entries are added with :meth:`register` only.

    Parameters
    ----------
    kind : str
        What is registered ("activation", "optimizer", ...), used in error messages.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}
        self._aliases: dict[str, str] = {}  # alias -> name

    def register(self, name: str, value: T, *, aliases: Iterable[str] = ()) -> T:
        """Add ``value`` under ``name`` (and each alias); returns ``value``.

        Raises
        ------
        ValueError
            When ``name`` or an alias is already registered.
        TypeError
            When a name is not a non-empty string.
        """
        names = [name, *aliases]
        for key in names:
            if not isinstance(key, str) or not key:
                raise TypeError(f"{self.kind} names are non-empty strings, got {key!r}")
            if key in self:
                raise ValueError(
                    f"{self.kind} {key!r} is already registered ({self[key]!r}); unregister it "
                    "first or pick another name"
                )
        self._entries[name] = value
        self._aliases.update((alias, name) for alias in aliases)
        return value

    def unregister(self, name: str) -> T:
        """Remove ``name`` and its aliases; returns the value that was registered.

        Raises
        ------
        KeyError
            When ``name`` is not a registered name (aliases are not accepted here).
        """
        if name not in self._entries:
            raise KeyError(f"{self.kind} {name!r} is not registered")
        self._aliases = {alias: key for alias, key in self._aliases.items() if key != name}
        return self._entries.pop(name)

    def lookup(self, name: str) -> T:
        """The value called ``name`` or one of its aliases.

        Raises
        ------
        ValueError
            For an unknown name, listing the known ones (``registry[name]`` raises KeyError).
        """
        if name not in self:
            raise ValueError(f"unknown {self.kind} {name!r}; choose one of {', '.join(self)}")
        return self[name]

    def canonical(self, name: str) -> str:
        """The registered name behind ``name`` (itself, or what the alias stands for)."""
        self.lookup(name)
        return self._aliases.get(name, name)

    def entries(self) -> dict[str, T]:
        """A copy of {name: value} without the aliases."""
        return dict(self._entries)

    def view(
        self,
        where: Callable[[str, T], bool] | None = None,
        value: Callable[[str, T], object] | None = None,
    ) -> NameView:
        """A live set of the names (aliases included) for which ``where(name, entry)`` holds.

        The view reads the registry each time it is asked, so it can be handed to argparse's
        ``choices=`` or scikit-learn's ``StrOptions`` at import time and still know an entry
        registered later. ``view[name]`` is ``value(name, entry)`` (the entry by default).

        Examples
        --------
        >>> sizes = Registry("size")
        >>> small = sizes.view(where=lambda name, n: n < 10, value=lambda name, n: n * 2)
        >>> _ = sizes.register("S", 1), sizes.register("XL", 40)
        >>> sorted(small), small["S"], "XL" in small
        (['S'], 2, False)
        """
        return NameView(self, where, value)

    def __getitem__(self, name: str) -> T:
        if not isinstance(name, str):
            raise KeyError(name)
        return self._entries[self._aliases.get(name, name)]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in self._entries or name in self._aliases)

    def __iter__(self) -> Iterator[str]:
        return iter([*self._entries, *self._aliases])

    def __len__(self) -> int:
        return len(self._entries) + len(self._aliases)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self)})"


class NameView(Set[str]):
    """A live, read-only set of some of a registry's names (see :meth:`Registry.view`).

    ``view[name]`` gives the projected entry of a name in the set (KeyError otherwise).
    """

    def __init__(
        self,
        registry: Registry,
        where: Callable[[str, Any], bool] | None,
        value: Callable[[str, Any], object] | None,
    ) -> None:
        self._registry = registry
        self._where = where
        self._value = value

    @classmethod
    def _from_iterable(cls, iterable: Iterable[str]) -> frozenset[str]:
        return frozenset(iterable)  # the result of a set operation is a plain set

    def __contains__(self, name: object) -> bool:
        registry = self._registry
        if name not in registry:
            return False
        return self._where is None or bool(self._where(name, registry[name]))  # type: ignore[arg-type]

    def __getitem__(self, name: str) -> Any:
        if name not in self:
            raise KeyError(name)
        entry = self._registry[name]
        return entry if self._value is None else self._value(name, entry)

    def __iter__(self) -> Iterator[str]:
        return iter([name for name in self._registry if name in self])

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return "{" + ", ".join(repr(name) for name in self) + "}"
