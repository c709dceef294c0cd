"""rp.fit: the loop, its batches, stopping rules, validation, logging, guard and bad input."""

from __future__ import annotations

import numpy as np
import pytest

import retroprop as rp
from retroprop import nn, optim
from retroprop.callbacks import Callback, EarlyStopping, StopAtLoss
from retroprop.optim.lr_scheduler import ExponentialLR
from retroprop.training import DivergenceError


def blobs(n=120, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    centers = np.array([[0.0, 3.0], [3.0, 0.0], [-3.0, -3.0]])
    X = centers[y] + rng.normal(0, 0.7, size=(n, 2))
    return X, y


def small_model(out=3, seed=0):
    rp.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, out))


class CountBatches(Callback):
    def on_train_begin(self, logs):
        self.sizes = []

    def on_epoch_begin(self, epoch):
        self.sizes.append(0)

    def on_batch_end(self, batch, logs):
        self.sizes[-1] += 1


@pytest.mark.parametrize(("batch_size", "expected"), [(None, 1), (1, 120), (50, 3), (120, 1)])
def test_batch_size_sets_the_number_of_updates(batch_size, expected):
    X, y = blobs()
    model = small_model()
    counter = CountBatches()
    rp.fit(
        model,
        X,
        y,
        loss="cross_entropy",
        optimizer=optim.SGD(model.parameters(), lr=0.1),
        epochs=2,
        batch_size=batch_size,
        callbacks=[counter],
        verbose=0,
        seed=0,
    )
    assert counter.sizes == [expected, expected]


def test_full_batch_epoch_is_one_gradient_step_by_hand():
    X, y = blobs(30)
    model = small_model()
    reference = small_model()
    rp.fit(
        model,
        X,
        y,
        loss="cross_entropy",
        optimizer=optim.SGD(model.parameters(), lr=0.1),
        epochs=1,
        batch_size=None,
        shuffle=False,
        verbose=0,
    )
    loss = rp.nn.functional.cross_entropy(reference(rp.tensor(X.astype(np.float32))), y)
    loss.backward()
    with rp.no_grad():
        for p in reference.parameters():
            p.data -= np.float32(0.1) * p.grad
    for a, b in zip(model.parameters(), reference.parameters(), strict=True):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-6, atol=1e-7)


def test_history_records_loss_metrics_and_validation():
    X, y = blobs()
    model = small_model()
    history = rp.fit(
        model,
        X,
        y,
        loss="cross_entropy",
        optimizer=optim.Adam(model.parameters(), lr=0.05),
        epochs=5,
        batch_size=16,
        validation_split=0.25,
        metrics=["accuracy"],
        verbose=0,
        seed=1,
    )
    for key in ("loss", "val_loss", "accuracy", "val_accuracy", "lr"):
        assert len(history.history[key]) == 5, key
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["val_accuracy"][-1] > 0.9
    assert history.params["validation_samples"] == 30


def test_same_seed_same_weights_bit_for_bit():
    X, y = blobs()
    finals = []
    for _ in range(2):
        rp.manual_seed(3)
        model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 3))
        rp.fit(
            model,
            X,
            y,
            loss="cross_entropy",
            optimizer=optim.SGD(model.parameters(), lr=0.1),
            epochs=3,
            batch_size=10,
            validation_split=0.2,
            verbose=0,
            seed=7,
        )
        finals.append([p.data.copy() for p in model.parameters()])
    for a, b in zip(*finals, strict=True):
        assert np.array_equal(a, b)


def test_shuffle_false_keeps_order_and_differs_from_shuffled():
    X, y = blobs()
    results = []
    for shuffle in (False, False, True):
        model = small_model()
        rp.fit(
            model,
            X,
            y,
            loss="cross_entropy",
            optimizer=optim.SGD(model.parameters(), lr=0.1),
            epochs=1,
            batch_size=10,
            shuffle=shuffle,
            verbose=0,
            seed=0,
        )
        results.append(model[0].weight.data.copy())
    assert np.array_equal(results[0], results[1])
    assert not np.array_equal(results[0], results[2])


def test_stop_at_loss_ends_early():
    X, y = blobs()
    model = small_model()
    history = rp.fit(
        model,
        X,
        y,
        loss="cross_entropy",
        optimizer="adam",
        epochs=500,
        batch_size=16,
        callbacks=[StopAtLoss(0.3)],
        verbose=0,
        seed=0,
    )
    assert len(history) < 500
    assert history["loss"][-1] < 0.3 <= history["loss"][-2]
    assert "0.3" in history.stop_reason


