"""The search space of ``retroprop tune``: choices and log-uniform ranges, sampled by seed.

A space maps a training option (:data:`SETTINGS`) to a :class:`Choice` (a list of values) or a
:class:`LogUniform` range (``low:high``: the log of the value is uniform, the usual prior for a
learning rate or a penalty; Bergstra and Bengio 2012, "Random search for hyper-parameter
optimization"). Activation and optimiser names are checked against retroprop's registries.

Trial ``i`` of a search with seed ``s`` draws from ``numpy.random.default_rng([s, i])``: its
settings and its own training seed depend on ``(s, i)`` only, so a search gives the same trials
in any order, on one process or on a cluster.

Examples
--------
>>> space = SearchSpace.from_mapping({"lr": "1e-3:1e-1", "activation": ["relu", "tanh"]})
>>> settings, seed = space.sample(seed=0, index=3)
>>> sorted(settings), 1e-3 <= settings["lr"] <= 1e-1
(['activation', 'lr'], True)
>>> space.sample(seed=0, index=3) == (settings, seed)
True
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from retroprop.cli.errors import CLIError

__all__ = ["Choice", "LogUniform", "SearchSpace", "SETTINGS", "DEFAULT_SPACE", "load_space"]

#: The options a search varies, as ``retroprop train`` names them (``batch_size`` is
#: ``--batch-size``).
SETTINGS = ("layers", "activation", "optimizer", "lr", "batch_size", "l2", "dropout")

#: What a search tries when it is not told: small networks, two activations, two optimisers.
DEFAULT_SPACE: Mapping[str, Any] = {
    "layers": ["32", "64", "32,16", "64,32"],
    "activation": ["relu", "tanh"],
    "optimizer": ["adam", "rmsprop"],
    "lr": "1e-4:1e-1",
    "batch_size": ["32", "64", "128"],
    "l2": [0.0, 1e-5, 1e-4, 1e-3],
    "dropout": [0.0, 0.1, 0.2],
}


@dataclass(frozen=True)
class Choice:
    """One of ``values``, each as likely."""

    values: tuple[Any, ...]

    def draw(self, rng: np.random.Generator) -> Any:
        return self.values[int(rng.integers(len(self.values)))]

    def __str__(self) -> str:
        return ", ".join(map(str, self.values))


@dataclass(frozen=True)
class LogUniform:
    """A value in [low, high] whose logarithm is uniform; drawn to 3 significant digits."""

    low: float
    high: float

    def draw(self, rng: np.random.Generator) -> float:
        value = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        return min(max(float(f"{value:.3g}"), self.low), self.high)

    def __str__(self) -> str:
        return f"{self.low:g}:{self.high:g} (log-uniform)"


def _layers(value: Any) -> str:
    """'64,32', [64, 32] or 64 -> '64,32' (the form of ``--layers``), checked."""
    from retroprop.cli.options import parse_layers

    if isinstance(value, list | tuple):
        value = ",".join(str(v) for v in value) or "none"
    text = str(value)
    try:
        widths = parse_layers(text)
    except CLIError as error:
        raise ValueError(str(error)) from None
    return ",".join(map(str, widths)) if widths else "none"


def _name_in(registry: Any, what: str) -> Any:
    def check(value: Any) -> str:
        name = str(value).lower()
        if name not in registry:
            raise ValueError(f"unknown {what} {value!r}; choose from {', '.join(registry)}")
        return name

    return check


def _batch_size(value: Any) -> str:
    from retroprop.cli.options import parse_batch_size

    try:
        parse_batch_size(str(value))
    except CLIError as error:
        raise ValueError(str(error)) from None
    return str(value)


def _number(low: float, high: float, *, low_open: bool, what: str) -> Any:
    def check(value: Any) -> float:
        number = float(value)
        if not (low < number if low_open else low <= number) or not number < high:
            raise ValueError(f"{value!r} is not a {what}")
        return number

    return check


def _checkers() -> dict[str, Any]:
    """setting -> a function that returns the value in its canonical form or raises."""
    from retroprop.nn.activation import HIDDEN_ACTIVATIONS
    from retroprop.optim.optimizer import OPTIMIZERS

    return {
        "layers": _layers,
        "activation": _name_in(HIDDEN_ACTIVATIONS, "activation"),
        "optimizer": _name_in(OPTIMIZERS, "optimizer"),
        "lr": _number(0.0, math.inf, low_open=True, what="positive, finite learning rate"),
        "batch_size": _batch_size,
        "l2": _number(0.0, math.inf, low_open=False, what="finite L2 penalty >= 0"),
        "dropout": _number(0.0, 1.0, low_open=False, what="dropout probability in [0, 1)"),
    }


def _parse_range(name: str, low: Any, high: Any, check: Any) -> LogUniform:
    try:
        low, high = check(low), check(high)
    except (TypeError, ValueError) as error:
        raise ValueError(f"space {name!r}: range {low}:{high}: {error}") from None
    if not 0 < low < high:
        raise ValueError(
            f"space {name!r}: a log-uniform range needs 0 < low < high, got {low:g}:{high:g}; "
            "give a list of choices to include 0"
        )
    return LogUniform(float(low), float(high))


def parse_dimension(name: str, spec: Any) -> Choice | LogUniform:
    """One setting's values: a list (choices), 'low:high' or {low, high} (log-uniform), or a
    single value (fixed).

    Raises
    ------
    ValueError
        An unknown setting, an empty list, a value the setting cannot take (named), or a range
        that is not ``0 < low < high`` on a numeric setting.

    Examples
    --------
    >>> parse_dimension("lr", "1e-4:1e-1")
    LogUniform(low=0.0001, high=0.1)
    >>> parse_dimension("layers", [[64], "32,32", 8])
    Choice(values=('64', '32,32', '8'))
    >>> parse_dimension("activation", "relu,swishy")
    Traceback (most recent call last):
    ...
    ValueError: space 'activation': unknown activation 'swishy'; choose from sigmoid, tanh, ...
    """
    checkers = _checkers()
    if name not in checkers:
        raise ValueError(f"space: unknown setting {name!r}; settings: {', '.join(SETTINGS)}")
    check = checkers[name]
    if isinstance(spec, Mapping) and set(spec) == {"low", "high"}:
        return _parse_range(name, spec["low"], spec["high"], check)
    if isinstance(spec, str) and ":" in spec and name in ("lr", "l2", "dropout"):
        low, _, high = spec.partition(":")
        return _parse_range(name, low.strip(), high.strip(), check)
    if isinstance(spec, str):  # 'relu,tanh' on the command line; layers use ';' between
        spec = [part.strip() for part in spec.split(";" if name == "layers" else ",")]
    values = list(spec) if isinstance(spec, list | tuple) else [spec]
    if not values:
        raise ValueError(f"space {name!r}: give at least one value")
    try:
        return Choice(tuple(dict.fromkeys(check(value) for value in values)))
    except (TypeError, ValueError) as error:
        raise ValueError(f"space {name!r}: {error}") from None


@dataclass(frozen=True)
class SearchSpace:
    """The settings a search varies and their values; the others keep the base run's.

    Attributes
    ----------
    dimensions : tuple of (name, Choice or LogUniform)
        In the order of :data:`SETTINGS`.
    """

    dimensions: tuple[tuple[str, Choice | LogUniform], ...]

    @classmethod
    def from_mapping(cls, spec: Mapping[str, Any]) -> SearchSpace:
        """The space of a mapping such as :data:`DEFAULT_SPACE` (see :func:`parse_dimension`).

        Raises
        ------
        ValueError
            Naming the setting and its bad value.
        """
        spec = {str(k).replace("-", "_"): v for k, v in spec.items()}
        parsed = {name: parse_dimension(name, value) for name, value in spec.items()}
        return cls(tuple((name, parsed[name]) for name in SETTINGS if name in parsed))

    @classmethod
    def default(cls) -> SearchSpace:
        """:data:`DEFAULT_SPACE`."""
        return cls.from_mapping(DEFAULT_SPACE)

    def updated(self, spec: Mapping[str, Any]) -> SearchSpace:
        """This space with the settings of ``spec`` replaced (command-line flags over a file)."""
        mine = {name: dim for name, dim in self.dimensions}
        mine.update(SearchSpace.from_mapping(spec).dimensions)
        return SearchSpace(tuple((name, mine[name]) for name in SETTINGS if name in mine))

    def sample(self, seed: int, index: int) -> tuple[dict[str, Any], int]:
        """Trial ``index``'s settings and training seed, from ``default_rng([seed, index])``."""
        rng = np.random.default_rng([int(seed), int(index)])
        trial_seed = int(rng.integers(0, 2**31 - 1))
        return {name: dimension.draw(rng) for name, dimension in self.dimensions}, trial_seed

    def to_mapping(self) -> dict[str, Any]:
        """The space as :meth:`from_mapping` reads it (lists of choices, 'low:high' ranges).

        Examples
        --------
        >>> SearchSpace.from_mapping({"lr": "1e-3:0.1", "activation": "relu"}).to_mapping()
        {'activation': ['relu'], 'lr': '0.001:0.1'}
        """
        return {
            name: f"{dim.low!r}:{dim.high!r}" if isinstance(dim, LogUniform) else list(dim.values)
            for name, dim in self.dimensions
        }

    def describe(self) -> str:
        """One line: 'lr 1e-4:0.1 (log-uniform); activation relu, tanh; ...'."""
        return "; ".join(f"{name} {dimension}" for name, dimension in self.dimensions)


def load_space(path: str | Path) -> SearchSpace:
    """The space of a JSON (``.json``) or TOML (``.toml``) file: one key per setting.

    Raises
    ------
    ValueError
        The file is missing, not JSON/TOML, not a table of settings, or a value is bad: the
        message names the file and where.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise ValueError(f"--space {path}: cannot read it: {reason.lower()}") from None
    try:
        if path.suffix.lower() == ".toml":
            import tomllib

            spec = tomllib.loads(text)
        elif path.suffix.lower() == ".json":
            spec = json.loads(text)
        else:
            raise ValueError("name it .json or .toml")
    except ValueError as error:  # JSONDecodeError and TOMLDecodeError are ValueErrors
        raise ValueError(f"--space {path}: not a valid space file: {error}") from None
    if not isinstance(spec, dict):
        raise ValueError(f"--space {path}: expected a table of settings, got {type(spec).__name__}")
    try:
        return SearchSpace.from_mapping(spec)
    except ValueError as error:
        raise ValueError(f"--space {path}: {error}") from None
