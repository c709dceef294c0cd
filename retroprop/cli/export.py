"""``retroprop export``: a model folder as one ONNX file, raw columns in, labels and
probabilities (or values) out, with the saved preprocessing inside the graph."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from retroprop.cli.errors import EXIT_OK, CLIError

__all__ = ["add_parser", "run", "export_command"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``export``."""
    parser = subparsers.add_parser(
        "export",
        help="write a model from `retroprop train` as an ONNX file, preprocessing included",
        description="Write a model folder as one ONNX graph that takes the raw input columns "
        "(one input per column, named as in the CSV: numbers as float, text and booleans as "
        "strings) and applies the saved imputation, clipping, scaling and one-hot encoding, "
        "then the network. Outputs: `label` (class names) and `probabilities`, or `variable` "
        "(the predicted value). Any ONNX runtime (onnxruntime, in any language) serves it.",
    )
    parser.add_argument("--model", required=True, metavar="DIR", help="the model folder")
    parser.add_argument(
        "--output", required=True, metavar="FILE", help="the ONNX file to write, e.g. model.onnx"
    )
    parser.set_defaults(handler=run)
    return parser


def export_command(model_dir: str, output: str = "model.onnx") -> str:
    """The command line that exports ``model_dir`` (for the report and the README).

    Examples
    --------
    >>> export_command("runs/penguins")
    'retroprop export --model runs/penguins --output model.onnx'
    """
    import shlex

    return f"retroprop export --model {shlex.quote(model_dir)} --output {shlex.quote(output)}"


def _check_weights(model: Any) -> None:
    import numpy as np

    bad = [name for name, array in model.state_dict().items() if not np.isfinite(array).all()]
    if bad:
        raise CLIError(
            f"the model's weights are not finite (NaN or inf in {', '.join(bad[:3])}"
            f"{' ...' if len(bad) > 3 else ''}): an exported model would predict nothing useful",
            hint="it was saved after a divergence; train it again with a lower --lr",
        )


def run(args: argparse.Namespace) -> int:
    """The ``export`` command."""
    from retroprop.cli.files import atomic_write
    from retroprop.cli.model_dir import open_model, require_preprocessing, stored_threshold
    from retroprop.cli.predict import check_output

    if args.output == "-":
        raise CLIError("--output -: an ONNX file is binary; give a file name, e.g. model.onnx")
    check_output(args.output, model_dir=args.model)
    saved = open_model(args.model)
    require_preprocessing(
        saved, args.model, hint="export it in Python with retroprop.onnx on prepared arrays"
    )
    _check_weights(saved.model)
    import onnx

    from retroprop.onnx._tables import table_model

    threshold = stored_threshold(saved.metadata)
    try:
        onnx_model = table_model(saved.model, saved.preprocessing, saved.target, threshold)
    except ValueError as error:  # a module or a layout the export does not support
        raise CLIError(f"cannot export {args.model}: {error}") from error
    try:
        onnx.checker.check_model(onnx_model, full_check=True)
    except onnx.checker.ValidationError as error:  # a stored name or value ONNX refuses
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CLIError(
            f"cannot export {args.model}: the graph is not valid ONNX: {first}"
        ) from error
    atomic_write(args.output, onnx_model.SerializeToString())
    inputs = ", ".join(repr(i.name) for i in onnx_model.graph.input[:8])
    more = f" ... ({len(onnx_model.graph.input)} in all)" if len(onnx_model.graph.input) > 8 else ""
    outputs = ", ".join(o.name for o in onnx_model.graph.output)
    print(f"Wrote {args.output}: inputs {inputs}{more}; outputs {outputs}", file=sys.stderr)
    return EXIT_OK
