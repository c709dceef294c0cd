"""retroprop.sklearn's estimators, checked against scikit-learn's MLP where it has the feature."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.datasets import (  # noqa: E402
    load_digits,
    load_iris,
    make_blobs,
    make_classification,
    make_multilabel_classification,
    make_regression,
)
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier as SklearnClassifier  # noqa: E402
from sklearn.neural_network import MLPRegressor as SklearnRegressor  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from retroprop import nn  # noqa: E402
from retroprop.callbacks import Callback, EarlyStopping  # noqa: E402
from retroprop.sklearn import MLPClassifier, MLPRegressor  # noqa: E402
from retroprop.sklearn._base import ACTIVATIONS  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def noisy_problem(n=200, seed=0):
    """A small noisy problem a wide network overfits within a few dozen epochs."""
    return make_classification(n, 20, n_informative=5, flip_y=0.2, random_state=seed)


class RecordStates(Callback):
    """Keeps a copy of the weights and the logs at the end of every epoch."""

    def on_train_begin(self, logs):
        self.states, self.logs = [], []

    def on_epoch_end(self, epoch, logs):
        self.states.append(self.trainer.model.state_dict(copy=True))
        self.logs.append(dict(logs))


def same_state(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


# ------------------------------------------------------------------------ against scikit-learn
def one_sgd_step_each(ours, theirs, X, y, sample_weight=None, **first_call):
    """Give both estimators the same weights, then one epoch of plain SGD each."""
    ours.partial_fit(X, y, **first_call)
    theirs.partial_fit(X, y, **first_call)
    for mine, its in zip(
        ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_, strict=True
    ):
        its[...] = mine
    del theirs._optimizer  # scikit-learn's optimiser holds its old arrays
    ours.partial_fit(X, y, sample_weight=sample_weight)
    theirs.partial_fit(X, y, sample_weight=sample_weight)


SGD_SETTINGS = {
    "hidden_layer_sizes": (5,),
    "activation": "tanh",
    "solver": "sgd",
    "momentum": 0.0,
    "learning_rate_init": 0.5,
    "alpha": 3.0,
    "shuffle": False,
}


@pytest.mark.parametrize("batch_size", [60, 16])
@pytest.mark.parametrize("target", ["multiclass", "binary", "multilabel", "regression"])
def test_loss_and_update_match_scikit_learn(target, batch_size):
    X, y = make_classification(60, 4, n_informative=3, n_redundant=0, n_classes=3, random_state=0)
    first_call = {"classes": [0, 1, 2]}
    if target == "binary":
        y, first_call = y % 2, {"classes": [0, 1]}
    elif target == "multilabel":
        X, y = make_multilabel_classification(60, 4, n_classes=3, random_state=0)
    elif target == "regression":
        X, y = make_regression(60, 4, random_state=0)
        y, first_call = y / 100, {}
    ours_cls, theirs_cls = (
        (MLPRegressor, SklearnRegressor)
        if target == "regression"
        else (MLPClassifier, SklearnClassifier)
    )
    ours = ours_cls(batch_size=batch_size, dtype="float64", **SGD_SETTINGS)
    theirs = theirs_cls(batch_size=batch_size, **SGD_SETTINGS)
    one_sgd_step_each(ours, theirs, X, y, **first_call)
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-12)
    for mine, its in zip(
        ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_, strict=True
    ):
        np.testing.assert_allclose(mine, its, rtol=1e-10, atol=1e-12)


def test_weighted_full_batch_matches_scikit_learn():
    X, y = make_classification(60, 4, n_informative=3, n_redundant=0, n_classes=3, random_state=0)
    weight = np.random.default_rng(0).uniform(0, 3, 60)
    ours = MLPClassifier(batch_size=60, dtype="float64", **SGD_SETTINGS)
    theirs = SklearnClassifier(batch_size=60, **SGD_SETTINGS)
    one_sgd_step_each(ours, theirs, X, y, weight, classes=[0, 1, 2])
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-12)
    for mine, its in zip(ours.coefs_, theirs.coefs_, strict=True):
        np.testing.assert_allclose(mine, its, rtol=1e-10, atol=1e-12)


def test_digits_accuracy_with_default_settings():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
    model = make_pipeline(StandardScaler(), MLPClassifier(random_state=0))
    assert model.fit(X_train, y_train).score(X_test, y_test) >= 0.95


# ------------------------------------------------------------------------ targets
def test_string_labels(iris):
    X, y = iris
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = MLPClassifier((16,), learning_rate_init=0.01, max_iter=200, random_state=0)
    clf.fit(X, names)
    assert clf.classes_.tolist() == ["setosa", "versicolor", "virginica"]
    assert set(clf.predict(X)) <= set(names)
    assert clf.score(X, names) > 0.9
    proba = clf.predict_proba(X)
    assert proba.shape == (150, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X))


def test_binary_string_labels_use_one_sigmoid_unit(iris):
    X, y = iris
    labels = np.where(y == 0, "setosa", "other")
    clf = MLPClassifier((8,), learning_rate_init=0.01, max_iter=100, random_state=0)
    clf.fit(X, labels)
    assert (clf.n_outputs_, clf.out_activation_) == (1, "logistic")
    assert clf.classes_.tolist() == ["other", "setosa"]
    assert clf.score(X, labels) == 1.0
    log_proba = clf.predict_log_proba(X)
    np.testing.assert_allclose(np.exp(log_proba), clf.predict_proba(X), rtol=1e-12)


def test_multilabel_targets():
    X, Y = make_multilabel_classification(300, 10, n_classes=4, random_state=0)
    clf = MLPClassifier((32,), learning_rate_init=0.01, max_iter=200, random_state=0).fit(X, Y)
    assert (clf.n_outputs_, clf.out_activation_) == (4, "logistic")
    predicted = clf.predict(X)
    assert predicted.shape == Y.shape
    assert set(np.unique(predicted)) <= {0, 1}
    proba = clf.predict_proba(X)
    assert proba.shape == (300, 4)
    assert not np.allclose(proba.sum(axis=1), 1.0)  # one independent sigmoid per label
    # Better than predicting each label's majority value.
    majority = np.mean(Y == (Y.mean(axis=0) > 0.5), axis=0).mean()
    assert np.mean(predicted == Y) > majority + 0.1


def test_loss_options_choose_the_output_layer(iris):
    X, y = iris
    binary = (y == 2).astype(int)
    softmax = MLPClassifier((8,), loss="cross_entropy", max_iter=20, random_state=0)
    softmax.fit(X, binary)
    assert (softmax.n_outputs_, softmax.out_activation_) == (2, "softmax")
    np.testing.assert_allclose(softmax.predict_proba(X).sum(axis=1), 1.0)
    ovr = MLPClassifier((8,), loss="binary_cross_entropy_with_logits", max_iter=20, random_state=0)
    ovr.fit(X, y)
    assert (ovr.n_outputs_, ovr.out_activation_) == (3, "logistic")
    np.testing.assert_allclose(ovr.predict_proba(X).sum(axis=1), 1.0)
    np.testing.assert_allclose(np.exp(ovr.predict_log_proba(X)), ovr.predict_proba(X))
    with pytest.raises(ValueError, match="multi-label"):
        MLPClassifier(loss="cross_entropy").fit(X, np.column_stack([binary, 1 - binary, binary]))


def test_regressor_multi_output():
    X, Y = make_regression(200, 5, n_targets=3, random_state=0)
    Y = Y / Y.std(axis=0)
    reg = MLPRegressor((32,), learning_rate_init=0.01, max_iter=300, random_state=0).fit(X, Y)
    assert reg.n_outputs_ == 3 and reg.predict(X).shape == (200, 3)
    assert reg.score(X, Y) > 0.95


def test_predict_log_proba_is_finite_where_probabilities_underflow():
    X = np.array([[-1.0], [1.0]] * 20)
    y = np.array([0, 1] * 20)
    # retroprop's own init (He normal before ReLU) keeps both hidden units alive far out
    clf = MLPClassifier((4,), max_iter=5, random_state=0, init="course").fit(X, y)
    far = np.array([[-1e6], [1e6]])
    assert np.isfinite(clf.predict_log_proba(far)).all()
    assert (clf.predict_proba(far) == [[1.0, 0.0], [0.0, 1.0]]).all() or (
        clf.predict_proba(far) == [[0.0, 1.0], [1.0, 0.0]]
    ).all()


def test_float32_network_predicts_the_same_whatever_the_batch():
    X, y = make_blobs(500, 30, centers=3, random_state=0)
    clf = MLPClassifier((64,), max_iter=5, random_state=0, dtype="float32").fit(X, y)
    assert clf.model_[0].weight.dtype == np.float32
    full = clf.predict_proba(X)
    order = np.random.default_rng(0).permutation(500)
    np.testing.assert_allclose(clf.predict_proba(X[order]), full[order], rtol=1e-12)
    in_pieces = np.vstack([clf.predict_proba(X[i : i + 7]) for i in range(0, 500, 7)])
    np.testing.assert_allclose(in_pieces, full, rtol=1e-12)
    # the float32 network itself gives the same figures to float32 precision
    logits = clf.model_(X.astype(np.float32)).data
    np.testing.assert_allclose(clf.predict_log_proba(X).argmax(axis=1), logits.argmax(axis=1))


# ------------------------------------------------------------------------ sample weights
def test_zero_weights_equal_removing_the_rows():
    X, y = make_blobs(80, 3, centers=3, random_state=0)
    weight = np.ones(80)
    weight[::3] = 0
    settings = {"hidden_layer_sizes": (8,), "max_iter": 50, "random_state": 0, "dtype": "float64"}
    weighted = MLPClassifier(**settings).fit(X, y, sample_weight=weight)
    removed = MLPClassifier(**settings).fit(X[weight > 0], y[weight > 0])
    np.testing.assert_allclose(weighted.predict_proba(X), removed.predict_proba(X), rtol=1e-9)


def test_integer_weights_equal_repeating_the_rows_in_float32():
    X, y = make_blobs(30, 3, centers=3, random_state=0)
    weight = np.random.default_rng(0).integers(0, 4, 30)
    settings = {"hidden_layer_sizes": (8,), "max_iter": 100, "random_state": 0}
    weighted = MLPClassifier(**settings).fit(X, y, sample_weight=weight)
    repeated = MLPClassifier(**settings).fit(X.repeat(weight, axis=0), y.repeat(weight))
    proba = weighted.predict_proba(X)
    np.testing.assert_allclose(proba, repeated.predict_proba(X), rtol=1e-5, atol=1e-7)
    assert not np.allclose(proba, MLPClassifier(**settings).fit(X, y).predict_proba(X), atol=1e-3)


def test_heavier_class_weight_moves_predictions_towards_it():
    X, y = make_classification(400, 5, n_informative=2, class_sep=0.3, random_state=0)
    settings = {"hidden_layer_sizes": (16,), "max_iter": 50, "random_state": 0}
    plain = MLPClassifier(**settings).fit(X, y)
    weighted = MLPClassifier(**settings).fit(X, y, sample_weight=np.where(y == 1, 10.0, 1.0))
    assert weighted.predict(X).mean() > plain.predict(X).mean() + 0.2


# ------------------------------------------------------------------------ early stopping
def test_early_stopping_restores_the_best_weights_when_max_iter_ends():
    X, y = noisy_problem()
    recorder = RecordStates()
    clf = MLPClassifier(
        (64,),
        learning_rate_init=0.01,
        max_iter=40,
        early_stopping=True,
        validation_fraction=0.25,
        n_iter_no_change=1000,
        random_state=0,
        callbacks=[recorder],
    )
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        clf.fit(X, y)
    assert clf.n_iter_ == 40
    curve = clf.validation_loss_curve_
    best = int(np.argmin(curve))
    assert best < 30  # the network overfits: the last epoch is not the best
    assert clf.best_validation_loss_ == curve[best]
    assert same_state(clf.model_.state_dict(), recorder.states[best])
    assert not same_state(clf.model_.state_dict(), recorder.states[-1])
    # the logs the callbacks saw hold the same figures
    assert [logs["val_loss"] for logs in recorder.logs] == curve
    assert [logs["val_score"] for logs in recorder.logs] == clf.validation_scores_


def test_early_stopping_stops_after_n_iter_no_change_and_restores():
    X, y = noisy_problem()
    recorder = RecordStates()
    clf = MLPClassifier(
        (64,),
        learning_rate_init=0.01,
        early_stopping=True,
        validation_fraction=0.25,
        n_iter_no_change=5,
        random_state=0,
        callbacks=[recorder],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf.fit(X, y)
    curve = np.array(clf.validation_loss_curve_)
    best = int(np.argmin(curve))
    assert clf.n_iter_ < clf.max_iter
    assert clf.n_iter_ == len(curve) == len(clf.validation_scores_) == len(clf.loss_curve_)
    # scikit-learn's rule: stop once no epoch improved by tol for more than 5 epochs
    improving = [i for i in range(len(curve)) if curve[i] <= curve[:i].min(initial=np.inf) - 1e-4]
    assert clf.n_iter_ == improving[-1] + 1 + 6
    assert same_state(clf.model_.state_dict(), recorder.states[best])
    assert "did not improve" in clf.history_.stop_reason


def test_early_stopping_on_the_score_keeps_the_best_accuracy():
    X, y = noisy_problem()
    recorder = RecordStates()
    clf = MLPClassifier(
        (64,),
        learning_rate_init=0.01,
        max_iter=30,
        early_stopping=True,
        early_stopping_metric="score",
        validation_fraction=0.25,
        n_iter_no_change=1000,
        random_state=0,
        callbacks=[recorder],
    ).fit(X, y)
    best = int(np.argmax(clf.validation_scores_))
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert same_state(clf.model_.state_dict(), recorder.states[best])


def test_without_early_stopping_the_training_loss_rule_stops():
    X, y = make_blobs(200, 2, centers=2, random_state=0)
    clf = MLPClassifier((8,), learning_rate_init=0.05, tol=1e-2, random_state=0).fit(X, y)
    curve = np.array(clf.loss_curve_)
    assert clf.n_iter_ < 200 and len(curve) == clf.n_iter_
    assert clf.best_loss_ == curve.min()
    assert clf.validation_scores_ is None and clf.validation_loss_curve_ is None


def test_convergence_warning_only_when_max_iter_is_reached(iris):
    X, y = iris
    with pytest.warns(ConvergenceWarning):
        MLPClassifier((8,), max_iter=3, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        MLPClassifier((8,), max_iter=200, tol=0.1, random_state=0).fit(X, y)


def test_validation_set_too_small():
    X, y = make_blobs(12, 2, centers=2, random_state=0)
    with pytest.raises(ValueError, match="validation set is too small"):
        MLPClassifier(early_stopping=True, validation_fraction=0.05).fit(X, y)


# ------------------------------------------------------------------------ incremental training
def test_partial_fit(iris):
    X, y = iris
    clf = MLPClassifier(
        (16,), learning_rate_init=0.01, random_state=0, init="course", dtype="float32"
    )
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[y < 2], y[y < 2], classes=[0, 1, 2])
    optimizer = clf.optimizer_
    first_loss = clf.loss_
    for _ in range(30):
        clf.partial_fit(X, y)
    assert clf.n_iter_ == 1 and len(clf.loss_curve_) == 31 and clf.t_ == 100 + 30 * 150
    assert clf.optimizer_ is optimizer
    assert clf.optimizer_.state[clf.model_[0].weight]["step"] == 31
    assert clf.loss_ < first_loss / 2
    assert clf.score(X, y) > 0.9
    with pytest.raises(ValueError, match="classes not in"):
        clf.partial_fit(X, np.full(150, 7))
    with pytest.raises(ValueError, match="early_stopping"):
        MLPClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1, 2])


def test_regressor_partial_fit():
    X, y = make_regression(100, 3, noise=1.0, random_state=0)
    reg = MLPRegressor((16,), learning_rate_init=0.01, random_state=0)
    for _ in range(50):
        reg.partial_fit(X, y / 100)
    assert len(reg.loss_curve_) == 50 and reg.loss_curve_[-1] < reg.loss_curve_[0] / 10


def test_warm_start_continues_the_same_network(iris):
    X, y = iris
    clf = MLPClassifier((8,), max_iter=10, warm_start=True, random_state=0).fit(X, y)
    model, optimizer = clf.model_, clf.optimizer_
    weights = [w.copy() for w in clf.coefs_]
    clf.fit(X, y)
    assert clf.model_ is model and clf.optimizer_ is optimizer
    assert optimizer.state[model[0].weight]["step"] == 20  # Adam's moments carried over
    assert len(clf.loss_curve_) == 20 and clf.n_iter_ == 10
    assert not np.array_equal(weights[0], clf.coefs_[0])
    cold = MLPClassifier((8,), max_iter=10, random_state=0).fit(X, y)
    assert cold.model_ is not clf.model_
    clf.set_params(hidden_layer_sizes=(9,))
    with pytest.raises(ValueError, match=r"layer sizes \(4, 8, 3\) -> \(4, 9, 3\)"):
        clf.fit(X, y)
    clf.set_params(hidden_layer_sizes=(8,))
    with pytest.raises(ValueError, match="same classes"):
        clf.fit(X[y < 2], y[y < 2])


# ------------------------------------------------------------------------ parameters
def test_same_random_state_same_weights_bit_for_bit(iris):
    X, y = iris
    settings = {"hidden_layer_sizes": (8,), "max_iter": 20, "dropout": 0.2}
    a = MLPClassifier(random_state=3, **settings).fit(X, y)
    b = MLPClassifier(random_state=3, **settings).fit(X, y)
    c = MLPClassifier(random_state=4, **settings).fit(X, y)
    assert all(np.array_equal(p, q) for p, q in zip(a.coefs_, b.coefs_, strict=True))
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])


def test_coefs_are_the_models_arrays_in_scikit_learns_layout(iris):
    X, y = iris
    clf = MLPClassifier((8, 5), max_iter=5, random_state=0).fit(X, y)
    assert [w.shape for w in clf.coefs_] == [(4, 8), (8, 5), (5, 3)]
    assert [b.shape for b in clf.intercepts_] == [(8,), (5,), (3,)]
    assert clf.coefs_[0] is clf.model_[0].weight.data
    assert clf.n_layers_ == 4 and clf.n_features_in_ == 4


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_every_activation(activation, iris):
    X, y = iris
    clf = MLPClassifier((8,), activation=activation, learning_rate_init=0.01, max_iter=100)
    clf.set_params(random_state=0).fit(X, y)
    expected = type(nn.get_activation(ACTIVATIONS[activation]))
    assert isinstance(clf.model_[1], expected)
    assert clf.score(X, y) > 0.8


def test_dropout_batch_norm_and_init(iris):
    X, y = iris
    clf = MLPClassifier(
        (8, 8), dropout=0.1, batch_norm=True, init="xavier_uniform", batch_size=37, max_iter=5
    )
    clf.fit(X, y)  # 150 = 4 * 37 + 2, then 149 rows = 4 * 37 + 1: no batch of one for BatchNorm
    clf.fit(X[:149], y[:149])
    kinds = [type(m).__name__ for m in clf.model_]
    assert kinds == ["Linear", "BatchNorm1d", "ReLU", "Dropout"] * 2 + ["Linear"]
    assert clf.model_[0].weight_init == "xavier_uniform"
    assert not clf.model_.training  # ready to predict


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"activation": "softmax"}, "'activation' parameter of MLPClassifier must be a str among"),
        ({"solver": "newton-cg"}, "'solver' parameter of MLPClassifier must be a str among"),
        ({"alpha": -1.0}, "'alpha' parameter"),
        ({"hidden_layer_sizes": (4, 0)}, "hidden_layer_sizes must hold integers >= 1"),
        ({"dropout": 1.0}, "'dropout' parameter"),
        ({"init": "bogus"}, "'init' parameter"),
        ({"early_stopping": True, "validation_fraction": 0.0}, "validation_fraction > 0"),
        ({"callbacks": [EarlyStopping(monitor="val_loss")]}, "set early_stopping=True"),
    ],
)
def test_invalid_parameters_are_named(params, message, iris):
    X, y = iris
    with pytest.raises(ValueError, match=message):
        MLPClassifier(**params).fit(X, y)


def test_user_callbacks_can_watch_the_validation_loss(iris):
    X, y = iris
    stopper = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=False)
    clf = MLPClassifier((8,), learning_rate_init=0.05, early_stopping=True, random_state=0)
    clf.set_params(n_iter_no_change=1000, max_iter=200, callbacks=[stopper]).fit(X, y)
    assert clf.n_iter_ < 200 and stopper.best_epoch is not None


def test_learning_rate_schedules_of_sgd(iris):
    X, y = iris
    clf = MLPClassifier((8,), solver="sgd", learning_rate="invscaling", max_iter=5, random_state=0)
    clf.fit(X, y)
    assert clf.optimizer_.param_groups[0]["lr"] == pytest.approx(0.001 / (5 * 150 + 1) ** 0.5)
    adaptive = MLPClassifier(
        (8,), solver="sgd", learning_rate="adaptive", tol=10.0, n_iter_no_change=1, max_iter=500
    )
    adaptive.fit(X, y)
    # Epoch 1 improves on inf; after that no epoch "improves by 10", so every second epoch
    # divides the rate by 5 (epochs 3, 5, 7, 9, 11) until it is below 1e-6; epoch 13 stops.
    assert adaptive.optimizer_.param_groups[0]["lr"] == pytest.approx(0.001 / 5**5)
    assert adaptive.n_iter_ == 13


def test_verbose_prints_each_epoch(iris, capsys):
    X, y = iris
    MLPClassifier((4,), max_iter=3, early_stopping=True, verbose=True, random_state=0).fit(X, y)
    out = capsys.readouterr().out
    assert out.count("Epoch") == 3 and out.count("Validation loss") == 3


def test_pipeline_grid_search_and_cross_validation(iris):
    X, y = iris
    pipeline = make_pipeline(
        StandardScaler(), MLPClassifier(learning_rate_init=0.01, max_iter=100, random_state=0)
    )
    grid = {"mlpclassifier__hidden_layer_sizes": [(4,), (16,)], "mlpclassifier__alpha": [1e-4, 1]}
    search = GridSearchCV(pipeline, grid, cv=3).fit(X, y)
    assert search.best_score_ > 0.9
    assert search.best_params_["mlpclassifier__hidden_layer_sizes"] in [(4,), (16,)]
    assert cross_val_score(pipeline, X, y, cv=3).mean() > 0.9


def test_feature_names_from_a_dataframe(iris):
    pd = pytest.importorskip("pandas")
    X, y = iris
    frame = pd.DataFrame(X, columns=["sepal_l", "sepal_w", "petal_l", "petal_w"])
    clf = MLPClassifier((4,), max_iter=5, random_state=0).fit(frame, y)
    assert clf.feature_names_in_.tolist() == list(frame.columns)
    with pytest.warns(UserWarning, match="feature names"):
        clf.predict(X)


def test_import_retroprop_does_not_import_scikit_learn():
    code = "import sys, retroprop; print('sklearn' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
