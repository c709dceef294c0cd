"""The estimators' validation rows: weighted like training, and splits that leave no rows."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.utils import check_random_state  # noqa: E402

from retroprop.sklearn import MLPClassifier, MLPRegressor  # noqa: E402
from retroprop.sklearn._base import _SEED_LIMIT  # noqa: E402


def test_regressor_validation_loss_is_weighted_by_the_held_out_rows():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = X[:, 0] + rng.normal(scale=0.1, size=60)
    y[::7] += 50.0  # outliers that weigh nothing
    w = np.where(np.arange(60) % 7 == 0, 0.0, 1.0)
    reg = MLPRegressor(  # init="course" draws one seed from random_state, replayed below
        (4,),
        max_iter=1,
        early_stopping=True,
        validation_fraction=0.25,
        random_state=0,
        init="course",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg.fit(X, y, sample_weight=w)
    # the rows held out, drawn as the estimator draws them
    state = check_random_state(0)
    state.randint(_SEED_LIMIT)  # the initial weights' seed
    _, val_rows = train_test_split(np.arange(60), test_size=0.25, random_state=state)
    error = reg.predict(X[val_rows]) - y[val_rows]
    expected = np.average(0.5 * error**2, weights=w[val_rows])
    assert reg.validation_loss_curve_[0] == pytest.approx(expected, rel=1e-4)
    assert reg.history_["val_loss"] == reg.validation_loss_curve_  # one figure, computed once
    assert w[val_rows].min() == 0.0  # the split did hold out weightless outliers


def test_estimator_split_that_leaves_too_few_validation_rows_says_how_many():
    X = np.arange(20.0).reshape(10, 2)
    y = np.arange(10.0)
    reg = MLPRegressor(early_stopping=True, validation_fraction=0.1)
    with pytest.raises(ValueError, match="1 for validation and 9 for training"):
        reg.fit(X, y)
    assert not hasattr(reg, "history_")  # before any training


def test_estimator_split_that_leaves_no_training_rows_says_how_many():
    X = np.arange(20.0).reshape(10, 2)
    y = np.arange(10.0)
    reg = MLPRegressor(early_stopping=True, validation_fraction=0.95)
    with pytest.raises(ValueError, match="10 for validation and 0 for training"):
        reg.fit(X, y)
    assert not hasattr(reg, "history_")


def test_classifier_split_that_would_leave_a_class_out_of_training():
    X = np.arange(16.0).reshape(8, 2)
    y = np.array([0, 0, 0, 0, 1, 1, 1, 2])  # class 2 has one row: no stratified split
    for seed in range(20):  # a random split puts class 2 among the 4 validation rows at times
        clf = MLPClassifier(  # "if_possible": the impossible stratified split falls back
            (2,),
            early_stopping=True,
            validation_fraction=0.5,
            random_state=seed,
            stratify="if_possible",
        )
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                clf.fit(X, y)
        except ValueError as error:
            assert "no row of class [2]" in str(error)
            assert "4 for validation and 4 for training" in str(error)
            assert not hasattr(clf, "history_")
            return
    pytest.fail("no seed put class 2 on the validation side")


def test_the_estimator_checks_x_in_the_dtype_it_trains_in():
    X = np.array([[1e39], [1.0], [2.0]])  # finite in float64, inf in float32
    with pytest.raises(ValueError, match="too large for dtype\\('float32'\\)"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            MLPRegressor(max_iter=1, dtype="float32").fit(X, [1.0, 2.0, 3.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter=1 does not converge
        MLPRegressor(max_iter=1, dtype="float64").fit(X / 1e30, [1.0, 2.0, 3.0])  # no overflow
