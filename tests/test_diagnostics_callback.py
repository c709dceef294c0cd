"""Diagnostics(every=N): per-layer figures recorded during fit, a warning per new problem."""

from __future__ import annotations

import copy

import matplotlib.figure
import numpy as np
import pytest

import retroprop as rp
from retroprop import nn
from retroprop.diagnostics import Diagnostics, DiagnosticsWarning, diagnose
from retroprop.training import Callback, DivergenceError

RECORD_KEYS = {
    "epoch", "batch", "layer", "activation_mean", "activation_std", "grad_norm", "grad_std",
    "weight_grad_norm", "update_ratio", "dead_fraction", "saturated_fraction",
}  # fmt: skip


@pytest.fixture
def data(rng):
    X = rng.normal(size=(64, 3)).astype(np.float32)
    return X, X.sum(axis=1)


class _HookCounter(Callback):
    """After each batch (and after Diagnostics), count the forward hooks on the model."""

    def __init__(self) -> None:
        self.counts: list[int] = []

    def on_batch_end(self, batch, logs):
        self.counts.append(sum(len(m._forward_hooks) for m in self.trainer.model.modules()))


def _fit(model, X, y, callbacks, lr=0.05, **options):
    options.setdefault("verbose", 0)
    options.setdefault("epochs", 3)
    options.setdefault("batch_size", 16)
    return rp.fit(
        model,
        X,
        y,
        loss="mse",
        optimizer=rp.optim.SGD(model.parameters(), lr=lr),
        seed=0,
        callbacks=callbacks,
        **options,
    )


def test_records_every_n_batches_with_the_documented_keys(data):
    X, y = data
    rp.manual_seed(0)
    model = nn.mlp([3, 8, 8, 1])
    diagnostics = Diagnostics(every=5)
    _fit(model, X, y, [diagnostics])  # 4 batches per epoch, 12 in all: steps 1, 6 and 11
    samples = sorted({(r["epoch"], r["batch"], r["step"]) for r in diagnostics.records})
    assert samples == [(1, 1, 1), (2, 2, 6), (3, 3, 11)]
    assert len(diagnostics.records) == 3 * 3  # three Linear layers per sample
    assert RECORD_KEYS <= set(diagnostics.records[0])
    assert [r["layer"] for r in diagnostics.records[:3]] == [
        "0: Linear 3->8",
        "2: Linear 8->8",
        "4: Linear 8->1",
    ]
    assert diagnostics.batches_per_epoch == {1: 4, 2: 4, 3: 4}
    assert diagnostics.problems == []


def test_hooks_are_attached_only_for_the_sampled_batches(data):
    X, y = data
    rp.manual_seed(0)
    model = nn.mlp([3, 8, 8, 1])
    counter = _HookCounter()
    _fit(model, X, y, [Diagnostics(every=3), counter])
    # after batch k the hooks are on the model only when batch k + 1 is sampled (4, 7, 10, 13)
    hooked = [count > 0 for count in counter.counts]
    assert hooked == [False, False, True] * 4
    assert counter.counts[2] == 5  # three Linear layers, the two ReLUs after them
    assert all(not m._forward_hooks for m in model.modules())


def test_recorded_figures_are_those_of_the_training_batch(data):
    X, y = data
    rp.manual_seed(0)
    model = nn.mlp([3, 8, 8, 1])
    initial = copy.deepcopy(model)
    diagnostics = Diagnostics(every=100)
    _fit(model, X, y, [diagnostics], lr=0.05, epochs=1, shuffle=False)
    expected = diagnose(initial, X[:16], y[:16], loss="mse", optimizer=0.05, max_samples=None)
    for record, layer in zip(diagnostics.records, expected.layers, strict=True):
        assert record["layer"] == layer.name
        for key in ("activation_mean", "activation_std", "grad_norm", "grad_std"):
            assert record[key] == pytest.approx(getattr(layer, key), rel=1e-5), key
        assert record["weight_grad_norm"] == pytest.approx(layer.weight_grad_norm, rel=1e-5)
        # for plain SGD the step taken is lr * dJ/dW
        assert record["update_ratio"] == pytest.approx(layer.update_ratio, rel=1e-3)
        assert record["dead_fraction"] == layer.dead_fraction


def test_warns_once_when_a_problem_appears(data, capsys):
    X, y = data
    rp.manual_seed(0)
    model = nn.mlp([3, 8, 8, 1])
    model[2].bias.data[:] = -100.0  # dead for ever: no gradient reaches it
    diagnostics = Diagnostics(every=1)
    with pytest.warns(DiagnosticsWarning, match="dead_units") as caught:
        _fit(model, X, y, [diagnostics], verbose=1)
    assert len([w for w in caught if issubclass(w.category, DiagnosticsWarning)]) == 1
    assert len(diagnostics.problems) == 1
    problem = diagnostics.problems[0]
    assert (problem.kind, problem.epoch, problem.batch) == ("dead_units", 1, 1)
    assert problem.layers == ["2: Linear 8->8"]
    assert all(
        r["dead_fraction"] == 1.0 for r in diagnostics.records if r["layer"].startswith("2:")
    )
    assert capsys.readouterr().out.count("Diagnostics: [dead_units] (epoch 1, batch 1)") == 1


def test_small_batches_do_not_claim_dead_units(data):
    X, y = data
    rp.manual_seed(0)
    diagnostics = Diagnostics(every=2)
    _fit(nn.mlp([3, 8, 1]), X, y, [diagnostics], epochs=1, batch_size=4)
    assert all(r["dead_fraction"] is None for r in diagnostics.records)
    assert diagnostics.problems == []


def test_plot_history_draws_three_panels(data, tmp_path):
    X, y = data
    rp.manual_seed(0)
    model = nn.mlp([3, 8, 8, 1], activation="tanh")
    diagnostics = Diagnostics(every=2)
    _fit(model, X, y, [diagnostics])
    figure = diagnostics.plot_history()
    assert isinstance(figure, matplotlib.figure.Figure)
    gradient, dead, saturated = figure.axes
    assert len(gradient.lines) == 3 and gradient.get_yscale() == "log"
    assert len(saturated.lines) == 2  # tanh layers only; the output layer does not saturate
    xs = gradient.lines[0].get_xdata()
    assert xs[0] == pytest.approx(0.25) and xs[-1] == pytest.approx(2.75)  # epoch - 1 + b / 4
    path = tmp_path / "history.png"
    diagnostics.plot_history(path)
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_hooks_do_not_outlive_a_diverged_run(data):
    X, y = data
    rp.manual_seed(0)
    model = nn.mlp([3, 8, 8, 1])
    diagnostics = Diagnostics(every=1)
    with pytest.raises(DivergenceError), pytest.warns(DiagnosticsWarning) as caught:
        _fit(model, X, y * 1e3, [diagnostics], lr=1e3, epochs=5)
    assert "[exploding_gradient] (epoch 1, batch 1)" in str(caught[0].message)  # seen in time
    # fit calls on_train_end before it raises: no hook is left on the model.
    assert all(not m._forward_hooks for m in model.modules())


def test_every_must_be_a_positive_int():
    with pytest.raises(ValueError, match="every must be a positive int"):
        Diagnostics(every=0)
