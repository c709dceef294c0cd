"""Glorot & Bengio (2010), Figures 6 and 7, and the course's depth experiment, on digits.

Five hidden tanh layers of 100 units: with the "standard" initialisation
W ~ U[-1/sqrt(n), 1/sqrt(n)] the back-propagated gradient shrinks toward the input (its spread in
the first hidden layer is about a tenth of that in the last); with the normalised (Xavier)
initialisation it keeps about the same spread in every layer. Then ten hidden layers: sigmoid
units with N(0, 1) weights against ReLU units with He initialisation.

Run: python examples/glorot_bengio.py [OUT_DIR]
(the figures go to OUT_DIR, by default a new temporary directory)
"""

from __future__ import annotations

import sys
import tempfile

from retroprop.diagnostics import depth_experiment, glorot_bengio


def main(out_dir: str, seed: int = 0) -> dict[str, object]:
    """Run both experiments, print their tables, write their figures into ``out_dir``."""
    results = {
        "tanh": glorot_bengio(activation="tanh", out_dir=out_dir, seed=seed),
        "sigmoid": glorot_bengio(activation="sigmoid", out_dir=out_dir, seed=seed),
        "depth": depth_experiment(depth=10, out_dir=out_dir, seed=seed),
    }
    for result in results.values():
        print(result.table, end="\n\n")
    print("Figures:")
    for result in results.values():
        for path in result.figures:
            print(f"  {path}")
    return results


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="glorot_bengio_"))
