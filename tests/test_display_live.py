"""Live training plots: ``rp.fit(..., plot=True)``, ``LivePlot``, ``LiveGradientFlow``, driven
with a fake notebook (IPython's ``display`` monkeypatched to return a recording handle)."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

import retroprop as rp
from retroprop import nn
from retroprop.callbacks import LiveGradientFlow, LivePlot
from retroprop.display import LiveDisplay, LivePlotWarning
from retroprop.display import live as live_module

pytest.importorskip("IPython")


class FakeHandle:
    """What ``display(..., display_id=True)`` returns: records each update in place."""

    def __init__(self, shown: list[str]) -> None:
        self.shown = shown

    def update(self, payload) -> None:
        self.shown.append(("update", payload._repr_html_()))


@pytest.fixture
def notebook(monkeypatch):
    """A fake Jupyter: ``in_notebook()`` is True, ``display`` records what it is given."""
    import IPython.display

    shown: list = []

    def display(payload, display_id=False):
        assert display_id is True  # an output that can be updated in place
        shown.append(("display", payload._repr_html_()))
        return FakeHandle(shown)

    monkeypatch.setattr(live_module, "in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display", display)
    return shown


class Clock:
    """A clock that moves ``step`` seconds each time it is read."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 2)).astype(np.float32)
    return X, (X[:, 0] * X[:, 1] > 0).astype(int)


def _fit(epochs: int, **options):
    X, y = _data()
    rp.manual_seed(0)
    model = nn.mlp([2, 8, 1])
    history = rp.fit(
        model,
        X,
        y,
        loss="binary_cross_entropy_with_logits",
        optimizer="adam",
        epochs=epochs,
        verbose=0,
        seed=0,
        metrics=["accuracy"],
        **options,
    )
    return model, history


def test_fit_plot_true_draws_once_then_updates_in_place_each_epoch(notebook, monkeypatch):
    monkeypatch.setattr(live_module, "MIN_INTERVAL_SECONDS", 0.0)  # no throttle: every epoch
    _, history = _fit(4, plot=True, validation_split=0.25)
    kinds = [kind for kind, _ in notebook]
    assert kinds == ["display"] + ["update"] * 4  # one output redrawn: epochs 2-4 and the end
    first, last = notebook[0][1], notebook[-1][1]
    assert "epoch 1 of 4" in first and "epoch 4 of 4" in last
    assert first.count("<polyline") == 0 and last.count("<polyline") == 4  # curves grow
    for key in ("val_loss", "accuracy", "completed 4 epochs"):
        assert key in last, key
    assert f"{history['loss'][-1]:.5g}" in last


def test_fast_epochs_are_not_redrawn_more_than_4_times_a_second(notebook):
    _fit(20, plot=True)  # 20 epochs of 64 rows: well under a second in all
    assert 2 <= len(notebook) < 20 and "epoch 20 of 20" in notebook[-1][1]


def test_redraws_are_throttled_and_the_final_curves_always_drawn(notebook):
    plot = LivePlot(min_interval=0.25, clock=Clock(0.1))  # an epoch every 0.1 s
    _fit(10, callbacks=[plot])
    assert plot.display.redraws == len(notebook)
    # epochs 1, 4, 7, 10 pass the 0.25 s throttle (0.1 s apart); the end forces one more
    assert len(notebook) == 5
    assert "epoch 10 of 10" in notebook[-1][1]


def test_live_plot_keys_choose_the_curves(notebook):
    _fit(3, callbacks=[LivePlot(keys=["loss"], clock=Clock(1.0))])
    last = notebook[-1][1]
    assert last.count("<polyline") == 1 and "accuracy" not in last


def test_outside_a_notebook_plot_warns_once_and_trains(monkeypatch):
    monkeypatch.setitem(sys.modules, "IPython", None)  # IPython not installed
    with pytest.warns(LivePlotWarning, match="no Jupyter notebook") as caught:
        model, history = _fit(3, plot=True)
    assert len([w for w in caught if w.category is LivePlotWarning]) == 1
    assert len(history) == 3


def test_ipython_without_a_kernel_is_not_a_notebook():
    # the test process imports IPython but runs no kernel: a terminal, not a notebook
    assert live_module.in_notebook() is False
    with pytest.warns(LivePlotWarning):
        display = LiveDisplay("test")
    assert display.update("<p>x</p>", force=True) is False and display.redraws == 0


def test_the_estimators_plot_through_the_callbacks_parameter(notebook):
    from retroprop.sklearn import MLPClassifier

    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning after 3 iterations
        MLPClassifier((8,), max_iter=3, random_state=0, callbacks=[LivePlot()]).fit(X, y)
    assert notebook and "epoch 3 of 3" in notebook[-1][1] and "loss" in notebook[-1][1]


def test_live_gradient_flow_redraws_the_bars_of_each_sampled_batch(notebook):
    flow = LiveGradientFlow(every=2, clock=Clock(1.0))
    _fit(2, callbacks=[flow], batch_size=16)  # 4 batches an epoch: samples 1, 3, 5, 7
    assert len({r["step"] for r in flow.records}) == 4
    assert [kind for kind, _ in notebook] == ["display"] + ["update"] * 4  # 4 + the end
    last = notebook[-1][1]
    assert "Gradient flow during training" in last and "epoch 2, batch 3" in last
    assert "0: Linear 2-&gt;8" in last and "2: Linear 8-&gt;1" in last
    assert [s.name for s in flow.latest()] == ["0: Linear 2->8", "2: Linear 8->1"]


def test_the_progress_bar_is_tqdm_auto(monkeypatch):
    """In Jupyter tqdm.auto is the notebook's bar, in a terminal the text one."""
    import tqdm.auto

    from retroprop.training.progress import ProgressBar

    made = []

    class FakeBar:
        n = 0

        def __init__(self, **options):
            made.append(options)

        def update(self, steps):
            self.n += steps

        def set_postfix(self, postfix, refresh=False):
            pass

        def close(self):
            pass

    monkeypatch.setattr(tqdm.auto, "tqdm", FakeBar)
    bar = ProgressBar(5, "Epoch 1", "batch")
    bar.update(1, loss="0.5")
    bar.close()
    assert made and made[0]["total"] == 5
