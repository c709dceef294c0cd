"""lbfgs, Poisson, sparse input, dtype and initialisation, against scikit-learn on the same data.

With the default init both libraries draw the same initial network from the same
``random_state``, and L-BFGS is deterministic: the fits agree to rounding, not only in score.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")
scipy_sparse = pytest.importorskip("scipy.sparse")

from sklearn.datasets import load_digits, make_regression  # noqa: E402
from sklearn.exceptions import ConvergenceWarning, FitFailedWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.neural_network import MLPClassifier as SklearnClassifier  # noqa: E402
from sklearn.neural_network import MLPRegressor as SklearnRegressor  # noqa: E402
from sklearn.preprocessing import MinMaxScaler  # noqa: E402

from retroprop.gradcheck import gradcheck  # noqa: E402
from retroprop.sklearn import FitDivergedError, MLPClassifier, MLPRegressor  # noqa: E402
from retroprop.sklearn._sparse import SparseMatmul  # noqa: E402
from retroprop.tensor import Tensor  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(n_class=4, return_X_y=True)
    return MinMaxScaler().fit_transform(X[:300]), y[:300]


@pytest.fixture(scope="module")
def counts():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(300, 4))
    y = rng.poisson(np.exp(0.8 * X[:, 0] - 0.5 * X[:, 1] + 0.3))
    return X, y.astype(float)


def both(settings, X, y, kind="classifier"):
    ours = (MLPClassifier if kind == "classifier" else MLPRegressor)(**settings).fit(X, y)
    theirs = (SklearnClassifier if kind == "classifier" else SklearnRegressor)(**settings)
    return ours, theirs.fit(X, y)


# ------------------------------------------------------------------------ lbfgs
@pytest.mark.parametrize("activation", ["logistic", "tanh", "relu"])
def test_lbfgs_classifier_matches_scikit_learn(digits, activation):
    X, y = digits
    settings = {"solver": "lbfgs", "hidden_layer_sizes": (20,), "max_iter": 60}
    ours, theirs = both({**settings, "activation": activation, "random_state": 1}, X, y)
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-4)
    assert abs(ours.score(X, y) - theirs.score(X, y)) <= 0.01
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-4)


def test_lbfgs_regressor_matches_scikit_learn():
    X, y = make_regression(200, 8, noise=10.0, random_state=0)
    y = (y - y.mean()) / y.std()
    settings = {"solver": "lbfgs", "hidden_layer_sizes": (16,), "max_iter": 100, "tol": 1e-6}
    ours, theirs = both({**settings, "random_state": 0}, X, y, kind="regressor")
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-4)
    assert abs(ours.score(X, y) - theirs.score(X, y)) <= 0.01


def test_lbfgs_has_max_fun_and_no_partial_fit(digits):
    X, y = digits
    clf = MLPClassifier(solver="lbfgs", max_fun=5, random_state=0)
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        clf.fit(X, y)
    assert clf.n_iter_ <= 5
    assert not hasattr(clf, "partial_fit")
    assert hasattr(MLPClassifier(solver="adam"), "partial_fit")


# ------------------------------------------------------------------------ Poisson
def test_poisson_regressor_matches_scikit_learn(counts):
    X, y = counts
    settings = {"loss": "poisson", "solver": "lbfgs", "hidden_layer_sizes": (8,), "tol": 1e-7}
    # The same path for 30 iterations; after that the flat optimum lets rounding steer.
    ours, theirs = both({**settings, "random_state": 0, "max_iter": 30}, X, y, "regressor")
    assert ours.out_activation_ == theirs.out_activation_ == "exp"
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-5)
    ours, theirs = both({**settings, "random_state": 0}, X, y, kind="regressor")
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-4)
    assert abs(ours.score(X, y) - theirs.score(X, y)) <= 0.01
    assert (ours.predict(X) > 0).all()


def test_poisson_with_adam_scores_as_scikit_learn(counts):
    X, y = counts
    settings = {"loss": "poisson", "hidden_layer_sizes": (8,), "learning_rate_init": 0.01}
    ours, theirs = both({**settings, "random_state": 0, "max_iter": 300}, X, y, "regressor")
    assert abs(ours.score(X, y) - theirs.score(X, y)) <= 0.01


def test_poisson_refuses_negative_targets(counts):
    X, y = counts
    with pytest.raises(ValueError, match="negative.*first at row 3"):
        MLPRegressor(loss="poisson").fit(X, np.where(np.arange(len(y)) == 3, -1.0, y))


# ------------------------------------------------------------------------ sparse input
def test_sparse_matmul_gradient_is_x_transpose_delta():
    rng = np.random.default_rng(0)
    X = scipy_sparse.random(6, 5, density=0.4, random_state=0, format="csr")
    W = Tensor(rng.normal(size=(5, 3)), requires_grad=True)
    assert gradcheck(lambda w: SparseMatmul.apply(w, X), (W,))
    delta = rng.normal(size=(6, 3))
    SparseMatmul.apply(W, X).backward(delta)
    np.testing.assert_allclose(W.grad, X.toarray().T @ delta)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("form", ["csr", "csc"])
def test_sparse_fit_equals_dense_fit(digits, solver, form, monkeypatch):
    X, y = digits
    settings = {"solver": solver, "hidden_layer_sizes": (16,), "max_iter": 20, "random_state": 0}
    dense = MLPClassifier(**settings).fit(X, y)
    X_sparse = scipy_sparse.csr_matrix(X) if form == "csr" else scipy_sparse.csc_matrix(X)

    def refuse(*args, **kwargs):
        raise AssertionError("the sparse X was densified")

    for name in ("toarray", "todense"):
        monkeypatch.setattr(type(X_sparse), name, refuse)
        monkeypatch.setattr(scipy_sparse.csr_matrix, name, refuse)
    sparse = MLPClassifier(**settings).fit(X_sparse, y)
    for ours, theirs in zip(sparse.coefs_, dense.coefs_, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(sparse.predict(X_sparse), dense.predict(X))
    if solver == "adam":
        sparse.partial_fit(X_sparse, y)
        assert sparse.n_iter_ == 1 and sparse.coefs_[0].dtype == np.float64


def test_sparse_fit_scores_as_scikit_learn():
    X = scipy_sparse.random(400, 300, density=0.05, random_state=0, format="csr")
    y = (X @ np.random.default_rng(0).normal(size=300) > 0).astype(int)
    settings = {"solver": "lbfgs", "hidden_layer_sizes": (10,), "max_iter": 50}
    ours, theirs = both({**settings, "random_state": 0}, X, y)
    assert abs(ours.score(X, y) - theirs.score(X, y)) <= 0.01


def test_sparse_input_with_early_stopping_validates_as_dense(digits):
    X, y = digits
    settings = {"hidden_layer_sizes": (16,), "early_stopping": True, "max_iter": 15}
    dense = MLPClassifier(**settings, random_state=0).fit(X, y)
    sparse = MLPClassifier(**settings, random_state=0).fit(scipy_sparse.csr_matrix(X), y)
    assert len(sparse.validation_scores_) == sparse.n_iter_ == dense.n_iter_
    np.testing.assert_allclose(sparse.validation_loss_curve_, dense.validation_loss_curve_)
    np.testing.assert_allclose(sparse.predict_proba(X), dense.predict_proba(X), atol=1e-10)


# ------------------------------------------------------------------------ dtype and init
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_network_trains_and_predicts_in_x_dtype(digits, dtype):
    X, y = digits
    reg = MLPRegressor((8,), max_iter=5, random_state=0).fit(X.astype(dtype), y)
    assert all(c.dtype == dtype for c in reg.coefs_ + reg.intercepts_)
    assert reg.predict(X.astype(dtype)).dtype == dtype
    forced = MLPRegressor((8,), max_iter=5, random_state=0, dtype="float32").fit(X, y)
    assert forced.coefs_[0].dtype == np.float32 and forced.predict(X).dtype == np.float32
    as_int = MLPRegressor((8,), max_iter=5, random_state=0).fit((X * 16).astype(int), y)
    assert as_int.coefs_[0].dtype == np.float64


@pytest.mark.parametrize("activation", ["logistic", "relu"])
def test_default_init_is_scikit_learns(digits, activation):
    X, y = digits
    settings = {
        "hidden_layer_sizes": (7, 5),
        "activation": activation,
        "solver": "sgd",
        "learning_rate_init": 1e-12,  # one negligible step: the weights stay the initial ones
        "momentum": 0.0,
        "max_iter": 1,
        "random_state": 3,
    }
    ours, theirs = both(settings, X, y)
    for mine, its in zip(
        ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_, strict=True
    ):
        np.testing.assert_allclose(mine, its, atol=1e-9)
    course = MLPClassifier(**{**settings, "init": "course"}).fit(X, y)
    assert not np.allclose(course.intercepts_[0], theirs.intercepts_[0])  # biases start at 0


# ------------------------------------------------------------------------ divergence, splits
def diverging_problem():
    X, y = make_regression(100, 5, random_state=0)
    return X * 100, y


def test_divergence_is_a_failed_fit_for_grid_search():
    X, y = diverging_problem()
    grid = GridSearchCV(
        MLPRegressor((8,), solver="sgd", max_iter=20, random_state=0),
        {"learning_rate_init": [1e3, 1e-6]},
        cv=2,
        error_score=np.nan,
    )
    with pytest.warns(FitFailedWarning, match="non-finite parameter weights"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            grid.fit(X, y)
    assert np.isnan(grid.cv_results_["mean_test_score"][0])
    assert grid.best_params_ == {"learning_rate_init": 1e-6}
    with pytest.raises(FitDivergedError, match="Solver produced non-finite parameter weights"):
        MLPRegressor((8,), solver="sgd", learning_rate_init=1e3, random_state=0).fit(X, y)
    assert issubclass(FitDivergedError, ValueError)


def test_divergence_with_early_stopping_keeps_the_best_weights():
    X, y = diverging_problem()
    reg = MLPRegressor(
        (8,), solver="sgd", learning_rate_init=1e3, early_stopping=True, random_state=0
    )
    with pytest.warns(ConvergenceWarning, match="diverged"):
        reg.fit(X, y)
    assert np.isnan(reg.validation_scores_[-1])
    assert all(np.isfinite(c).all() for c in reg.coefs_)


def test_impossible_stratified_split_raises_unless_asked_to_fall_back():
    X = np.arange(20.0).reshape(10, 2)
    y = np.array([0] * 5 + [1] * 4 + [2])
    with pytest.raises(ValueError, match="least populated classes in y have only 1 member"):
        MLPClassifier((4,), early_stopping=True, validation_fraction=0.3).fit(X, y)
    clf = MLPClassifier(
        (4,), early_stopping=True, validation_fraction=0.3, stratify="if_possible", random_state=1
    )
    with pytest.warns(UserWarning, match="splitting at random"):
        clf.fit(X, y)
    assert len(clf.validation_scores_) == clf.n_iter_