def test_early_stopping_restores_best_weights_also_when_epochs_run_out():
    X, y = blobs()
    model = small_model()
    best_states = {}

    class Snapshot(Callback):
        def on_epoch_end(self, epoch, logs):
            best_states[epoch] = (logs["val_loss"], [p.data.copy() for p in model.parameters()])

    stopper = EarlyStopping(monitor="val_loss", patience=1000, restore_best_weights=True)
    # A learning rate this high makes validation loss bounce, so the best epoch is not the last.
    history = rp.fit(
        model,
        X,
        y,
        loss="cross_entropy",
        optimizer=optim.SGD(model.parameters(), lr=1.5),
        epochs=12,
        batch_size=8,
        validation_split=0.3,
        callbacks=[Snapshot(), stopper],
        verbose=0,
        seed=0,
    )
    assert len(history) == 12
    best_epoch = min(best_states, key=lambda e: best_states[e][0])
    assert history.best_epoch == best_epoch
    for restored, saved in zip(model.parameters(), best_states[best_epoch][1], strict=True):
        assert np.array_equal(restored.data, saved)


def test_early_stopping_stops_after_patience():
    X, y = blobs()
    model = small_model()
    history = rp.fit(
        model,
        X,
        y,
        loss="cross_entropy",
        optimizer="adam",
        epochs=1000,
        batch_size=16,
        validation_split=0.3,
        callbacks=[EarlyStopping(patience=3, min_delta=10.0)],
        verbose=0,
        seed=0,
    )
    assert len(history) == 4  # the first epoch sets the best; min_delta=10 forbids improvement
    assert "early stopping" in history.stop_reason


def test_early_stopping_on_val_loss_without_validation_data_is_an_error():
    X, y = blobs()
    model = small_model()
    with pytest.raises(ValueError, match="no validation data"):
        rp.fit(
            model,
            X,
            y,
            loss="cross_entropy",
            optimizer="sgd",
            epochs=2,
            callbacks=[EarlyStopping()],
            verbose=0,
        )


def test_validation_split_is_stratified_and_logged(capsys):
    X, y = blobs(200)
    y = np.where(np.arange(200) < 20, 0, 1)  # 10% of class 0
    model = small_model(out=2)
    rp.fit(
        model,
        X,
        y,
        loss="cross_entropy",
        optimizer="sgd",
        epochs=1,
        validation_split=0.5,
        verbose=1,
        seed=0,
    )
    out = capsys.readouterr().out
    assert "stratified random split" in out
    assert "100 of 200 rows held out" in out


def test_verbose_line_has_the_course_form(capsys):
    X, y = blobs()
    model = small_model()
    rp.fit(
        model,
        X,
        y,
        loss="cross_entropy",
        optimizer="adam",
        epochs=3,
        batch_size=32,
        validation_split=0.2,
        metrics=["accuracy"],
        verbose=1,
        seed=0,
    )
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Epoch")]
    assert len(lines) == 3
    import re

    pattern = (
        r"^Epoch  \d \| loss \d\.\d{5} -> \d\.\d{5} \| accuracy \d\.\d{3} \| "
        r"val_loss \d\.\d{5} \| val_accuracy \d\.\d{3}$"
    )
    assert re.match(pattern, lines[2]), lines[2]


def test_verbose_zero_prints_nothing(capsys):
    X, y = blobs()
    rp.fit(small_model(), X, y, loss="cross_entropy", optimizer="sgd", epochs=2, verbose=0)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_learning_rate_decay_per_epoch_is_the_course_lr_decay():
    X, y = blobs()
    model = small_model()
    sgd = optim.SGD(model.parameters(), lr=0.3)
    history = rp.fit(
        model,
        X,
        y,
        loss="cross_entropy",
        optimizer=sgd,
        epochs=4,
        callbacks=[ExponentialLR(sgd, gamma=0.5)],
        verbose=0,
    )
    # logged lr is the rate used during the epoch... then decayed: 0.3, 0.15, 0.075, 0.0375
    np.testing.assert_allclose(history["lr"], [0.3, 0.15, 0.075, 0.0375])


def test_one_column_targets_work_for_one_output_models():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.3
    rp.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 1))
    history = rp.fit(
        model,
        X,
        y,
        loss="mse",
        optimizer=optim.SGD(model.parameters(), lr=0.1),
        epochs=200,
        verbose=0,
    )
    assert history["loss"][-1] < 1e-6
    np.testing.assert_allclose(model[0].weight.data.ravel(), [1.0, -2.0, 0.5], atol=1e-3)


def test_float32_model_trains_in_float32_from_float64_data():
    X, y = blobs()
    model = small_model()
    seen = []

    class Dtypes(Callback):
        def on_batch_end(self, batch, logs):
            seen.extend(p.grad.dtype for p in model.parameters())

    rp.fit(
        model,
        X.astype(np.float64),
        y,
        loss="cross_entropy",
        optimizer="adam",
        epochs=1,
        batch_size=32,
        callbacks=[Dtypes()],
        verbose=0,
    )
    assert seen and all(d == np.float32 for d in seen)
    assert all(p.dtype == np.float32 for p in model.parameters())


