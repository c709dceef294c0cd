"""The command line's network helpers: one forward pass per split, modes restored, one bar."""

from __future__ import annotations

import io

import numpy as np
import pytest

pytest.importorskip("pandas")

from retroprop import nn  # noqa: E402
from retroprop.cli.network import build_network, evaluate, predict  # noqa: E402
from retroprop.cli.progress import EpochBar  # noqa: E402
from retroprop.cli.target import Target  # noqa: E402
from retroprop.training.objectives import r2_score  # noqa: E402
from retroprop.training.progress import ProgressBar  # noqa: E402


class CountCalls(nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return self.inner(x)


def test_evaluate_runs_the_model_once_and_restores_its_mode():
    target = Target("y", "multiclass", ["a", "b", "c"])
    model = CountCalls(build_network(2, [4], target, dropout=0.5))
    X = np.random.default_rng(0).normal(size=(10, 2)).astype(np.float32)
    metrics = evaluate(model, X, np.array(["a", "b", "c", "a", "b"] * 2), target)
    assert model.calls == 1 and set(metrics) == {"loss", "accuracy"}
    assert model.training  # raw_outputs used to leave the model in eval mode


def test_multiclass_probabilities_use_the_engine_softmax():
    target = Target("y", "multiclass", ["a", "b", "c"])
    model = build_network(2, [4], target)
    proba = predict(model, np.ones((3, 2), np.float32), target)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_regression_r2_is_the_shared_one():
    target = Target("y", "regression", [])
    model = build_network(1, [3], target)
    X = np.linspace(-1, 1, 8, dtype=np.float32).reshape(-1, 1)
    y = np.linspace(0, 3, 8)
    metrics = evaluate(model, X, y, target)
    assert metrics["r2"] == r2_score(y, predict(model, X, target))


def test_epoch_bar_is_the_shared_progress_bar():
    bar = EpochBar(3, stream=io.StringIO())
    bar.on_train_begin({})
    assert isinstance(bar.bar, ProgressBar) and bar.bar.bar is not None  # drawn from the start
    for epoch in (1, 2, 3):
        bar.on_epoch_end(epoch, {"loss": 0.5, "val_loss": 0.4})
    assert bar.bar.bar.n == 3
    bar.on_train_end({})
    bar.close()  # a second close is harmless
    assert bar.bar is None
