"""``retroprop train``: data in, a trained model and its report out.

The command translates options into one call of ``rp.fit`` (layer 5) and hands the result to
``rp.save`` and the report: it trains nothing itself.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from retroprop.cli.config import TrainConfig
from retroprop.cli.errors import EXIT_DIVERGED, EXIT_INTERRUPTED, EXIT_OK, CLIError
from retroprop.cli.options import add_train_arguments

__all__ = ["add_parser", "run", "train_and_save", "prepare_checked", "make_optimizer"]

DESCRIPTION = """\
Train a multilayer perceptron on built-in data (--dataset) or on your own CSV
(--data FILE --target COLUMN). Numeric columns are standardised, text columns
one-hot encoded; the task (binary, multiclass, regression) follows from the
target. Writes the model, history.csv, metrics.json and report.html to --out.

exit codes: 0 done; 1 training diverged (the last finite model is saved);
2 bad input; 130 interrupted with Ctrl-C (the model so far is saved).
"""

EXAMPLES = """\
examples:
  retroprop train --dataset circles --layers 4,4 --optimizer sgd --lr 0.3 --epochs 300
  retroprop train --dataset digits --layers 64 --epochs 30 --early-stopping 5
  retroprop train --data houses.csv --target price --drop id --out runs/houses
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``train`` and its options."""
    parser = subparsers.add_parser(
        "train",
        help="train a network on a dataset or a CSV and write its report",
        description=DESCRIPTION,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_train_arguments(parser)
    parser.set_defaults(handler=run)
    return parser


def _loss_description(loss: str) -> str:
    """The loss registry's description of ``loss`` (the name itself when it is unknown)."""
    from retroprop.nn.functional import LOSSES

    return LOSSES[loss].description if loss in LOSSES else loss


def _settings(args: TrainConfig, data: Any, model: Any, loss: str) -> dict[str, Any]:
    rows = " / ".join(
        f"{len(data.frames[s]):,}" if s in data.frames else "0"
        for s in ("train", "validation", "test")
    )
    target = data.target
    task = target.task + (f" ({', '.join(target.classes)})" if target.classification else "")
    widths = [data.n_features, *args.hidden, target.output_width]
    return {
        "data": data.description,
        "rows (train / validation / test)": rows,
        "left out columns (--drop)": args.drop or None,
        "dropped rows (--dropna)": data.dropped_rows or None,
        "target": target.name,
        "task": task,
        "input features": f"{data.n_features} after encoding "
        f"({len(data.preprocessing.numeric)} numeric standardised, "
        f"{len(data.preprocessing.categorical)} categorical one-hot)",
        "network": " → ".join(map(str, widths)),
        "hidden activation": args.activation,
        "output": {
            "binary": "1 sigmoid unit",
            "multiclass": f"{widths[-1]} logits (softmax)",
            "regression": "1 identity unit (standardised target)",
        }[target.task],
        "initialisation": args.init or "default (He for ReLU family, Glorot otherwise)",
        "dropout": args.dropout or None,
        "batch norm": args.batch_norm,
        "loss": _loss_description(loss),
        "optimizer": args.optimizer,
        "learning rate": args.lr,
        "lr decay per epoch": args.lr_decay,
        "L2 penalty": args.l2 or None,
        "batch size": "full batch" if args.batch is None else min(args.batch, len(data.X["train"])),
        "epochs": args.epochs,
        "early stopping patience": args.early_stopping or "off",
        "class weight": args.class_weight,
        "decision threshold": args.threshold if target.task == "binary" else None,
        "seed": args.seed,
        "parameters": model.summary(print_table=False).total_params,
    }


def make_optimizer(model: Any, args: TrainConfig) -> Any:
    """The optimiser ``args.optimizer`` at ``args.lr`` over the model's parameters, the L2
    penalty ``args.l2`` on the weight matrices only, not the biases (as in the course).

    Shared by ``retroprop train`` and each trial of ``retroprop tune``.

    Raises
    ------
    ValueError
        An unknown optimiser name (from :func:`retroprop.optim.get_optimizer`).

    Examples
    --------
    >>> from types import SimpleNamespace  # the three fields of a TrainConfig it reads
    >>> config = SimpleNamespace(optimizer="sgd", lr=0.5, l2=1e-3)
    >>> optimizer = make_optimizer(nn.Sequential(nn.Linear(2, 3)), config)
    >>> [group["weight_decay"] for group in optimizer.param_groups]
    [0.001, 0.0]
    """
    from retroprop.optim import get_optimizer

    weights, others = [], []
    for name, parameter in model.named_parameters():
        (weights if name.endswith("weight") and parameter.ndim == 2 else others).append(parameter)
    groups = [{"params": weights, "weight_decay": args.l2}]
    if others:
        groups.append({"params": others, "weight_decay": 0.0})
    return get_optimizer(args.optimizer, groups, lr=args.lr)