def test_sample_weight_zero_ignores_rows():
    X, y = blobs(60)
    weights = np.ones(60)
    weights[30:] = 0
    a, b = small_model(), small_model()
    rp.fit(
        a,
        X,
        y,
        loss="cross_entropy",
        optimizer=optim.SGD(a.parameters(), lr=0.1),
        epochs=1,
        shuffle=False,
        sample_weight=weights,
        verbose=0,
    )
    rp.fit(
        b,
        X[:30],
        y[:30],
        loss="cross_entropy",
        optimizer=optim.SGD(b.parameters(), lr=0.1),
        epochs=1,
        shuffle=False,
        verbose=0,
    )
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_allclose(p.data, q.data, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ divergence guard
def test_divergence_names_epoch_batch_layer_and_keeps_finite_weights():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 2)) * 100
    y = rng.normal(size=32) * 1e3
    rp.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))
    with pytest.raises(DivergenceError, match=r"epoch \d+, batch \d+.*layer.*learning rate"):
        rp.fit(
            model,
            X,
            y,
            loss="mse",
            optimizer=optim.SGD(model.parameters(), lr=10.0),
            epochs=50,
            batch_size=8,
            verbose=0,
        )
    assert all(np.isfinite(p.data).all() for p in model.parameters())


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("X", "y", "message"),
    [
        (np.zeros(10), np.zeros(10), "must be 2-D"),
        (np.zeros((10, 2)), np.zeros(9), "X has 10 rows but y has 9"),
        (
            np.zeros((10, 3)),
            np.zeros(10),
            "X has 3 columns but the first Linear layer expects in_features=2",
        ),
    ],
)
def test_bad_shapes(X, y, message):
    with pytest.raises(ValueError, match=message):
        rp.fit(
            small_model(),
            X,
            y.astype(int),
            loss="cross_entropy",
            optimizer="sgd",
            epochs=1,
            verbose=0,
        )


def test_nan_in_X_names_rows_and_columns():
    X, y = blobs(30)
    X[17, 1] = np.nan
    X[20, 0] = np.inf
    with pytest.raises(
        ValueError,
        match=r"X contains NaN and inf at rows \[17, 20\] \(columns "
        r"\[0, 1\]\)",
    ):
        rp.fit(small_model(), X, y, loss="cross_entropy", optimizer="sgd", epochs=1, verbose=0)


def test_nan_in_y_names_rows():
    X, y = blobs(30)
    y = y.astype(float)
    y[4] = np.nan
    with pytest.raises(ValueError, match=r"y contains NaN at rows \[4\]"):
        rp.fit(small_model(), X, y, loss="cross_entropy", optimizer="sgd", epochs=1, verbose=0)


def test_labels_outside_the_output_layer():
    X, y = blobs(30)
    y[[3, 9]] = [3, 7]
    with pytest.raises(ValueError, match=r"\[0, 3\).*rows \[3, 9\] hold \[3, 7\]"):
        rp.fit(small_model(), X, y, loss="cross_entropy", optimizer="sgd", epochs=1, verbose=0)


def test_binary_targets_outside_unit_interval():
    X, y = blobs(30)
    rp.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())
    with pytest.raises(ValueError, match=r"targets in \[0, 1\]; rows \[.*\]"):
        rp.fit(model, X, y, loss="binary_cross_entropy", optimizer="sgd", epochs=1, verbose=0)


def test_unknown_loss_lists_the_names():
    X, y = blobs(30)
    with pytest.raises(ValueError, match="cross_entropy"):
        rp.fit(small_model(), X, y, loss="hinge", optimizer="sgd", epochs=1, verbose=0)


def test_ctrl_c_stops_cleanly_and_keeps_the_weights_reached():
    X, y = blobs()
    model = small_model()

    class Interrupt(Callback):
        def on_batch_end(self, batch, logs):
            if self.trainer.epoch == 3 and batch == 2:
                raise KeyboardInterrupt

    history = rp.fit(
        model,
        X,
        y,
        loss="cross_entropy",
        optimizer="sgd",
        epochs=10,
        batch_size=16,
        callbacks=[Interrupt()],
        verbose=0,
        seed=0,
    )
    assert history.interrupted
    assert len(history) == 2  # epochs 1 and 2 completed; epoch 3 was cut short
    assert "interrupted" in history.stop_reason
    assert all(np.isfinite(p.data).all() for p in model.parameters())


def test_divergence_of_a_sigmoid_bce_model_is_a_divergence_error_not_a_value_error():
    # Regression: NaN outputs reached binary_cross_entropy, whose input check raised a
    # ValueError about probabilities instead of the guard's message.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 2)) * 1e3
    y = (X[:, 0] > 0).astype(int)
    rp.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1), nn.Sigmoid()
    )
    model[0].weight.data *= 1e37  # finite, but z overflows to inf and inf - inf is NaN
    start = {k: v.copy() for k, v in model.state_dict().items()}
    with pytest.raises(DivergenceError, match="the output became nan at epoch 1, batch 1"):
        rp.fit(
            model,
            X,
            y,
            loss="binary_cross_entropy",
            optimizer=optim.SGD(model.parameters(), lr=0.1),
            epochs=5,
            batch_size=8,
            verbose=0,
        )
    for name, array in model.state_dict().items():  # back to where the epoch started
        assert np.array_equal(array, start[name]), name
