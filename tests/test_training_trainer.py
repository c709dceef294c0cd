"""The Trainer that owns a run; validation weighted like training; splits that leave no rows."""

from __future__ import annotations

import numpy as np
import pytest

import retroprop as rp
from retroprop import nn, optim
from retroprop.callbacks import Callback, EarlyStopping
from retroprop.optim.lr_scheduler import ReduceLROnPlateau
from retroprop.training import Trainer
from retroprop.training.data import Dataset, check_data, validation_split_indices
from retroprop.training.objectives import METRICS, r2_score, resolve_loss


def zero_model():
    model = nn.Sequential(nn.Linear(1, 1))
    model[0].weight.data[...] = 0
    model[0].bias.data[...] = 0
    return model


class Seen(Callback):
    """Records whether training began, and the logs of each epoch."""

    def __init__(self):
        self.began = False
        self.logs = []

    def on_train_begin(self, logs):
        self.began = True

    def on_epoch_end(self, epoch, logs):
        self.logs.append(dict(logs))


# ----------------------------------------------------------------- issue 10, section 4
def test_validation_data_with_weights_is_weighted_like_training():
    model = zero_model()
    X = np.zeros((4, 1), np.float32)
    y = np.array([[1.0], [1.0], [1.0], [3.0]], np.float32)
    w = np.array([1.0, 1.0, 1.0, 0.0])
    stopper = EarlyStopping(monitor="val_loss", patience=5)
    h = rp.fit(
        model,
        X,
        y,
        loss="mse",
        optimizer=optim.SGD(model.parameters(), lr=0.0),
        epochs=1,
        verbose=0,
        sample_weight=w,
        validation_data=(X, y, w),
        metrics=["mse", "mae"],
        callbacks=[stopper],
    )
    assert h["loss"][0] == 1.0
    assert h["val_loss"][0] == 1.0  # unweighted it would be (1 + 1 + 1 + 9) / 4 = 3
    assert h["val_mse"][0] == 1.0 and h["val_mae"][0] == 1.0
    assert h["mse"][0] == 1.0  # the training metrics weigh the rows as the training loss does
    assert stopper.best == 1.0


def test_unweighted_validation_data_keeps_the_plain_mean():
    model = zero_model()
    X = np.zeros((4, 1), np.float32)
    y = np.array([[1.0], [1.0], [1.0], [3.0]], np.float32)
    h = rp.fit(
        model,
        X,
        y,
        loss="mse",
        optimizer=optim.SGD(model.parameters(), lr=0.0),
        epochs=1,
        verbose=0,
        validation_data=(X, y),
    )
    assert h["val_loss"][0] == 3.0


def test_validation_split_keeps_the_weights_of_the_rows_it_holds_out():
    rng = np.random.default_rng(0)
    X = np.zeros((40, 1), np.float32)
    y = rng.normal(size=(40, 1)).astype(np.float32)
    w = rng.uniform(0.0, 3.0, size=40)
    model = zero_model()
    plateau = Seen()
    history = rp.fit(
        model,
        X,
        y,
        loss="mse",
        optimizer=optim.SGD(model.parameters(), lr=0.0),
        epochs=1,
        verbose=0,
        seed=5,
        sample_weight=w,
        validation_split=0.25,
        callbacks=[plateau],
    )
    _, val_rows = validation_split_indices(40, 0.25, np.random.default_rng(5))
    expected = np.average(y[val_rows, 0].astype(np.float64) ** 2, weights=w[val_rows])
    assert history["val_loss"][0] == pytest.approx(expected, rel=1e-6)
    assert plateau.logs[0]["val_loss"] == history["val_loss"][0]
    assert expected != pytest.approx(np.mean(y[val_rows, 0] ** 2), rel=1e-3)


def test_reduce_lr_on_plateau_watches_the_weighted_validation_loss():
    X = np.zeros((4, 1), np.float32)
    y = np.array([[1.0], [1.0], [1.0], [3.0]], np.float32)
    w = np.array([1.0, 1.0, 1.0, 0.0])
    model = zero_model()
    optimizer = optim.SGD(model.parameters(), lr=0.0)
    scheduler = ReduceLROnPlateau(optimizer, patience=100)
    rp.fit(
        model,
        X,
        y,
        loss="mse",
        optimizer=optimizer,
        epochs=1,
        verbose=0,
        validation_data=(X, y, w),
        callbacks=[scheduler],
    )
    assert scheduler.best == 1.0


def test_weighted_metrics_and_r2():
    y_true = np.array([1.0, 2.0, 3.0, 10.0])
    y_pred = np.array([1.0, 2.0, 4.0, 0.0])
    w = np.array([1.0, 1.0, 1.0, 0.0])
    assert METRICS["mse"](y_true, y_pred, sample_weight=w) == pytest.approx(1 / 3)
    assert METRICS["mae"](y_true, y_pred, sample_weight=w) == pytest.approx(1 / 3)
    assert METRICS["accuracy"](y_true, y_pred, sample_weight=w) == pytest.approx(2 / 3)
    assert r2_score(y_true, y_pred, sample_weight=w) == pytest.approx(
        r2_score([1, 2, 3], [1, 2, 4])
    )
    assert r2_score([2.0, 2.0], [1.0, 2.0]) == 0.0  # constant target


