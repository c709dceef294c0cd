"""``retroprop demo``: the course's [2, 4, 4, 1] network on the circles, with its report.

The settings are the course's (deck 03, "Test"): make_circles(200, factor=0.5, noise=0.08,
random_state=1), standardised, split 70/30; ReLU hidden layers with He initialisation, one
sigmoid output unit, binary cross-entropy, SGD with learning rate 0.3.
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_parser", "run", "DEMO_ARGUMENTS"]

DEMO_ARGUMENTS = [
    "--dataset", "circles",
    "--layers", "4,4",
    "--activation", "relu",
    "--init", "he_normal",
    "--optimizer", "sgd",
    "--lr", "0.3",
    "--batch-size", "16",
    "--test-size", "0.3",
    "--validation-size", "0",
    "--task", "binary",
]  # fmt: skip
COURSE_TEST_ACCURACY = 0.9166666666666666


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``demo``."""
    parser = subparsers.add_parser(
        "demo",
        help="train the course's [2, 4, 4, 1] network on circles and write its report",
        description="Train the course's network (2 inputs, two hidden layers of 4 ReLU units "
        "with He initialisation, one sigmoid output, binary cross-entropy, SGD with learning "
        "rate 0.3) on the course's circles (standardised, 70/30 split), then write the model "
        "and report.html. Same as: retroprop train " + " ".join(DEMO_ARGUMENTS),
    )
    parser.add_argument("--out", metavar="DIR", help="output folder (default: runs/demo-<time>)")
    parser.add_argument("--epochs", type=int, default=300, help="(default: 300)")
    parser.add_argument("--seed", type=int, default=42, help="(default: 42, as in the course)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no per-epoch lines")
    parser.set_defaults(handler=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """The ``demo`` command."""
    from retroprop.cli.config import TrainConfig
    from retroprop.cli.options import add_train_arguments
    from retroprop.cli.outputs import default_out_dir
    from retroprop.cli.train import train_and_save

    parser = argparse.ArgumentParser(prog="retroprop demo")
    add_train_arguments(parser)
    out = args.out or str(default_out_dir("demo"))
    extra = ["--epochs", str(args.epochs), "--seed", str(args.seed), "--out", out]
    train_args = parser.parse_args(DEMO_ARGUMENTS + extra + (["--quiet"] if args.quiet else []))
    code, _, result = train_and_save(TrainConfig.from_args(train_args))
    test = result.metrics.get("test", {}).get("accuracy")
    if test is not None:
        print(
            f"Test accuracy {test:.3f} (the course's SimpleMLP reports {COURSE_TEST_ACCURACY:.3f})"
        )
    return code
