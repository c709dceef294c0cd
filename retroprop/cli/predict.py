"""``retroprop predict``: apply a saved model, and the preprocessing it was trained with, to new
rows; write class names and per-class probabilities (or values) as CSV."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np

from retroprop.cli.errors import EXIT_OK, CLIError

__all__ = ["add_parser", "run", "predictions_frame"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``predict``."""
    parser = subparsers.add_parser(
        "predict",
        help="predict new rows with a model written by `retroprop train`",
        description="Apply a saved model to the rows of a CSV (or Parquet) file. The file "
        "needs the columns the model was trained on (the target column may be there or not). "
        "Writes one row per input row: the predicted class and the probability of each class, "
        "or the predicted value.",
    )
    parser.add_argument("--model", required=True, metavar="DIR", help="the model folder")
    parser.add_argument("--data", required=True, metavar="FILE", help="rows to predict")
    parser.add_argument(
        "--output",
        default="-",
        metavar="FILE",
        help="where to write the predictions as CSV (default: standard output)",
    )
    parser.add_argument(
        "--keep",
        metavar="COLUMNS",
        help="input columns to copy into the output, separated by commas (e.g. an id)",
    )
    parser.set_defaults(handler=run)
    return parser


def predictions_frame(probabilities_or_values: np.ndarray, target: Any) -> Any:
    """The output table: ``prediction`` and, for classes, ``probability_<class>`` columns.

    Examples
    --------
    >>> from retroprop.cli.target import Target
    >>> frame = predictions_frame(np.array([[0.2, 0.8]]), Target("y", "binary", ["no", "yes"]))
    >>> frame.to_dict("records")
    [{'prediction': 'yes', 'probability_no': 0.2, 'probability_yes': 0.8}]
    """
    import pandas as pd

    if not target.classification:
        return pd.DataFrame({"prediction": probabilities_or_values})
    classes = np.asarray(target.classes, dtype=object)
    frame = pd.DataFrame({"prediction": classes[probabilities_or_values.argmax(axis=1)]})
    for k, name in enumerate(target.classes):
        frame[f"probability_{name}"] = probabilities_or_values[:, k]
    return frame


def _warn_about_values(prep: Any, features: Any, source: str) -> None:
    """One line per column with missing values filled in or categories not seen in training."""
    from retroprop.cli.tabular import MISSING_CATEGORY

    parsed = prep.parse(features, source)
    for column in prep.numeric:
        gaps = int(parsed[column].isna().sum())
        if gaps:
            print(
                f"retroprop: column {column!r}: {gaps} missing value(s) filled in with the "
                f"training median {prep.medians[column]:g}",
                file=sys.stderr,
            )
    for column, counts in prep.unknown_counts(features).items():
        rows = sum(counts.values())
        shown = ", ".join(f"{v!r} ({n})" for v, n in list(counts.items())[:5])
        if MISSING_CATEGORY in counts and len(counts) == 1:
            what = "missing values, never missing in training"
        else:
            what = f"value(s) not seen in training: {shown}{' ...' if len(counts) > 5 else ''}"
        print(
            f"retroprop: warning: column {column!r}: {rows} of {len(features)} row(s) hold "
            f"{what}; they match no category of that column (all its inputs 0)",
            file=sys.stderr,
        )


def run(args: argparse.Namespace) -> int:
    """The ``predict`` command."""
    from retroprop.cli.files import atomic_write
    from retroprop.cli.model_dir import open_model
    from retroprop.cli.network import predict
    from retroprop.cli.tabular import read_table

    saved = open_model(args.model)
    if saved.preprocessing is None:
        raise CLIError(
            f"{args.model} holds a model but no preprocessing: it was saved by rp.save, not "
            "by `retroprop train`",
            hint="load it in Python with rp.load and call it on prepared arrays",
        )
    prep, target = saved.preprocessing, saved.target
    frame = read_table(args.data)
    keep = [c.strip() for c in (args.keep or "").split(",") if c.strip()]
    absent = [c for c in keep if c not in frame.columns]
    if absent:
        raise CLIError(
            f"--keep: no column {absent[0]!r} in {args.data}",
            hint=f"its columns are: {', '.join(map(repr, frame.columns[:40]))}",
        )
    source = str(args.data)
    X = prep.transform(
        frame, source=source
    )  # parses by the saved schema; names absent columns first
    _warn_about_values(prep, frame, source)
    output = predictions_frame(predict(saved.model, X, target), target)
    if keep:
        import pandas as pd

        output = pd.concat([frame[keep].reset_index(drop=True), output], axis=1)
    text = output.to_csv(index=False, float_format="%.6g")
    if args.output == "-":
        sys.stdout.write(text)
    else:
        from pathlib import Path

        if not Path(args.output).resolve().parent.is_dir():
            raise CLIError(f"cannot write {args.output}: its folder does not exist")
        atomic_write(args.output, text)
        print(f"Wrote {len(output):,} predictions to {args.output}", file=sys.stderr)
    return EXIT_OK
