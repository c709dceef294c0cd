"""``retroprop predict``: apply a saved model, and the preprocessing it was trained with, to new
rows; write class names and per-class probabilities (or values) as CSV."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np

from retroprop.cli.errors import EXIT_OK, CLIError

__all__ = ["add_parser", "run", "predictions_frame", "check_output", "finite_predictions"]


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


def predictions_frame(
    probabilities_or_values: np.ndarray, target: Any, threshold: float = 0.5
) -> Any:
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
    from retroprop.cli.metrics import decide

    decided = decide(probabilities_or_values, threshold)  # binary: the saved --threshold
    frame = pd.DataFrame({"prediction": classes[decided]})
    for k, name in enumerate(target.classes):
        frame[f"probability_{name}"] = probabilities_or_values[:, k]
    return frame


def _report_scores(
    model: Any, X: np.ndarray, frame: Any, target: Any, threshold: float, output: str
) -> None:
    """When the rows hold the target column: print the train command's scores on them, and
    write them as JSON next to ``--output`` (``<output>.metrics.json``)."""
    if target.name not in frame.columns:
        return
    from retroprop.cli.files import json_safe, write_json
    from retroprop.cli.metrics import score_rows
    from retroprop.cli.network import logits
    from retroprop.cli.outputs import results_table
    from retroprop.cli.prepare import _parse_target

    parsed = _parse_target(frame[target.name], None)  # as training parsed it; NaN where missing
    truth = [None if value is None or value != value else value for value in parsed]
    scores, rows = score_rows(logits(model, X, target), truth, target, threshold)
    if not rows:
        return
    print(f"Scores on the {rows:,} rows with a known {target.name!r}:", file=sys.stderr)
    print(results_table({"rows": scores}), file=sys.stderr)
    if output != "-":
        write_json(f"{output}.metrics.json", json_safe({"rows": rows, "metrics": scores}))


def check_output(output: str, model_dir: str | None = None, data: str | None = None) -> None:
    """Refuse a ``--output`` that cannot be written, before any work: a folder, a missing or
    read-only folder, a read-only file, what is not a regular file (a device such as
    ``/dev/full``, a pipe: the atomic rename would replace it), a file inside ``model_dir``
    (it would break the model folder's manifest, or overwrite its config), the ``data`` file
    itself under any name (a path spelled otherwise, a link: the predictions would replace the
    rows they were made from).

    Raises
    ------
    CLIError
        Naming ``--output`` and why.
    """
    import os
    from pathlib import Path

    if output == "-":
        return
    path = Path(output)
    if path.is_dir():
        raise CLIError(f"--output {output}: it is a folder; give a file name, e.g. {path}/out.csv")
    parent = path.resolve().parent
    if not parent.is_dir():
        raise CLIError(f"--output {output}: its folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise CLIError(f"--output {output}: cannot write into {parent} (permission denied)")
    if path.exists() and not os.access(path, os.W_OK):
        raise CLIError(f"--output {output}: the file is read-only")
    if path.exists() and not path.is_file():
        raise CLIError(
            f"--output {output}: not a regular file (a device or a pipe); give a file name",
            hint="to write predictions to the terminal, use --output -",
        )
    if data is not None and path.exists() and Path(data).exists() and path.samefile(data):
        raise CLIError(
            f"--output {output} is the --data file {data}: the predictions would replace it; "
            "write them to another file",
            hint="--keep copies input columns (e.g. an id) into the predictions' file",
        )
    if model_dir is not None and Path(model_dir).resolve() in path.resolve().parents:
        raise CLIError(
            f"--output {output} is inside the model folder {model_dir}; write it elsewhere"
        )


def finite_predictions(model: Any, X: np.ndarray, target: Any, source: str) -> np.ndarray:
    """The model's predictions on ``X``, refused when any is NaN or inf (never written).

    Raises
    ------
    CLIError
        Naming how many rows and why: the model's weights or statistics are not finite, or the
        rows hold values too extreme for the model.
    """
    from retroprop.cli.network import from_logits, logits

    bad_weights = [
        name for name, array in model.state_dict().items() if not np.isfinite(array).all()
    ]
    if bad_weights:
        raise CLIError(
            f"the model's weights are not finite (NaN or inf in {', '.join(bad_weights[:3])}"
            f"{' ...' if len(bad_weights) > 3 else ''}): no prediction can be trusted",
            hint="it was saved after a divergence; train it again with a lower --lr",
        )
    outputs = logits(model, X, target)  # an inf logit may still give a finite probability
    values = from_logits(outputs, target)
    finite = np.isfinite(outputs).all(axis=1) & np.isfinite(values).reshape(len(X), -1).all(axis=1)
    if not finite.all():
        rows = np.flatnonzero(~finite)
        shown = ", ".join(str(r + 1) for r in rows[:5]) + (" ..." if len(rows) > 5 else "")
        largest = float(np.abs(X[rows]).max()) if X.size else 0.0
        raise CLIError(
            f"{len(rows):,} of {len(values):,} rows of {source} give a non-finite prediction "
            f"(NaN or inf; data rows {shown}): they hold values too extreme for the model "
            f"(up to {largest:.3g} after scaling)",
            hint="check those rows; no prediction was written",
        )
    return values


def _warn_about_values(prep: Any, parsed: Any) -> None:
    """One line per column with missing values filled in, values beyond the training range, or
    categories not seen in training (``parsed``: the rows as :meth:`Preprocessing.parse` gives)."""
    from retroprop.cli.tabular import MISSING_CATEGORY

    for column in prep.numeric:
        gaps = int(parsed[column].isna().sum())
        if gaps:
            print(
                f"retroprop: column {column!r}: {gaps} missing value(s) filled in with the "
                f"training median {prep.medians[column]:g}",
                file=sys.stderr,
            )
    for column, rows in prep.out_of_range_counts(parsed).items():
        low, high = prep.ranges[column]
        print(
            f"retroprop: warning: column {column!r}: {rows} of {len(parsed)} row(s) hold "
            f"values outside the training range [{low:g}, {high:g}]; clipped to it (a network "
            "extrapolates unreliably beyond what it saw)",
            file=sys.stderr,
        )
    for column, counts in prep.unknown_counts(parsed).items():
        rows = sum(counts.values())
        shown = ", ".join(f"{v!r} ({n})" for v, n in list(counts.items())[:5])
        if MISSING_CATEGORY in counts and len(counts) == 1:
            what = "missing values, never missing in training"
        else:
            what = f"value(s) not seen in training: {shown}{' ...' if len(counts) > 5 else ''}"
        print(
            f"retroprop: warning: column {column!r}: {rows} of {len(parsed)} row(s) hold "
            f"{what}; they match no category of that column (all its inputs 0)",
            file=sys.stderr,
        )


def run(args: argparse.Namespace) -> int:
    """The ``predict`` command."""
    from retroprop.cli.files import atomic_write, check_not_compressed
    from retroprop.cli.model_dir import open_model, require_preprocessing, stored_threshold
    from retroprop.cli.tabular import read_table

    check_output(args.output, model_dir=args.model, data=args.data)
    saved = open_model(args.model)
    require_preprocessing(
        saved, args.model, hint="load it in Python with rp.load and call it on prepared arrays"
    )
    prep, target = saved.preprocessing, saved.target
    check_not_compressed(args.data)  # as train does
    frame = read_table(args.data)
    keep = [c.strip() for c in (args.keep or "").split(",") if c.strip()]
    absent = [c for c in keep if c not in frame.columns]
    if absent:
        raise CLIError(
            f"--keep: no column {absent[0]!r} in {args.data}",
            hint=f"its columns are: {', '.join(map(repr, frame.columns[:40]))}",
        )
    source = str(args.data)
    parsed = prep.parse(frame, source)  # by the saved schema; names absent columns first
    X = prep.encode(parsed, source=source)
    _warn_about_values(prep, parsed)
    threshold = stored_threshold(saved.metadata)
    values = finite_predictions(saved.model, X, target, source)
    output = predictions_frame(values, target, threshold)
    _report_scores(saved.model, X, frame, target, threshold, args.output)
    if keep:
        import pandas as pd

        output = pd.concat([frame[keep].reset_index(drop=True), output], axis=1)
    text = output.to_csv(index=False, float_format="%.6g")
    if args.output == "-":
        sys.stdout.write(text)
    else:
        atomic_write(args.output, text)
        print(f"Wrote {len(output):,} predictions to {args.output}", file=sys.stderr)
    return EXIT_OK