def test_validation_data_of_the_wrong_length_or_zero_weight_is_an_error():
    X = np.zeros((4, 1), np.float32)
    y = np.ones((4, 1), np.float32)
    settings = {"loss": "mse", "optimizer": "sgd", "epochs": 1, "verbose": 0}
    with pytest.raises(ValueError, match="validation_data must be"):
        rp.fit(zero_model(), X, y, validation_data=(X,), **settings)
    with pytest.raises(ValueError, match="sum to 0"):
        rp.fit(zero_model(), X, y, validation_data=(X, y, np.zeros(4)), **settings)
    with pytest.raises(ValueError, match="validation_data: X has 2 columns"):
        rp.fit(zero_model(), X, y, validation_data=(np.zeros((4, 2)), y), **settings)


# ----------------------------------------------------------------- issue 10, section 5
def test_a_split_that_leaves_no_validation_rows_is_an_error_before_training():
    X3 = np.eye(3, dtype=np.float32)
    model = nn.Sequential(nn.Linear(3, 3))
    before = [p.data.copy() for p in model.parameters()]
    seen = Seen()
    with pytest.raises(ValueError) as caught:
        rp.fit(
            model,
            X3,
            [0, 1, 2],
            loss="cross_entropy",
            optimizer="sgd",
            epochs=1,
            validation_split=0.2,
            callbacks=[seen],
            verbose=0,
        )
    message = str(caught.value)
    assert "3 rows for training and 0 for validation" in message
    assert "validation_data=(X_val, y_val)" in message
    assert not seen.began
    assert all(np.array_equal(a, p.data) for a, p in zip(before, model.parameters(), strict=True))


def test_a_stratified_split_with_a_class_on_one_side_only_is_an_error():
    X = np.zeros((7, 2), np.float32)
    y = np.array([0, 0, 0, 1, 1, 1, 2])  # class 2 cannot be on both sides
    with pytest.raises(ValueError, match=r"classes \[2\] have a single row"):
        rp.fit(
            nn.Sequential(nn.Linear(2, 3)),
            X,
            y,
            loss="cross_entropy",
            optimizer="sgd",
            epochs=1,
            validation_split=0.5,
            verbose=0,
        )


def test_a_random_split_that_leaves_no_training_rows_is_an_error():
    with pytest.raises(ValueError, match="0 rows for training and 2 for validation"):
        rp.fit(
            zero_model(),
            np.zeros((2, 1), np.float32),
            np.ones((2, 1), np.float32),
            loss="mse",
            optimizer="sgd",
            epochs=1,
            validation_split=0.9,
            verbose=0,
        )


def test_soft_binary_targets_are_split_at_random():
    X = np.zeros((10, 1), np.float32)
    y = np.linspace(0.05, 0.95, 10).reshape(-1, 1)  # every value once: not classes
    model = nn.Sequential(nn.Linear(1, 1), nn.Sigmoid())
    h = rp.fit(
        model,
        X,
        y,
        loss="binary_cross_entropy",
        optimizer="sgd",
        epochs=1,
        validation_split=0.2,
        verbose=0,
        seed=0,
    )
    assert h.params["validation_samples"] == 2


# ----------------------------------------------------------------- the Trainer
def test_a_trainer_runs_checked_data_and_owns_the_run():
    X = np.zeros((4, 1), np.float32)
    y = np.array([[1.0], [1.0], [1.0], [3.0]], np.float32)
    model = zero_model()
    objective = resolve_loss("mse")
    train = check_data(model, objective, X, y)
    assert isinstance(train, Dataset) and len(train) == 4
    validation = Dataset(X, y, np.array([1.0, 1.0, 1.0, 0.0]))
    seen = Seen()
    trainer = Trainer(
        model,
        objective,
        optim.SGD(model.parameters(), lr=0.0),
        train,
        validation,
        epochs=2,
        callbacks=[seen],
        verbose=0,
    )
    history = trainer.run()
    assert history is trainer.history and len(history) == 2
    assert seen.trainer is trainer and history["val_loss"] == [1.0, 1.0]
    np.testing.assert_array_equal(trainer.validation_outputs, np.zeros((4, 1)))
    assert history.stop_reason == "completed 2 epochs"


def test_trainer_rejects_bad_settings():
    model = zero_model()
    data = Dataset(np.zeros((2, 1), np.float32), np.zeros((2, 1), np.float32))
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        Trainer(model, resolve_loss("mse"), optimizer, data, epochs=0)
    with pytest.raises(ValueError, match="batch_size must be"):
        Trainer(model, resolve_loss("mse"), optimizer, data, epochs=1, batch_size=0)