def _status(history: Any, diverged: str | None, epochs: int) -> tuple[str, str, str]:
    if diverged:
        return f"Diverged: {diverged}", "bad", "diverged"
    if history.interrupted:
        return (
            f"Interrupted with Ctrl-C after {len(history.epoch)} of {epochs} epochs; the "
            "model reached so far is saved.",
            "warn",
            "interrupted",
        )
    reason = history.stop_reason or f"completed {len(history.epoch)} epochs"
    if history.best_epoch is not None:
        reason += f"; kept the weights of epoch {history.best_epoch}"
    return reason[0].upper() + reason[1:] + ".", "ok", "completed"


def _announce(data: Any) -> None:
    from retroprop.cli.data_summary import summary_lines

    target = data.target
    rows = ", ".join(f"{len(f):,} {s}" for s, f in data.frames.items())
    _say(f"Data: {data.description}")
    _say(
        f"Rows: {rows}; {data.n_features} input features; task {target.task}"
        + (f" ({', '.join(target.classes[:10])})" if target.classification else "")
    )
    for line in summary_lines(data.summary):
        _say(line)


def _say(*parts: Any) -> None:
    print(*parts, flush=True)


def _callbacks(config: TrainConfig, data: Any, optimizer: Any) -> tuple[list[Any], Any]:
    """Early stopping and the learning-rate decay the options ask for, and the gradient-flow
    recorder (returned second, None with ``--no-diagnostics``)."""
    from retroprop.report.gradient_flow import make_callback
    from retroprop.training import EarlyStopping

    callbacks: list[Any] = []
    if config.early_stopping:  # None or 0: off
        monitor = "val_loss" if "validation" in data.X else "loss"
        callbacks.append(EarlyStopping(monitor=monitor, patience=config.early_stopping))
    if config.lr_decay is not None:
        from retroprop.optim.lr_scheduler import ExponentialLR

        callbacks.append(ExponentialLR(optimizer, gamma=config.lr_decay))
    diagnostics = None
    if not config.no_diagnostics:
        batches = -(-len(data.X["train"]) // (config.batch or len(data.X["train"])))
        if hasattr(data, "total_batches"):  # partitions streamed: X["train"] is a sample
            batches = data.total_batches(config.batch)
        diagnostics = make_callback(config.epochs * batches)
    if diagnostics is not None:
        callbacks.append(diagnostics)
    return callbacks, diagnostics


def _fit(config: TrainConfig, data: Any, model: Any) -> tuple[Any, str | None, Any, str]:
    """Train ``model``; returns (history, why it diverged or None, gradient recorder, loss)."""
    import retroprop as rp
    from retroprop.cli.network import training_view
    from retroprop.cli.outputs import split_weights
    from retroprop.cli.progress import EpochBar, Recorder, lines_above
    from retroprop.training import DivergenceError

    trained, loss = training_view(model, data.target)
    optimizer = make_optimizer(model, config)
    recorder = Recorder()
    extra, diagnostics = _callbacks(config, data, optimizer)
    show_bar = not config.quiet and sys.stderr.isatty()
    bar = EpochBar(config.epochs) if show_bar else None
    callbacks = [recorder, *extra] + ([bar] if bar is not None else [])
    validation = None
    if "validation" in data.X:
        weights = split_weights(data, "validation", config.class_weight)
        validation = (data.X["validation"], data.y("validation"))
        validation += () if weights is None else (weights,)
    widths = [data.n_features, *config.hidden, data.target.output_width]
    _say(
        f"Training [{' → '.join(map(str, widths))}] with {config.optimizer} "
        f"(lr {config.lr:g}), loss {loss}, seed {config.seed}"
    )
    diverged = None
    fit = rp.fit
    if getattr(data, "reader", None) is not None:  # partitioned data: epochs streamed
        from retroprop.cli.stream_train import stream_fitter

        fit = stream_fitter(data, config.class_weight)
    with lines_above(show_bar):
        try:
            fit(
                trained,
                data.X["train"],
                data.y("train"),
                loss=loss,
                optimizer=optimizer,
                epochs=config.epochs,
                batch_size=config.batch,
                sample_weight=split_weights(data, "train", config.class_weight),
                validation_data=validation,
                callbacks=callbacks,
                metrics=["accuracy"] if data.target.classification else ["r2"],
                verbose=0 if config.quiet else 1,
                seed=config.seed,
            )
        except DivergenceError as error:
            diverged = str(error)
        except ValueError as error:  # data fit rejects: already checked, but never a traceback
            raise CLIError(f"training stopped: {error}") from error
        finally:
            if bar is not None:
                bar.close()
    return recorder.history, diverged, diagnostics, loss


def _exit_code(outcome: str, diverged: str | None, out: Path, kept: int | None) -> int:
    if outcome == "diverged":
        print(f"retroprop: error: training diverged: {diverged}", file=sys.stderr)
        which = f"epoch {kept}" if kept else "the initial weights"
        print(
            f"retroprop: the last finite model ({which}) and its report are in {out}/",
            file=sys.stderr,
        )
        return EXIT_DIVERGED
    if outcome == "interrupted":
        print(f"retroprop: interrupted; the model so far is saved in {out}/", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_OK


def reproduce_command(config: TrainConfig) -> str:
    """The ``retroprop train`` command of this run: every option that differs from its default,
    and the seed (drawn or given), shell-quoted.

    Examples
    --------
    >>> from retroprop.cli.options import add_train_arguments
    >>> parser = argparse.ArgumentParser()
    >>> add_train_arguments(parser)
    >>> config = TrainConfig.from_args(parser.parse_args(["--data", "my file.csv", "--target",
    ...                                "y", "--batch-norm", "--seed", "7"]))
    >>> reproduce_command(config)
    "retroprop train --data 'my file.csv' --target y --batch-norm --seed 7"
    """
    import shlex

    from retroprop.cli.options import TRAIN_OPTIONS, option_name

    parts = ["retroprop", "train"]
    for _, flags, keywords in TRAIN_OPTIONS:
        name = option_name(flags)
        value = getattr(config, name)
        if name in ("out", "quiet") or (name != "seed" and value == keywords.get("default")):
            continue
        if keywords.get("action") == "store_true":
            parts += [flags[-1]] if value else []
        else:
            parts += [flags[-1], shlex.quote(str(value))]
    return " ".join(parts)


def _judge(config: TrainConfig, model: Any, data: Any, history: Any, metrics: Any) -> Any:
    """The run's :class:`~retroprop.cli.verdict.Verdict`, on the weights kept."""
    from retroprop.cli.network import predict
    from retroprop.cli.verdict import dead_units, judge

    held_out = next(s for s in ("test", "validation", "train") if s in data.X)
    prediction = None
    if data.target.task == "regression":
        prediction = predict(model, data.X[held_out], data.target)
    logs = dict(history.history) if history is not None else {}
    return judge(
        data.target.task,
        metrics,
        logs,
        getattr(history, "best_epoch", None),
        dead_units(model, data.X["train"]),
        prediction,
        config.epochs,
    )


def _worst(*levels: str) -> str:
    return max(levels, key=("ok", "warn", "bad").index)


def prepare_checked(config: TrainConfig) -> Any:
    """The data of a run (:func:`retroprop.cli.prepare.prepare_data`: read, split, encoded),
    refused when encoding made any value non-finite (overflow after scaling).

    Shared by ``retroprop train`` and ``retroprop tune`` (which splits once for every trial).

    Raises
    ------
    CLIError
        A compressed file, unreadable data or a bad target (from ``prepare_data``), or columns
        that overflow float32 once standardised, named with their row counts.
    """
    import numpy as np

    from retroprop.cli.files import check_not_compressed
    from retroprop.cli.prepare import prepare_data

    check_not_compressed(config.data)
    with np.errstate(over="ignore", invalid="ignore"):  # reported below, in one line
        data = prepare_data(config)
    names = data.preprocessing.feature_names
    bad: dict[str, int] = {}
    for X in data.X.values():
        rows_per_column = (~np.isfinite(X)).sum(axis=0)
        for index in np.flatnonzero(rows_per_column):
            bad[names[index]] = bad.get(names[index], 0) + int(rows_per_column[index])
    if bad:
        shown = ", ".join(f"{name!r} ({count} rows)" for name, count in list(bad.items())[:5])
        raise CLIError(
            f"values too large: column {shown} overflows after standardising (the network "
            f"computes in float32, up to {np.finfo(np.float32).max:.3g})",
            hint="rescale those columns (e.g. take a logarithm) or fix the extreme rows",
        )
    return data


def _check_memory(config: TrainConfig, data: Any) -> None:
    """Refuse a network and batch that cannot fit in memory, before building it."""
    from retroprop.cli.budget import check_memory

    widths = [data.n_features, *config.hidden, data.target.output_width]
    rows = len(data.X["train"])
    check_memory(widths, min(config.batch or rows, rows) if rows else 1)


def _train(config: TrainConfig, data: Any) -> tuple[Any, Any, str | None, str, dict[str, Any]]:
    """Build and train the network; (model, RunResult, why it diverged, loss, settings)."""
    from retroprop.cli.network import config_network
    from retroprop.cli.outputs import RunResult, evaluate_splits, results_table
    from retroprop.report.gradient_flow import summarise

    model = config_network(config, data.n_features, data.target)
    history, diverged, diagnostics, loss = _fit(config, data, model)
    status, level, outcome = _status(history, diverged, config.epochs)
    started = time.perf_counter()
    flow = summarise(diagnostics)
    flow_seconds = time.perf_counter() - started
    metrics, baseline, details = evaluate_splits(model, data, config.threshold, config.class_weight)
    verdict = _judge(config, model, data, history, {**metrics, **baseline})
    result = RunResult(history, status, _worst(level, verdict.level), outcome, metrics, flow)
    result.details, result.baseline, result.verdict = details, baseline, verdict
    result.command, result.threshold = reproduce_command(config), config.threshold
    result.report_seconds = flow_seconds
    _say("")
    _say(results_table({**metrics, **baseline}))
    _say("\n" + str(verdict))
    if diagnostics is not None and flow.problems:
        _say("Gradient flow: " + "\n".join(flow.problems))
    return model, result, diverged, loss, _settings(config, data, model, loss)


def train_and_save(
    config: TrainConfig, data: Any = None, finish: Any = None
) -> tuple[int, Any, Any]:
    """Prepare the data, train, evaluate and save; returns (exit code, model, RunResult).

    The output folder is checked and locked before training (:func:`run_folder`), and the run
    is published there as one unit when everything is written. ``data``: the data already
    prepared (``retroprop tune``); ``finish(folder, result)``: called before saving, to add
    files and fields to the run.
    """
    from retroprop.cli.export import export_command
    from retroprop.cli.outputs import default_out_dir, run_folder, save_run

    data = prepare_checked(config) if data is None else data
    _announce(data)
    _check_memory(config, data)
    out = Path(config.out) if config.out else default_out_dir(data.source)
    with run_folder(out, overwrite=config.overwrite) as folder:
        model, result, diverged, loss, settings = _train(config, data)
        if finish is not None:
            finish(folder, result)
        started = time.perf_counter()
        save_run(folder, model, data, result, settings, config.as_dict())
        seconds = time.perf_counter() - started + result.report_seconds
    _say(f"\nSaved the model, history.csv, metrics.json and report.html to {out}/")
    _say(f"Report written in {seconds:.2f} s (figures and files)")
    _say(f"Report: {(out / 'report.html').resolve().as_uri()}")
    _say(f"Reproduce: {result.command}")
    _say(f"Export to ONNX: {export_command(str(out))}")
    kept = result.history.params.get("kept_epoch") if result.history is not None else None
    return _exit_code(result.outcome, diverged, out, kept), model, result


def run(args: argparse.Namespace) -> int:
    """The ``train`` command."""
    config = TrainConfig.from_args(args)
    if getattr(args, "seed", None) is None:
        _say(f"Seed {config.seed} (drawn: no --seed given; it is saved with the run)")
    return train_and_save(config)[0]
