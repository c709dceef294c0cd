"""``retroprop tune``: a random search over the network's settings, trials as Dask tasks.

The command translates its options into one call of :func:`retroprop.tune.tune` and prints a
line per trial as it finishes; the search itself lives in :mod:`retroprop.tune`.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import Any

from retroprop.cli.errors import CLIError
from retroprop.cli.options import TRAIN_OPTIONS, option_name

__all__ = ["add_parser", "run", "progress_line", "SPACE_FLAGS"]

DESCRIPTION = """\
Search the network's settings for a table: try --trials random settings from a
space (choices and log-uniform ranges, from the flags below or a JSON/TOML file
given with --space), each trained like `retroprop train` on the same training
rows and scored on the same validation rows (the validation loss). Trials run as
Dask tasks on an embedded LocalCluster (one worker process per core) or on a
cluster (--scheduler). The best settings are trained again and saved as a normal
run in --out, with trials.csv, trials.json and a "Trials" section in its report.

exit codes: 0 done; 1 no trial finished (trials.csv says why); 2 bad input;
130 interrupted with Ctrl-C (the finished trials are kept, the best one saved).
"""

EXAMPLES = """\
examples:
  retroprop tune --data houses.csv --target price --trials 40
  retroprop tune --data houses.csv --target price --lr 1e-4:1e-1 --layers '64;64,64;128'
  retroprop tune --dataset digits --trials 16 --space space.toml --workers 4
  retroprop tune --data big.csv --target y --trials 200 --scheduler tcp://10.0.0.5:8786
"""

#: The flags of the space: a setting of ``retroprop train`` -> the help of its values.
SPACE_FLAGS = {
    "layers": "hidden layer widths to try, separated by ';', e.g. '64;64,64;128'",
    "activation": "hidden activations to try, e.g. relu,tanh",
    "optimizer": "optimisers to try, e.g. adam,sgd",
    "lr": "learning rate: choices 0.01,0.1 or a log-uniform range LOW:HIGH, e.g. 1e-4:1e-1",
    "batch_size": "rows per update to try, e.g. 32,128",
    "l2": "L2 penalty: choices (0,1e-4) or a log-uniform range LOW:HIGH",
    "dropout": "dropout: choices (0,0.2) or a log-uniform range LOW:HIGH",
}
_NOT_FROM_TRAIN = {*SPACE_FLAGS, "out", "quiet"}  # the best run is retrained quietly
_TUNE_OPTIONS = ("trials", "space", "scheduler", "workers")
#: The help of the options of ``retroprop train`` that mean something else here (the rest of
#: their definition, and every other option, comes from the one table, TRAIN_OPTIONS).
TUNE_HELP = {
    "seed": "the search seed: the split's seed, and trial i's settings and seed are derived "
    "from it and i (default: drawn and printed)",
}


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``tune`` and its options."""
    parser = subparsers.add_parser(
        "tune",
        help="search the network's settings (random search, trials on Dask)",
        description=DESCRIPTION,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    search = parser.add_argument_group("search")
    search.add_argument("--trials", type=int, default=20, help="settings to try (default: 20)")
    search.add_argument("--space", metavar="FILE", help="the space as a .json or .toml file")
    search.add_argument("--scheduler", metavar="ADDRESS", help="a Dask scheduler, tcp://HOST:PORT")
    search.add_argument(
        "--workers",
        type=int,
        metavar="K",
        help="worker processes of the embedded cluster (default: the cores; 0: no Dask, "
        "trials one after the other in this process)",
    )
    space = parser.add_argument_group("space (each replaces that setting of --space)")
    for name, text in SPACE_FLAGS.items():
        space.add_argument("--" + name.replace("_", "-"), metavar="VALUES", help=text)
    groups = {name: parser.add_argument_group(name) for name in ("data", "training", "output")}
    groups["network"] = groups["training"]
    groups["source"] = groups["data"].add_mutually_exclusive_group()
    for group, flags, keywords in TRAIN_OPTIONS:
        name = option_name(flags)
        if name not in _NOT_FROM_TRAIN:
            help_text = TUNE_HELP.get(name, keywords.get("help"))
            groups[group].add_argument(*flags, **{**keywords, "help": help_text})
    groups["output"].add_argument(
        "--out", "--output", dest="out", metavar="DIR", help="the best run's folder"
    )
    parser.set_defaults(handler=run)
    return parser


def _train_options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        option_name(flags): getattr(args, option_name(flags))
        for _, flags, _ in TRAIN_OPTIONS
        if option_name(flags) not in _NOT_FROM_TRAIN
    } | {"out": args.out}


