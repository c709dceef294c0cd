"""One validated, immutable configuration of a training run, built once from the options.

``retroprop train`` (and ``experiment`` and ``demo``) parse the command line, then build a
:class:`TrainConfig`; nothing downstream changes it. A variant (``experiment --vary``) is a
new config from :meth:`TrainConfig.replace`, validated again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from retroprop.cli.errors import CLIError
from retroprop.cli.options import (
    TRAIN_OPTIONS,
    check_options,
    option_name,
    parse_batch_size,
    parse_layers,
)

__all__ = ["TrainConfig", "OPTION_NAMES"]

OPTION_NAMES = tuple(option_name(flags) for _, flags, _ in TRAIN_OPTIONS)
_CHOICES = {
    option_name(flags): (flags[-1], keywords["choices"])
    for _, flags, keywords in TRAIN_OPTIONS
    if "choices" in keywords
}


@dataclass(frozen=True)
class TrainConfig:
    """The options of a training run, checked; one attribute per flag of ``retroprop train``.

    Attributes
    ----------
    dataset, data, target, drop, keep, dropna, task, test_size, validation_size
        Where the data come from and how they are split (``--dataset`` ... ``--validation-size``).
    layers, activation, init, dropout, batch_norm
        The network, as given (``--layers "32,16"``, ...).
    optimizer, lr, batch_size, epochs, l2, lr_decay, early_stopping, class_weight, threshold
        The training, as given (``early_stopping`` 0 or None: off).
    seed : int
        ``--seed``, or a random one drawn once when it was not given.
    out, overwrite, no_diagnostics, quiet
        The output options.
    hidden : tuple of int
        The hidden widths ``layers`` names (``()`` for none).
    batch : int or None
        The rows per update ``batch_size`` names (None: full batch).

    Examples
    --------
    >>> import argparse
    >>> from retroprop.cli.options import add_train_arguments
    >>> parser = argparse.ArgumentParser()
    >>> add_train_arguments(parser)
    >>> config = TrainConfig.from_args(parser.parse_args(["--dataset", "xor", "--seed", "1"]))
    >>> config.hidden, config.batch, config.replace(layers="8,8,8").hidden
    ((32, 16), 200, (8, 8, 8))
    """

    dataset: str | None
    data: str | None
    target: str | None
    drop: str | None
    keep: str | None
    dropna: bool
    task: str
    test_size: float
    validation_size: float
    layers: str
    activation: str
    init: str | None
    dropout: float
    batch_norm: bool
    optimizer: str
    lr: float
    batch_size: str
    epochs: int
    l2: float
    lr_decay: float | None
    early_stopping: int | None
    class_weight: str
    threshold: float
    seed: int
    out: str | None
    overwrite: bool
    no_diagnostics: bool
    quiet: bool
    hidden: tuple[int, ...]
    batch: int | None

    @classmethod
    def from_args(cls, args: Any, **overrides: Any) -> TrainConfig:
        """The config of parsed arguments (``argparse.Namespace``), with ``overrides`` applied.

        Raises
        ------
        CLIError
            Naming the first option with an impossible value.
        """
        options = {name: getattr(args, name) for name in OPTION_NAMES}
        return cls.from_options({**options, **overrides})

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> TrainConfig:
        """The config of one value per option name (:data:`OPTION_NAMES`), checked.

        Raises
        ------
        CLIError
            Naming the first option with an impossible value.
        """
        unknown = sorted(set(options) - set(OPTION_NAMES))
        if unknown:
            raise CLIError(f"unknown training option(s): {', '.join(unknown)}")
        check_options(SimpleNamespace(**options))
        for name, (flag, choices) in _CHOICES.items():
            if options[name] not in choices:
                raise CLIError(
                    f"{flag} {options[name]!r} is not one of: {', '.join(map(str, choices))}"
                )
        seed = options["seed"]
        if seed is None:
            import numpy as np

            seed = int(np.random.default_rng().integers(0, 2**31 - 1))
        return cls(
            **{**options, "seed": seed},
            hidden=tuple(parse_layers(options["layers"])),
            batch=parse_batch_size(options["batch_size"]),
        )

    def options(self) -> dict[str, Any]:
        """The options as given (what :meth:`from_options` takes), the seed resolved."""
        return {name: getattr(self, name) for name in OPTION_NAMES}

    def replace(self, **changes: Any) -> TrainConfig:
        """A new config with some options changed, checked again (``self`` is left as it is).

        Raises
        ------
        CLIError
            When a changed value is impossible.
        """
        return TrainConfig.from_options({**self.options(), **changes})

    def as_dict(self) -> dict[str, Any]:
        """Every attribute, derived ones included (saved with the model)."""
        return dataclasses.asdict(self)
