"""The course's networks as tests: XOR, circles, digits, and a regression (issue 3, item 6)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load_example(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_xor_with_sigmoid_units_and_per_example_updates():
    result = load_example("xor").main()
    assert result["accuracy"] == 1.0
    assert result["loss"] < 0.02
    probabilities = result["probabilities"]
    assert probabilities[[0, 3]].max() < 0.1 and probabilities[[1, 2]].min() > 0.9


def test_circles_course_network_reaches_095_test_accuracy():
    result = load_example("circles").main()
    assert result["test_accuracy"] >= 0.95
    assert result["train_accuracy"] >= 0.95
    assert result["model"].summary(print_table=False).total_parameters == 37


def test_digits_softmax_cross_entropy_reaches_096():
    result = load_example("digits").main()
    assert result["test_accuracy"] >= 0.96
    history = result["history"]
    assert history["val_loss"][-1] < history["val_loss"][0]


def test_regression_fits_a_smooth_function():
    result = load_example("regression").main()
    assert result["r2"] >= 0.98
    assert np.isfinite(result["r2"])
