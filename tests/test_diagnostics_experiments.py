"""The course's gradient-flow experiments reproduce what Glorot & Bengio (2010) show.

Measured on digits (1797 images), at initialisation, over seeds 0 to 9:

- tanh, 5 hidden layers of 100 units: gradient-std ratio first/last hidden layer 0.10 to 0.12
  with the standard initialisation, 0.81 to 0.95 with the normalised (Xavier) one;
- 10 hidden layers of 32 units: gradient-norm ratio 0.03 to 0.14 for sigmoid + N(0, 1),
  0.6 to 1.9 for ReLU + He (200 examples).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retroprop.diagnostics import depth_experiment, glorot_bengio
from retroprop.diagnostics.experiments import load_dataset

PNG = b"\x89PNG\r\n\x1a\n"


def test_glorot_bengio_standard_init_shrinks_the_gradient_xavier_keeps_it(tmp_path):
    result = glorot_bengio(activation="tanh", depth=5, width=100, out_dir=tmp_path)
    standard, xavier = result.ratios["standard"], result.ratios["xavier"]
    assert standard < 0.25  # measured 0.106
    assert 0.6 < xavier < 1.6  # measured 0.83
    std_standard = [layer.grad_std for layer in result.layers["standard"]]
    assert all(np.diff(std_standard) > 0)  # every layer closer to the input gets less
    # the activations shrink layer after layer with the standard init (Figure 6, top)
    a_standard = [layer.activation_std for layer in result.layers["standard"]]
    a_xavier = [layer.activation_std for layer in result.layers["xavier"]]
    assert a_standard[-1] / a_standard[0] < 0.25 < 0.6 < a_xavier[-1] / a_xavier[0]
    assert [p.name for p in map(Path, result.figures)] == [
        "glorot_bengio_tanh_figure6_activations.png",
        "glorot_bengio_tanh_figure7_gradients.png",
    ]
    assert all(Path(path).read_bytes()[:8] == PNG for path in result.figures)
    lines = result.table.splitlines()
    assert lines[0].startswith("Glorot & Bengio (2010): 5 hidden tanh layers of 100 units")
    assert "digits (1797 examples)" in lines[0]
    assert lines[2].split() == [
        "Layer", "std(a)", "standard", "std(dJ/dz)", "standard", "std(a)", "xavier",
        "std(dJ/dz)", "xavier",
    ]  # fmt: skip
    assert f"standard {standard:.3g}, xavier {xavier:.3g}" in result.table
    assert str(result) == result.table


def test_glorot_bengio_sigmoid_and_no_figures_without_out_dir():
    result = glorot_bengio(activation="sigmoid", width=32, n_samples=300)
    assert result.figures == []
    # sigmoid's derivative is at most 1/4: the gradient vanishes even with Xavier
    assert result.ratios["standard"] < result.ratios["xavier"] < 0.05
    assert "5 hidden sigmoid layers of 32 units" in result.table


def test_depth_experiment_contrasts_sigmoid_normal_with_relu_he(tmp_path):
    result = depth_experiment(depth=10, n_samples=200, out_dir=tmp_path)
    sigmoid, relu = result.ratios["sigmoid + normal"], result.ratios["relu + he_normal"]
    assert sigmoid < 0.15  # measured 0.051
    assert 0.5 < relu < 2.5  # measured 1.50
    assert len(result.layers["relu + he_normal"]) == 10
    saturated = [layer.saturated_fraction for layer in result.layers["sigmoid + normal"]]
    assert max(saturated) > 0.1  # N(0, 1) weights push sigmoid units onto their flat tails
    assert [Path(path).name for path in result.figures] == [
        "depth_gradient_norms.png",
        "depth_gradient_histograms.png",
    ]
    assert all(Path(path).read_bytes()[:8] == PNG for path in result.figures)
    assert "sigmoid + normal 0.05" in result.table and "relu + he_normal 1.5" in result.table


def test_experiments_take_a_dataset_and_other_inits():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(120, 6)) * 0.3, rng.integers(0, 3, size=120)
    result = glorot_bengio(init=("standard", "xavier_normal", "he"), width=24, dataset=(X, y))
    assert sorted(result.ratios) == ["he", "standard", "xavier_normal"]
    assert "120 examples" in result.table
    with pytest.raises(ValueError, match="unknown init"):
        glorot_bengio(init=("bogus",), dataset=(X, y))
    with pytest.raises(ValueError, match="unknown dataset"):
        load_dataset("mnist")
    with pytest.raises(ValueError, match="depth must be at least 2"):
        depth_experiment(depth=1)
