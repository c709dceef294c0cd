"""``retroprop experiment``: the same training run once per value of one option, compared.

For instance ``--vary init=standard,xavier_normal,he_normal`` replays the spirit of Glorot and
Bengio's experiment: the same data and network, only the initialisation changes. Each run is
saved as ``retroprop train`` would save it, in ``OUT/<option>=<value>/``; the comparison is
``OUT/comparison.csv`` and ``OUT/report.html`` (the curves of every run on shared axes).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from retroprop.cli.config import TrainConfig
from retroprop.cli.course_experiments import NAMES, run_named
from retroprop.cli.errors import EXIT_DIVERGED, EXIT_OK, CLIError
from retroprop.cli.options import add_train_arguments

__all__ = ["add_parser", "run", "parse_vary", "VARIABLE"]

VARIABLE = {
    "lr": float,
    "optimizer": str,
    "init": str,
    "activation": str,
    "layers": str,
    "batch_size": str,
    "l2": float,
    "dropout": float,
    "lr_decay": float,
    "seed": int,
}


def parse_vary(text: str) -> tuple[str, list[Any]]:
    """'lr=0.01,0.1' -> ('lr', [0.01, 0.1]); layer lists use '/' between layers.

    Examples
    --------
    >>> parse_vary("lr=0.01,0.1")
    ('lr', [0.01, 0.1])
    >>> parse_vary("layers=8/8,32")
    ('layers', ['8,8', '32'])
    """
    name, _, values = text.partition("=")
    key = name.strip().lstrip("-").replace("-", "_")
    if key not in VARIABLE or not values:
        raise CLIError(
            f"--vary {text!r}: give OPTION=VALUE1,VALUE2,...",
            hint=f"options that can vary: {', '.join(k.replace('_', '-') for k in VARIABLE)}",
        )
    try:
        parsed = [VARIABLE[key](v.strip().replace("/", ",")) for v in values.split(",")]
    except ValueError as error:
        raise CLIError(f"--vary {text!r}: {error}") from error
    return key, parsed


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``experiment``."""
    parser = subparsers.add_parser(
        "experiment",
        help="train once per value of one option and compare the runs",
        description="Train the same network once per value of one option (every other option "
        "as for `retroprop train`) and compare the runs in one table and one report.",
        epilog="examples: retroprop experiment glorot-bengio; retroprop experiment depth; "
        "retroprop experiment --dataset spirals --layers 16,16 "
        "--vary optimizer=sgd,momentum,adam --epochs 100",
    )
    parser.add_argument(
        "name",
        nargs="?",
        choices=NAMES,
        help="one of the course's experiments instead of --vary: glorot-bengio (5 hidden "
        "tanh/sigmoid layers, standard vs Xavier initialisation, Figures 6 and 7 of Glorot & "
        "Bengio 2010) or depth (depth 10: sigmoid + N(0, 1) vs ReLU + He)",
    )
    parser.add_argument(
        "--vary",
        metavar="OPTION=V1,V2,...",
        help=f"the option to vary and its values; one of {', '.join(VARIABLE)} "
        "(for layers, separate widths with '/': layers=8/8,32)",
    )
    add_train_arguments(parser)
    parser.set_defaults(handler=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """The ``experiment`` command."""
    from retroprop.cli.experiment_report import write_comparison
    from retroprop.cli.outputs import default_out_dir
    from retroprop.cli.train import train_and_save

    if args.seed is not None and not 0 <= args.seed < 2**63:
        raise CLIError(f"--seed must be a whole number in [0, 2**63), got {args.seed}")
    if args.name:
        return run_named(args)
    if not args.vary:
        raise CLIError(
            "experiment needs --vary OPTION=V1,V2,... or the name of a course experiment",
            hint=f"for example: retroprop experiment {NAMES[0]}, or --vary lr=0.01,0.1",
        )
    key, values = parse_vary(args.vary)
    base_out = Path(args.out) if args.out else default_out_dir(f"experiment-{key}")
    seed = 0 if args.seed is None else args.seed  # the same for every run unless it varies
    labels = [f"{key}={value}".replace(",", "_") for value in values]
    configs = [  # every variant is checked before the first one trains
        TrainConfig.from_args(
            args, **{"seed": seed, key: value}, out=str(base_out / label), quiet=True
        )
        for value, label in zip(values, labels, strict=True)
    ]
    runs = []
    for label, config in zip(labels, configs, strict=True):
        print(f"[{len(runs) + 1}/{len(values)}] {label} ...", flush=True)
        code, _, result = train_and_save(config)
        if code not in (0, 1):
            return code
        runs.append((label, result))
        shown = ", ".join(
            f"{split} {name} {value:.4g}"
            for split, row in result.metrics.items()
            for name, value in row.items()
            if split != "train" and value is not None
        )
        print(f"    {result.outcome}: {shown}", flush=True)
    write_comparison(base_out, key, runs)
    print(
        f"Comparison: {base_out / 'comparison.csv'}, report {base_out / 'report.html'}",
        file=sys.stderr,
    )
    diverged = [label for label, result in runs if result.outcome == "diverged"]
    if diverged:  # exit codes as documented: 1 when training diverged
        print(f"retroprop: training diverged in {', '.join(diverged)}", file=sys.stderr)
        return EXIT_DIVERGED
    return EXIT_OK
