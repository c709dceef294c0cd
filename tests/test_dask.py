"""The estimators on Dask: a search under joblib's Dask backend on a LocalCluster of 2 worker
processes equals the same search run serially, and ``fit_blocks`` streams a Dask array's blocks
through ``partial_fit`` one at a time."""

from __future__ import annotations

import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

from sklearn.model_selection import GridSearchCV, RandomizedSearchCV  # noqa: E402

from retroprop.dask import fit_blocks  # noqa: E402
from retroprop.sklearn import MLPClassifier, MLPRegressor  # noqa: E402


@pytest.fixture(scope="module")
def client():
    """A LocalCluster of 2 single-threaded worker processes, shut down after the module."""
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        worker_dashboard_address=None,
    )
    with distributed.Client(cluster, timeout="60s") as client:
        yield client
    cluster.close(timeout=30)


def _data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = (X[:, 0] + 0.5 * X[:, 1] ** 2 > 0.3).astype(int)
    return X, y


def test_grid_search_on_the_cluster_equals_the_serial_search(client):
    import joblib

    X, y = _data()
    grid = {"alpha": [1e-4, 1e-2], "hidden_layer_sizes": [(4,), (8,)]}
    model = MLPClassifier(max_iter=15, learning_rate_init=0.05, random_state=0)
    serial = GridSearchCV(model, grid, cv=2).fit(X, y)
    with joblib.parallel_backend("dask"):
        on_dask = GridSearchCV(model, grid, cv=2, n_jobs=-1).fit(X, y)
    assert len(client.scheduler_info()["workers"]) == 2
    for key in ("mean_test_score", "split0_test_score", "split1_test_score"):
        np.testing.assert_array_equal(on_dask.cv_results_[key], serial.cv_results_[key])
    assert on_dask.best_params_ == serial.best_params_
    np.testing.assert_array_equal(on_dask.predict(X), serial.predict(X))


def test_randomized_search_of_a_regressor_on_the_cluster_equals_the_serial_one(client):
    import joblib

    X, _ = _data(80, seed=1)
    y = X @ np.array([1.0, -2.0, 0.5])
    space = {"learning_rate_init": [0.003, 0.01, 0.03], "alpha": [1e-5, 1e-3, 1e-1]}
    model = MLPRegressor(hidden_layer_sizes=(6,), max_iter=10, random_state=0)
    search = dict(n_iter=3, cv=2, random_state=0)
    serial = RandomizedSearchCV(model, space, **search).fit(X, y)
    with joblib.parallel_backend("dask"):
        on_dask = RandomizedSearchCV(model, space, n_jobs=-1, **search).fit(X, y)
    np.testing.assert_array_equal(
        on_dask.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
    )


class _Recording(MLPClassifier):
    """Records the rows and classes each partial_fit call receives (in ``calls``)."""

    def partial_fit(self, X, y, sample_weight=None, classes=None):
        self.calls.append((len(X), classes))
        return super().partial_fit(X, y, sample_weight=sample_weight, classes=classes)


def test_fit_blocks_computes_one_block_at_a_time_and_matches_partial_fit_by_hand():
    X, y = _data(100, seed=2)
    chunks = (30, 30, 30, 10)
    computed = []

    def note(block):
        if len(block):  # not the empty block Dask infers the output type from
            computed.append(len(block))
        return block

    X_dask = da.from_array(X, chunks=((chunks), (3,))).map_blocks(note, dtype=X.dtype)
    y_dask = da.from_array(y, chunks=(chunks,))
    settings = dict(hidden_layer_sizes=(5,), learning_rate_init=0.05, random_state=0)
    recorder = _Recording(**settings)
    recorder.calls = []
    with dask.config.set(scheduler="synchronous"):
        fit_blocks(recorder, X_dask, y_dask, epochs=2, random_state=3)
    # 2 epochs x 4 blocks, each computed alone; the classes told on every call
    assert sorted(computed) == sorted(list(chunks) * 2)
    assert sorted(n for n, _ in recorder.calls) == sorted(list(chunks) * 2)
    assert all(classes.tolist() == [0, 1] for _, classes in recorder.calls)
    # by hand: the same seeded block order and row shuffles
    by_hand = MLPClassifier(**settings)
    rng = np.random.default_rng(3)
    starts = np.cumsum((0, *chunks))
    for _ in range(2):
        for block in rng.permutation(4):
            rows = np.arange(starts[block], starts[block + 1])[rng.permutation(chunks[block])]
            by_hand.partial_fit(X[rows], y[rows], classes=[0, 1])
    for mine, theirs in zip(recorder.coefs_, by_hand.coefs_, strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_fit_blocks_on_a_dask_dataframe_on_the_cluster(client):
    dd = pytest.importorskip("dask.dataframe")
    import pandas as pd

    X, y = _data(90, seed=4)
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(label=np.where(y, "yes", "no"))
    table = dd.from_pandas(frame, npartitions=3)
    model = MLPClassifier(hidden_layer_sizes=(8,), learning_rate_init=0.05, random_state=0)
    fit_blocks(model, table[["a", "b", "c"]], table["label"], epochs=10, random_state=0)
    assert model.classes_.tolist() == ["no", "yes"]
    assert model.score(frame[["a", "b", "c"]], frame["label"]) > 0.7


def test_fit_blocks_names_what_is_wrong():
    X = da.zeros((10, 2), chunks=5)
    with pytest.raises(TypeError, match="Dask array or dataframe"):
        fit_blocks(MLPRegressor(), np.zeros((10, 2)), np.zeros(10))
    with pytest.raises(ValueError, match="X has 10 rows but y has 9"):
        fit_blocks(MLPRegressor(), X, da.zeros(9, chunks=5))
    with pytest.raises(ValueError, match="epochs must be a whole number >= 1"):
        fit_blocks(MLPRegressor(), X, da.zeros(10, chunks=5), epochs=0)
