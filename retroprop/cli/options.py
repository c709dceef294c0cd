"""The options of ``retroprop train`` (shared with ``experiment``), and their checks.

Parsing stays light (no NumPy-heavy imports) so ``retroprop --help`` answers at once.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from retroprop.cli.errors import CLIError
from retroprop.optim.optimizer import OPTIMIZERS

__all__ = [
    "TRAIN_OPTIONS",
    "add_train_arguments",
    "check_options",
    "option_name",
    "parse_layers",
    "parse_batch_size",
]

TASK_NAMES = ("auto", "binary", "multiclass", "regression")
CLASS_WEIGHTS = ("none", "balanced")


def parse_layers(text: str) -> list[int]:
    """'64,32' -> [64, 32]; '' or 'none' -> [] (no hidden layer).

    Examples
    --------
    >>> parse_layers("64, 32"), parse_layers("none")
    ([64, 32], [])
    """
    if text.strip().lower() in ("", "none", "0"):
        return []
    try:
        widths = [int(part) for part in text.split(",")]
    except ValueError:
        raise CLIError(
            f"--layers {text!r}: give hidden layer widths separated by commas, e.g. --layers 64,32"
        ) from None
    if any(w < 1 for w in widths):
        raise CLIError(f"--layers {text!r}: every width must be a positive integer")
    return widths


def parse_batch_size(text: str) -> int | None:
    """'full' -> None (full batch), '1' -> 1 (stochastic), '32' -> 32.

    Examples
    --------
    >>> parse_batch_size("full"), parse_batch_size("32")
    (None, 32)
    """
    if text.strip().lower() in ("full", "all", "none"):
        return None
    try:
        size = int(text)
    except ValueError:
        size = 0
    if size < 1:
        raise CLIError(f"--batch-size {text!r}: give a positive integer, or 'full' for full batch")
    return size


# The options of ``train`` (and ``experiment``): (argument group, flags, argparse keywords), in
# the order of --help. Group "source" is the data group's mutually exclusive --dataset / --data.
# A new flag is one row here and one field of ``retroprop.cli.config.TrainConfig``.
TRAIN_OPTIONS: tuple[tuple[str, tuple[str, ...], dict[str, Any]], ...] = (
    ("source", ("--dataset",), dict(
        metavar="NAME",
        help="built-in data, offline: xor, circles, moons, spirals, blobs, digits, iris, wine, "
        "breast-cancer, diabetes",
    )),
    ("source", ("--data",), dict(
        metavar="FILE", help="your own table: a CSV (or Parquet) file"
    )),
    ("data", ("--target",), dict(metavar="COLUMN", help="with --data: the column to predict")),
    ("data", ("--drop",), dict(
        metavar="COLUMNS", help="columns to leave out, separated by commas (e.g. ids)"
    )),
    ("data", ("--keep",), dict(
        metavar="COLUMNS",
        help="columns to use even though they look like identifiers (a distinct value per "
        "row), separated by commas",
    )),
    ("data", ("--dropna",), dict(
        action="store_true",
        help="drop rows with missing values instead of filling them in (numeric: the "
        "training median and a missing indicator; categorical: a '(missing)' category)",
    )),
    ("data", ("--task",), dict(
        choices=TASK_NAMES,
        default="auto",
        help="what to predict; auto: text or few whole numbers are classes (binary or "
        "multiclass), other numbers a regression (default: auto)",
    )),
    ("data", ("--test-size",), dict(
        type=float,
        default=0.2,
        metavar="F",
        help="fraction of rows held out for the final test (default: 0.2)",
    )),
    ("data", ("--validation-size",), dict(
        type=float,
        default=0.2,
        metavar="F",
        help="fraction of rows held out to watch training, per epoch (default: 0.2; 0: none)",
    )),
    ("network", ("--layers",), dict(
        default="32,16",
        metavar="WIDTHS",
        help="hidden layer widths, e.g. 64,32; 'none' for no hidden layer (default: 32,16)",
    )),
    ("network", ("--activation",), dict(
        default="relu",
        metavar="NAME",
        help="hidden activation: relu, leaky_relu, elu, gelu, silu, tanh, sigmoid... "
        "(default: relu)",
    )),
    ("network", ("--init",), dict(
        metavar="NAME",
        help="weight initialisation: he_normal, he_uniform, xavier_normal, xavier_uniform, "
        "lecun_normal, standard... (default: He for the ReLU family, Glorot otherwise)",
    )),
    ("network", ("--dropout",), dict(
        type=float, default=0.0, metavar="P", help="dropout after each hidden layer"
    )),
    ("network", ("--batch-norm",), dict(
        action="store_true", help="batch normalisation before each activation"
    )),
    ("training", ("--optimizer",), dict(
        choices=OPTIMIZERS, default="adam", help="(default: adam)"
    )),
    ("training", ("--lr",), dict(
        type=float, default=0.003, metavar="RATE", help="learning rate (default: 0.003)"
    )),
    ("training", ("--batch-size",), dict(
        default="200",
        metavar="N",
        help="rows per update: an integer (capped at the training rows), 1 for stochastic, "
        "'full' for full batch (default: 200)",
    )),
    ("training", ("--epochs",), dict(
        type=int, default=200, help="the most passes over the data (default: 200)"
    )),
    ("training", ("--l2",), dict(
        type=float, default=0.0, metavar="LAMBDA", help="L2 penalty on the weights"
    )),
    ("training", ("--lr-decay",), dict(
        type=float,
        metavar="GAMMA",
        help="multiply the learning rate by GAMMA after each epoch (the course's lr_decay)",
    )),
    ("training", ("--early-stopping",), dict(
        type=int,
        default=10,
        metavar="PATIENCE",
        help="stop when the validation loss has not improved for PATIENCE epochs, and keep "
        "the best epoch's weights; 0: off, train every epoch and keep the last (default: 10)",
    )),
    ("training", ("--class-weight",), dict(
        choices=CLASS_WEIGHTS,
        default="none",
        help="classification: 'balanced' weighs each row by the inverse of its class's "
        "frequency, so a rare class counts as much as a common one (default: none)",
    )),
    ("training", ("--threshold",), dict(
        type=float,
        default=0.5,
        metavar="P",
        help="binary: predict the positive class when its probability is at least P; saved "
        "with the model and used by predict (default: 0.5)",
    )),
    ("training", ("--seed",), dict(
        type=int, help="seed for the split, the weights and the shuffling"
    )),
    ("output", ("--out",), dict(
        metavar="DIR",
        help="where to write the model, history.csv, metrics.json and report.html "
        "(default: runs/<dataset>-<timestamp>)",
    )),
    ("output", ("--overwrite",), dict(
        action="store_true",
        help="replace --out even when it is a folder of other files, not a retroprop run "
        "(a previous run there is always replaced whole)",
    )),
    ("output", ("--no-diagnostics",), dict(
        action="store_true",
        help="do not record the per-layer gradient figures (the report's 'Gradient flow')",
    )),
    ("output", ("-q", "--quiet"), dict(
        action="store_true", help="no per-epoch lines and no progress bar"
    )),
)  # fmt: skip


def option_name(flags: tuple[str, ...]) -> str:
    """The attribute argparse stores a flag under: ('-q', '--quiet') -> 'quiet'.

    Examples
    --------
    >>> option_name(("--lr-decay",)), option_name(("-q", "--quiet"))
    ('lr_decay', 'quiet')
    """
    return flags[-1].lstrip("-").replace("-", "_")


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """The data, network, training and output options of :data:`TRAIN_OPTIONS`."""
    groups: dict[str, Any] = {
        name: parser.add_argument_group(name) for name in ("data", "network", "training", "output")
    }
    groups["source"] = groups["data"].add_mutually_exclusive_group()
    for group, flags, keywords in TRAIN_OPTIONS:
        groups[group].add_argument(*flags, **keywords)


def check_options(args: Any) -> None:
    """Reject impossible values before any data is read; ``args`` is only read.

    Raises
    ------
    CLIError
        Naming the option and what it accepts.
    """
    if not args.dataset and not args.data:
        raise CLIError(
            "say what to learn from: --dataset NAME (built-in) or --data FILE --target COLUMN"
        )
    if args.lr is None or not 0 < args.lr < math.inf:
        raise CLIError(f"--lr must be a positive, finite learning rate, got {args.lr}")
    if args.seed is not None and not 0 <= args.seed < 2**63:
        raise CLIError(f"--seed must be a whole number in [0, 2**63), got {args.seed}")
    if args.epochs < 1:
        raise CLIError(f"--epochs must be at least 1, got {args.epochs}")
    for flag, value in (
        ("--test-size", args.test_size),
        ("--validation-size", args.validation_size),
    ):
        if not 0.0 <= value < 1.0:
            raise CLIError(f"{flag} is a fraction of the rows in [0, 1), got {value}")
    if args.test_size + args.validation_size >= 0.9:
        raise CLIError(
            f"--test-size {args.test_size} and --validation-size {args.validation_size} leave "
            "too few rows to train on"
        )
    if not 0.0 <= args.dropout < 1.0:
        raise CLIError(f"--dropout is a probability in [0, 1), got {args.dropout}")
    if not 0 <= args.l2 < math.inf:
        raise CLIError(f"--l2 must be a finite number >= 0, got {args.l2}")
    if args.lr_decay is not None and not 0.0 < args.lr_decay <= 1.0:
        raise CLIError(f"--lr-decay is a factor in (0, 1], got {args.lr_decay}")
    if args.early_stopping is not None and args.early_stopping < 0:
        raise CLIError(
            f"--early-stopping needs a patience of at least 1 (0: off), got {args.early_stopping}"
        )
    if not 0.0 < args.threshold < 1.0:
        raise CLIError(f"--threshold is a probability in (0, 1), got {args.threshold}")
    parse_layers(args.layers)
    parse_batch_size(args.batch_size)
    from retroprop.nn.activation import ACTIVATIONS

    if args.activation.lower() not in ACTIVATIONS:
        raise CLIError(
            f"unknown activation {args.activation!r}",
            hint=f"choose one of: {', '.join(sorted(ACTIVATIONS))}",
        )
    if args.init is not None:
        from retroprop.nn import init

        try:
            init.get(args.init)
        except ValueError as error:
            raise CLIError(str(error).split(" or pass")[0]) from None
