"""``retroprop info DIR``: what a saved model is, what it was trained on and how it did."""

from __future__ import annotations

import argparse
import json
from typing import Any

from retroprop.cli.errors import EXIT_OK

__all__ = ["add_parser", "run", "describe"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``info``."""
    parser = subparsers.add_parser(
        "info",
        help="print a saved model's layers, data and results",
        description="Print the layer table of a saved model and, for a model written by "
        "`retroprop train`, its task, inputs, settings and final loss and metrics.",
    )
    parser.add_argument("model", metavar="DIR", help="the model folder")
    parser.set_defaults(handler=run)
    return parser


def _metrics(saved: Any) -> dict[str, Any]:
    path = saved.path / "metrics.json"
    if path.is_file():
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass
    return saved.metadata.get("training") or {}


def describe(saved: Any) -> str:
    """The text ``info`` prints."""
    from retroprop.cli.outputs import results_table

    lines = [f"Model: {saved.path}", ""]
    lines.append(str(saved.model.summary(print_table=False)))
    if saved.target is None:
        lines += ["", "Saved by rp.save (no training record from `retroprop train`)."]
        return "\n".join(lines)
    target, prep = saved.target, saved.preprocessing
    lines.append("")
    lines.append(f"Data: {saved.metadata.get('source', '?')}")
    kind = target.task
    if target.classification:
        kind += f" ({len(target.classes)} classes: {', '.join(target.classes[:12])}"
        kind += " ...)" if len(target.classes) > 12 else ")"
    lines.append(f"Target: {target.name!r}, {kind}")
    inputs = ", ".join(prep.columns[:12]) + (" ..." if len(prep.columns) > 12 else "")
    lines.append(
        f"Inputs: {len(prep.columns)} columns ({len(prep.numeric)} numeric, "
        f"{len(prep.categorical)} categorical) -> {len(prep.feature_names)} features: {inputs}"
    )
    training = _metrics(saved)
    settings = training.get("settings") or {}
    for key in ("optimizer", "learning rate", "batch size", "epochs", "loss", "seed"):
        if settings.get(key) is not None:
            lines.append(f"{key.capitalize()}: {settings[key]}")
    if training.get("status"):
        lines.append(f"Training: {training['status']}")
    if training.get("metrics"):
        lines += ["", results_table(training["metrics"])]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """The ``info`` command."""
    from retroprop.cli.model_dir import open_model

    print(describe(open_model(args.model)))
    return EXIT_OK
