"""rp.playground: the widgets driven from a test, and every figure checked against the course's
own arithmetic (a manual forward and backward pass)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

import retroprop as rp
from retroprop.nn.activation import ACTIVATIONS, HIDDEN_ACTIVATIONS
from retroprop.optim import OPTIMIZERS, SGD, register_optimizer
from retroprop.playground.data import make_data, split, user_data
from retroprop.playground.drawing import class_shading, diverging, png
from retroprop.playground.session import Session, Settings, parse_hidden

pytest.importorskip("ipywidgets")
pytest.importorskip("sklearn")

ROOT = Path(__file__).resolve().parent.parent


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def manual_pass(pg, X, y):
    """The course's forward and backward pass for a tanh network with one logit and BCE:
    z_l = a_{l-1} W_l + b_l, a_l = tanh(z_l); delta_L = sigmoid(z_L) - y (per example),
    delta_l = (delta_{l+1} W_{l+1}^T) * (1 - a_l**2)."""
    Ws, bs = pg.state.weights, pg.state.biases
    a, zs, activations = X, [], []
    for number, (W, b) in enumerate(zip(Ws, bs, strict=True)):
        z = a @ W + b
        a = z if number == len(Ws) - 1 else np.tanh(z)
        zs.append(z)
        activations.append(a)
    deltas = [sigmoid(zs[-1]) - y.reshape(-1, 1)]
    for W, a in zip(Ws[:0:-1], activations[-2::-1], strict=True):
        deltas.insert(0, (deltas[0] @ W.T) * (1.0 - a**2))
    return zs, activations, deltas


@pytest.fixture
def circles():
    return rp.playground(
        dataset="circles", hidden="4, 3", optimizer="adam", learning_rate=0.03, seed=0
    )


def test_import_retroprop_does_not_import_the_widgets():
    code = (
        "import sys, retroprop as rp; "
        "assert 'ipywidgets' not in sys.modules and 'retroprop.playground' not in sys.modules; "
        "pg = rp.playground; assert callable(pg) and pg.Playground; print('ok')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "ok", result.stderr


def test_training_on_circles_lowers_both_losses_and_draws_every_figure(circles):
    assert circles.state.epoch == 0 and circles.state.train_loss == []
    circles.controls["epochs_per_frame"].value = 5
    circles.train(60)
    state = circles.state
    assert state.epoch == 60 and len(state.train_loss) == len(state.test_loss) == 60
    assert state.train_loss[-1] < 0.5 * state.train_loss[0]
    assert state.test_loss[-1] < 0.5 * state.test_loss[0]
    assert state.boundary.shape == (48, 48, 2)
    assert np.allclose(state.boundary.sum(axis=-1), 1.0)
    assert [a.shape for a in state.neurons] == [(4, 48, 48), (3, 48, 48)]
    assert [W.shape for W in state.weights] == [(2, 4), (4, 3), (3, 1)]
    # the boundary is the model's own prediction on the plane: inside positive, outside not
    centre = state.boundary[24, 24, 1]
    corners = state.boundary[[0, 0, -1, -1], [0, -1, 0, -1], 1]
    assert centre > 0.9 and (corners < 0.1).all()
    for name in ("network", "boundary", "loss", "gradients", "inspector"):
        assert circles.outputs[name].value.startswith(("<svg", "<div")), name
    assert "epoch 60" in circles.outputs["status"].value


def test_neuron_heatmaps_are_the_hidden_activations_over_the_plane(circles):
    circles.train(5)
    state = circles.state
    x_min, x_max, y_min, y_max = state.extent
    xs, ys = np.linspace(x_min, x_max, 48), np.linspace(y_min, y_max, 48)
    points = np.column_stack([np.tile(xs, 48), np.repeat(ys, 48)])
    a1 = np.tanh(points @ state.weights[0] + state.biases[0])
    a2 = np.tanh(a1 @ state.weights[1] + state.biases[1])
    np.testing.assert_allclose(state.neurons[0], a1.T.reshape(4, 48, 48), atol=1e-10)
    np.testing.assert_allclose(state.neurons[1], a2.T.reshape(3, 48, 48), atol=1e-10)


def test_the_inspector_shows_z_a_delta_of_a_manual_pass(circles):
    circles.train(10)
    X, y = circles.session.rows("train")
    zs, activations, deltas = manual_pass(circles, X, y)
    for layer, unit in [(1, 2), (2, 0), (3, 0)]:
        circles.controls["neuron"].value = (layer, unit)
        circles.controls["sample"].value = 7
        trace = circles.state.inspector
        assert (trace.layer, trace.unit, trace.sample, trace.y) == (layer, unit, 7, y[7])
        assert trace.z == pytest.approx(zs[layer - 1][7, unit], abs=1e-12)
        assert trace.a == pytest.approx(activations[layer - 1][7, unit], abs=1e-12)
        assert trace.delta == pytest.approx(deltas[layer - 1][7, unit], abs=1e-12)
        assert f"{trace.delta:.6g}" in circles.outputs["inspector"].value
        assert f"delta_{layer}[{unit}]" in circles.outputs["inspector"].value
    assert circles.controls["neuron"].options[-1] == ("layer 3 (output), unit 0", (3, 0))


def test_gradient_flow_is_the_norm_of_each_layers_delta_over_the_training_rows(circles):
    circles.train(3)
    X, y = circles.session.rows("train")
    _, _, deltas = manual_pass(circles, X, y)
    # diagnose's loss is the mean over the rows: delta carries 1/n
    expected = [np.linalg.norm(delta / len(y)) for delta in deltas]
    measured = [value for _, value in circles.state.gradient_flow]
    np.testing.assert_allclose(measured, expected, rtol=1e-9)
    assert circles.outputs["gradients"].value.count("<rect") == 3


def test_controls_change_the_run_in_place_or_reset_it(circles):
    circles.train(4)
    circles.controls["learning_rate"].value = 0.1
    circles.controls["batch_size"].value = 7
    circles.controls["l2"].value = 0.001
    trainer = circles.session.trainer
    assert circles.state.epoch == 4  # not reset
    assert trainer.batch_size == 7
    assert [g["lr"] for g in trainer.optimizer.param_groups] == [0.1]
    assert [g["weight_decay"] for g in trainer.optimizer.param_groups] == [0.001]
    circles.controls["optimizer"].value = "sgd"
    assert type(circles.session.trainer.optimizer).__name__ == "SGD"
    assert circles.session.trainer.optimizer.param_groups[0]["lr"] == 0.1
    circles.step()
    assert circles.state.epoch == 5
    circles.controls["hidden"].value = "2"  # a new network: reset to epoch 0
    assert circles.state.epoch == 0 and [W.shape for W in circles.state.weights] == [(2, 2), (2, 1)]
    assert [value for _, value in circles.controls["neuron"].options] == [(1, 0), (1, 1), (2, 0)]
    circles.controls["hidden"].value = "4, 3"
    circles.controls["hidden"].value = "4, x"  # refused: the run stays, the status says why
    assert "hidden layers must be widths" in circles.outputs["status"].value
    assert [W.shape[1] for W in circles.state.weights] == [4, 3, 1]


def test_reset_starts_again_from_the_same_seeded_weights(circles):
    first = [W.copy() for W in circles.state.weights]
    circles.train(5)
    assert not np.allclose(circles.state.weights[0], first[0])
    circles.reset()
    assert circles.state.epoch == 0 and circles.state.train_loss == []
    for W, W0 in zip(circles.state.weights, first, strict=True):
        np.testing.assert_array_equal(W, W0)
    circles.controls["seed"].value = 1
    assert not np.allclose(circles.state.weights[0], first[0])


def test_menus_are_read_from_the_registries():
    register_optimizer("heavy_ball", SGD, lr=0.01, momentum=0.99)
    try:
        pg = rp.playground(hidden="2")
        assert list(pg.controls["optimizer"].options) == list(OPTIMIZERS.entries())
        assert "heavy_ball" in pg.controls["optimizer"].options
        pg.controls["optimizer"].value = "heavy_ball"
        assert pg.session.trainer.optimizer.param_groups[0]["momentum"] == 0.99
    finally:
        OPTIMIZERS.unregister("heavy_ball")
    hidden = [n for n in ACTIVATIONS.entries() if n in HIDDEN_ACTIVATIONS]
    assert list(pg.controls["activation"].options) == hidden
    assert "softmax" not in hidden and "relu" in hidden
    assert pg.controls["init"].options[0] == "default"


def test_blobs_are_three_classes_with_cross_entropy_and_softmax_deltas():
    pg = rp.playground(dataset="blobs", hidden="4", optimizer="adam", learning_rate=0.05)
    assert pg.session.loss == "cross_entropy"
    pg.train(20)
    state = pg.state
    assert state.boundary.shape == (48, 48, 3) and state.train_loss[-1] < state.train_loss[0]
    pg.controls["neuron"].value = (2, 1)
    X, y = pg.session.rows("train")
    z = np.tanh(X[0] @ state.weights[0] + state.biases[0]) @ state.weights[1] + state.biases[1]
    softmax = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    assert pg.state.inspector.delta == pytest.approx(softmax[1] - (y[0] == 1), abs=1e-12)


def test_your_own_points_with_any_labels():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2))
    y = np.where(X[:, 0] > 0, "right", "left")
    pg = rp.playground(X, y, hidden="3")
    assert pg.session.data.classes == ["left", "right"]
    assert pg.controls["dataset"].disabled and pg.controls["noise"].disabled
    pg.train(10)
    assert len(pg.state.train_loss) == 10
    with pytest.raises(ValueError, match=r"X must have shape \(n_samples, 2\)"):
        rp.playground(np.ones((5, 3)), np.arange(5))


def test_a_divergence_stops_training_and_keeps_the_last_finite_weights(circles):
    circles.train(2)
    kept = circles.state.weights[0].copy()
    circles.session.model[0].weight.data[0, 0] = np.nan
    assert circles.step() is False
    assert "epoch 3" in circles.state.message and "color:#c00" in circles.outputs["status"].value
    np.testing.assert_array_equal(circles.state.weights[0], kept)
    assert circles.step() is True and circles.state.epoch == 3


def test_train_runs_on_the_event_loop_and_pause_stops_it(circles):
    with pytest.raises(RuntimeError, match="running event loop"):
        circles.start()

    async def click_train_then_pause():
        task = circles.start()
        assert circles.start() is task  # a second click does not start a second loop
        assert circles.buttons["train"].disabled
        while circles.state.epoch < 3:
            await asyncio.sleep(0.001)  # the kernel would read the Pause click here
        circles.pause()
        await task

    asyncio.run(click_train_then_pause())
    stopped = circles.state.epoch
    assert stopped >= 3 and not circles.running and not circles.buttons["train"].disabled
    circles.buttons["step"].click()
    assert circles.state.epoch == stopped + 1
    circles.buttons["reset"].click()
    assert circles.state.epoch == 0


def test_data_and_settings_are_checked():
    assert parse_hidden(" 8 ,1") == (8, 1)
    with pytest.raises(ValueError, match="at most 6 hidden layers of 1 to 8 units"):
        parse_hidden("9")
    with pytest.raises(ValueError, match="unknown dataset 'rings'"):
        make_data("rings")
    with pytest.raises(ValueError, match="at least 2 classes"):
        user_data(np.zeros((4, 2)), [1, 1, 1, 1])
    with pytest.raises(ValueError, match=r"NaN or inf at rows \[1\]"):
        user_data([[0, 0], [np.nan, 1]], [0, 1])
    session = Session(Settings(hidden=(2,)))
    with pytest.raises(ValueError, match="unknown settings"):
        session.update(lr=0.1)
    with pytest.raises(ValueError, match="learning_rate must be > 0"):
        session.update(learning_rate=0.0)
    data = make_data("spirals", 100, noise=0.0)
    train, test = split(data, 0.2)
    assert len(test) == 20 and set(np.bincount(data.y[test])) == {10}
    for name in ("circles", "moons", "spirals", "xor", "blobs"):
        assert np.abs(make_data(name, 60, noise=0.0).X).max() < 1.6, name


def test_drawing_writes_a_real_png_and_the_playground_colours():
    image = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    data = png(image)
    width, height = struct.unpack(">II", data[16:24])
    idat = data[data.index(b"IDAT") + 4 : data.index(b"IEND") - 8]
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(2, 1 + 9)
    assert (width, height) == (3, 2) and (rows[:, 0] == 0).all()
    np.testing.assert_array_equal(rows[:, 1:].reshape(2, 3, 3), image)
    two = class_shading(np.array([[[1.0, 0.0], [0.0, 1.0]]]))
    assert two[0].tolist() == [[245, 147, 34], [8, 119, 189]]
    assert diverging(np.array([[1.0], [-1.0]]))[:, 0].tolist() == [[245, 147, 34], [8, 119, 189]]


def test_weights_are_lines_coloured_by_sign_and_sized_by_magnitude(circles):
    circles.session.model[0].weight.data[:] = [[0.5, -2.0, 0.1, 0.1], [0.1, 0.1, 0.1, 0.1]]
    circles.refresh()
    svg = circles.outputs["network"].value
    lines = re.findall(r'<line [^>]*stroke="rgb([^"]+)" stroke-width="([^"]+)"', svg)
    assert len(lines) == 2 * 4 + 4 * 3 + 3 * 1
    first = dict(zip(re.findall(r"W_1\[(\d,\d)\]", svg), lines, strict=False))
    assert first["0,0"][0] == "(8, 119, 189)" and first["0,1"][0] == "(245, 147, 34)"
    assert float(first["0,1"][1]) > float(first["0,0"][1]) > float(first["1,0"][1])
    assert svg.count("<image") == 2 + 4 + 3 + 1


BROWSER = next(
    (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)),
    None,
)


@pytest.mark.skipif(
    not os.environ.get("RETROPROP_PLAYGROUND_PNG") or BROWSER is None,
    reason="writes docs/playground.png only when RETROPROP_PLAYGROUND_PNG is set (Chromium)",
)
def test_write_the_readme_picture(tmp_path):
    pg = rp.playground(
        dataset="spirals",
        hidden="8, 8, 4",
        activation="relu",
        optimizer="adam",
        learning_rate=0.01,
        noise=0.03,
        n_samples=600,
        test_fraction=0.3,
    )
    pg.controls["epochs_per_frame"].value = 50
    pg.train(300)
    pg.controls["neuron"].value = (4, 0)
    pg.controls["sample"].value = 3
    page = tmp_path / "playground.html"
    page.write_text(pg.to_html(), encoding="utf-8")
    target = ROOT / "docs" / "playground.png"
    subprocess.run(
        [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
        + [f"--screenshot={target}", "--window-size=1120,600", page.as_uri()],
        check=True,
        capture_output=True,
        timeout=120,
    )
    image = pytest.importorskip("PIL.Image")
    image.open(target).convert("RGB").quantize(128).save(target, optimize=True)
    assert target.stat().st_size < 200_000
