"""Saving the estimators through rp.save / rp.load (no pickle), and pickling them."""

from __future__ import annotations

import copy
import json
import pickle

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("safetensors")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_iris, make_multilabel_classification  # noqa: E402

import retroprop as rp  # noqa: E402
from retroprop.io import ModelFileError  # noqa: E402
from retroprop.sklearn import MLPClassifier, MLPRegressor, load  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def string_classifier():
    pd = pytest.importorskip("pandas")
    X, y = load_iris(return_X_y=True)
    frame = pd.DataFrame(X, columns=["sepal_l", "sepal_w", "petal_l", "petal_w"])
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = MLPClassifier(
        (8,), early_stopping=True, max_iter=20, random_state=0, batch_norm=True, init="course"
    )
    return clf.fit(frame, names), frame


def test_save_load_round_trip_predicts_identically(string_classifier, tmp_path):
    clf, frame = string_classifier
    folder = clf.save(tmp_path / "clf")
    again = MLPClassifier.load(folder)
    assert np.array_equal(again.predict_proba(frame), clf.predict_proba(frame))
    assert np.array_equal(again.predict(frame), clf.predict(frame))
    assert again.classes_.dtype == clf.classes_.dtype
    assert again.get_params() == clf.get_params()
    for name in ("n_iter_", "t_", "loss_curve_", "validation_scores_", "validation_loss_curve_"):
        assert getattr(again, name) == getattr(clf, name)
    assert again.feature_names_in_.tolist() == clf.feature_names_in_.tolist()
    assert type(load(folder)) is MLPClassifier
    # It is an ordinary model directory: the weights load with rp.load, the rest is JSON.
    assert isinstance(rp.load(folder), rp.nn.Sequential)
    record = json.loads((folder / "config.json").read_text())["metadata"]["sklearn_estimator"]
    assert record["classes"]["values"] == ["setosa", "versicolor", "virginica"]
    assert record["params"]["hidden_layer_sizes"] == [8]


def test_loaded_estimator_can_keep_training(string_classifier, tmp_path):
    clf, frame = string_classifier
    again = load(clf.save(tmp_path / "clf"))
    again.set_params(warm_start=True, max_iter=5).fit(frame, clf.predict(frame))
    assert len(again.loss_curve_) == len(clf.loss_curve_) + 5


def test_save_load_regressor_and_multilabel(tmp_path):
    X, Y = make_multilabel_classification(100, 6, n_classes=3, random_state=0)
    reg = MLPRegressor((8,), max_iter=10, random_state=0).fit(X, Y * 2.5)
    multi = MLPClassifier((8,), max_iter=10, random_state=0).fit(X, Y)
    for estimator, name in ((reg, "reg"), (multi, "multi")):
        again = load(estimator.save(tmp_path / name))
        assert type(again) is type(estimator)
        assert np.array_equal(again.predict(X), estimator.predict(X))
    with pytest.raises(ValueError, match="holds a MLPRegressor, not a MLPClassifier"):
        MLPClassifier.load(tmp_path / "reg")


def test_load_refuses_a_plain_model_and_a_changed_file(tmp_path):
    rp.save(rp.nn.mlp([2, 3, 1]), tmp_path / "plain")
    with pytest.raises(ValueError, match="no estimator"):
        load(tmp_path / "plain")
    X, y = load_iris(return_X_y=True)
    folder = MLPClassifier((4,), max_iter=2, random_state=0).fit(X, y).save(tmp_path / "clf")
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-4] + b"\0\0\0\0")
    with pytest.raises(ModelFileError, match="checksum"):
        load(folder)


def test_parameters_that_are_not_data_are_dropped_with_a_warning(tmp_path):
    X, y = load_iris(return_X_y=True)
    clf = MLPClassifier((4,), max_iter=2, random_state=np.random.RandomState(0)).fit(X, y)
    with pytest.warns(UserWarning, match="random_state cannot be stored"):
        folder = clf.save(tmp_path / "clf")
    again = load(folder)
    assert again.random_state is None
    assert np.array_equal(again.predict_proba(X), clf.predict_proba(X))


@pytest.mark.parametrize("estimator_class", [MLPClassifier, MLPRegressor])
def test_pickle_round_trip_predicts_identically(estimator_class):
    X, y = load_iris(return_X_y=True)
    estimator = estimator_class((8,), dropout=0.1, max_iter=10, random_state=0).fit(X, y)
    again = pickle.loads(pickle.dumps(estimator))
    assert np.array_equal(again.predict(X), estimator.predict(X))
    assert again.optimizer_.param_groups[0]["params"][0] is again.model_[0].weight
    # the copy trains on from the same optimiser state as the original
    again.set_params(warm_start=True).fit(X, y)
    estimator.set_params(warm_start=True).fit(X, y)
    assert np.array_equal(again.predict(X), estimator.predict(X))
    assert np.array_equal(copy.deepcopy(estimator).predict(X), estimator.predict(X))


def test_the_network_itself_pickles():
    model = rp.nn.mlp([4, 8, 3], batch_norm=True, dropout=0.2)
    again = pickle.loads(pickle.dumps(model))
    x = rp.tensor(np.ones((2, 4), dtype=np.float32))
    model.eval(), again.eval()
    assert np.array_equal(model(x).data, again(x).data)


def test_clone_gives_an_unfitted_copy_with_the_same_params():
    clf = MLPClassifier((8,), alpha=0.5, dropout=0.1, loss="cross_entropy")
    copy_ = clone(clf)
    assert copy_.get_params() == clf.get_params() and not hasattr(copy_, "model_")