def command_line(args: argparse.Namespace, seed: int) -> str:
    """The ``retroprop tune`` command that gives the same trials: the options given, the seed.

    Examples
    --------
    >>> parser = argparse.ArgumentParser()
    >>> parser = add_parser(parser.add_subparsers())
    >>> command_line(parser.parse_args(["--dataset", "xor", "--lr", "1e-3:1"]), seed=4)
    'retroprop tune --dataset xor --trials 20 --lr 1e-3:1 --seed 4'
    """
    parts = ["retroprop", "tune"]
    for _, flags, keywords in TRAIN_OPTIONS:
        name = option_name(flags)
        value = getattr(args, name, None)
        if name in _NOT_FROM_TRAIN | {"seed", "overwrite"}:
            continue
        if value != keywords.get("default", False if "action" in keywords else None):
            parts += [flags[-1]] if value is True else [flags[-1], shlex.quote(str(value))]
    parts += ["--trials", str(args.trials)]
    parts += ["--space", shlex.quote(args.space)] if args.space else []
    for name in SPACE_FLAGS:
        if getattr(args, name) is not None:
            parts += ["--" + name.replace("_", "-"), shlex.quote(getattr(args, name))]
    return " ".join([*parts, "--seed", str(seed)])


def progress_line(result: Any, search: Any) -> str:
    """One line per finished trial: its number, score, settings, and the best so far.

    Examples
    --------
    >>> from retroprop.tune import SearchResult, TrialResult
    >>> trial = TrialResult(3, 9, {"lr": 0.01, "layers": "8"}, "ok", 0.25, {"accuracy": 0.9})
    >>> print(progress_line(trial, SearchResult([trial], requested=8)))
    [1/8] trial 3: score 0.25 (accuracy 0.9)  lr=0.01 layers=8  0.0 s | best: trial 3, 0.25
    """
    settings = " ".join(f"{k}={v}" for k, v in result.settings.items())
    if result.status == "ok":
        extra = ", ".join(f"{k} {v:.4g}" for k, v in result.scores.items() if k != "loss")
        outcome = f"score {result.score:.4g}" + (f" ({extra})" if extra else "")
    else:
        outcome = f"{result.status}: {result.error.splitlines()[0][:100] if result.error else ''}"
    best = search.best
    best_text = f"trial {best.index}, {best.score:.4g}" if best is not None else "none yet"
    return (
        f"[{len(search.trials)}/{search.requested}] trial {result.index}: {outcome}  "
        f"{settings}  {result.seconds:.1f} s | best: {best_text}"
    )


def _with_flags(space: Any, args: argparse.Namespace) -> Any:
    """``space`` with the settings given as flags replaced; a bad flag is named."""
    for name in SPACE_FLAGS:
        value = getattr(args, name)
        if value is None:
            continue
        try:
            space = space.updated({name: value})
        except ValueError as error:
            reason = str(error).split(": ", 1)[-1]
            raise CLIError(f"--{name.replace('_', '-')} {value!r}: {reason}") from None
    return space


def _where(args: argparse.Namespace) -> str:
    from retroprop.tune.search import cores

    if args.scheduler:
        return f"the Dask scheduler at {args.scheduler}"
    if args.workers == 0:
        return "this process, one after the other"
    return f"a local Dask cluster of {args.workers or cores()} worker processes"


def run(args: argparse.Namespace) -> int:
    """The ``tune`` command."""
    from retroprop.tune import SearchSpace, base_config, load_space, tune

    if args.trials < 1:
        raise CLIError(f"--trials must be at least 1, got {args.trials}")
    if args.workers is not None and args.workers < 0:
        raise CLIError(f"--workers must be >= 0 (0: no Dask), got {args.workers}")
    if args.validation_size is not None and args.validation_size <= 0:
        raise CLIError("--validation-size must be > 0: each trial is scored on validation rows")
    try:
        space = load_space(args.space) if args.space else SearchSpace.default()
    except ValueError as error:
        raise CLIError(str(error)) from None
    space = _with_flags(space, args)
    base = base_config(**_train_options(args))  # checks the options, draws the seed
    if args.seed is None:
        print(f"Seed {base.seed} (drawn: no --seed given)", flush=True)
    print(f"Searching {args.trials} trials on {_where(args)}", flush=True)
    print(f"Space: {space.describe()}", flush=True)

    def on_trial(result: Any, search: Any) -> None:
        print(progress_line(result, search), flush=True)

    try:
        tuned = tune(
            trials=args.trials,
            space=space,
            scheduler=args.scheduler,
            workers=args.workers,
            on_trial=on_trial,
            command=command_line(args, base.seed),
            **{**_train_options(args), "seed": base.seed},
        )
    except ValueError as error:
        raise CLIError(str(error)) from None
    if tuned.search.interrupted:
        print(
            f"retroprop: interrupted: {len(tuned.search.trials)} of {args.trials} trials "
            f"finished and are kept in {tuned.out}/",
            file=sys.stderr,
        )
    if tuned.search.best is None:
        print(f"retroprop: error: no trial finished; see {tuned.out}/trials.csv", file=sys.stderr)
    return tuned.exit_code
