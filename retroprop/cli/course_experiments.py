"""``retroprop experiment glorot-bengio`` and ``retroprop experiment depth``: the course's
vanishing-gradient experiments, printed as tables and written as figures."""

from __future__ import annotations

import argparse
from pathlib import Path

from retroprop.cli.errors import EXIT_OK

__all__ = ["NAMES", "run_named"]

NAMES = ("glorot-bengio", "depth")


def run_named(args: argparse.Namespace) -> int:
    """Run one of the course's experiments on the digits; figures go to ``--out``."""
    from retroprop.cli.outputs import default_out_dir
    from retroprop.diagnostics import depth_experiment, glorot_bengio

    out = Path(args.out) if args.out else default_out_dir(f"experiment-{args.name}")
    seed = 0 if args.seed is None else args.seed
    if args.name == "glorot-bengio":
        # Five hidden layers of 100 units, "standard" U[-1/sqrt(n), 1/sqrt(n)] against the
        # normalised (Xavier) initialisation: tanh as in the paper's Figures 6 and 7, then sigmoid.
        results = [
            glorot_bengio(activation=activation, out_dir=out / activation, seed=seed)
            for activation in ("tanh", "sigmoid")
        ]
    else:
        # Depth 10: sigmoid + N(0, 1), as in early networks, against ReLU + He initialisation.
        results = [depth_experiment(out_dir=out, seed=seed)]
    for result in results:
        print(result.table, end="\n\n")
    figures = [figure for result in results for figure in result.figures]
    print(f"Figures: {', '.join(figures)}")
    return EXIT_OK
