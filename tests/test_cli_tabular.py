"""The CLI's data handling: preprocessing as JSON equals scikit-learn's, tasks, splits, datasets."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from retroprop.cli.datasets import DATASETS, load_dataset, make_spirals, make_xor
from retroprop.cli.errors import CLIError
from retroprop.cli.prepare import split_indices
from retroprop.cli.tabular import Preprocessing, read_table
from retroprop.cli.target import Target


def frame(n=50, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "height": rng.normal(170, 10, n),
            "shoe": rng.choice(["S", "M", "L"], n),
            "weight": rng.normal(70, 12, n),
            "smoker": rng.choice([True, False], n),
        }
    )


def test_preprocessing_matches_scikit_learn_transformers():
    train, test = frame(60, 0), frame(20, 1)
    prep = Preprocessing.fit(train)
    reference = ColumnTransformer(
        [
            ("num", StandardScaler(), ["height", "weight"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["shoe", "smoker"]),
        ],
        sparse_threshold=0,
    )
    reference.fit(train.astype({"smoker": str}))
    # new values beyond the training range are clipped to it first (Preprocessing.ranges)
    numeric = ["height", "weight"]
    clipped = test.assign(**{c: test[c].clip(train[c].min(), train[c].max()) for c in numeric})
    expected = reference.transform(clipped.astype({"smoker": str}))
    got = prep.transform(test, dtype=np.float64)
    names = prep.feature_names  # ours keeps the input's column order
    assert names == ["height", "shoe=L", "shoe=M", "shoe=S", "weight", "smoker=False",
                     "smoker=True"]  # fmt: skip
    columns = ["height", "weight", "shoe=L", "shoe=M", "shoe=S", "smoker=False", "smoker=True"]
    np.testing.assert_allclose(got[:, [names.index(c) for c in columns]], expected, atol=1e-10)


def test_preprocessing_survives_json_and_ignores_unknown_categories():
    prep = Preprocessing.fit(frame())
    again = Preprocessing.from_json(json.loads(json.dumps(prep.to_json())))
    new = frame(3, 5).assign(shoe=["XL", "S", "M"])
    np.testing.assert_array_equal(prep.transform(new), again.transform(new))
    assert prep.transform(new)[0, 1:4].tolist() == [0, 0, 0]
    assert prep.unknown_categories(new) == {"shoe": ["XL"]}


def test_transform_names_text_in_a_numeric_column():
    prep = Preprocessing.fit(frame())
    bad = frame(4).astype({"height": object})
    bad.loc[2, "height"] = "tall"
    with pytest.raises(CLIError, match="'height' should hold numbers but has 'tall' at row 2"):
        prep.transform(bad)


@pytest.mark.parametrize(
    ("values", "task", "classes"),
    [
        (["b", "a", "b"], "binary", ["a", "b"]),
        ([0, 1, 2, 1, 0], "multiclass", ["0", "1", "2"]),
        ([10.0, 2.0, 1.0], "multiclass", ["1", "2", "10"]),
        ([0.5, 1.25, 3.0], "regression", None),
        (list(range(30)), "regression", None),
        ([True, False, True], "binary", ["False", "True"]),
    ],
)
def test_task_follows_from_the_target(values, task, classes):
    target = Target.infer(pd.Series(values, name="y"))
    assert (target.task, target.classes) == (task, classes)


def test_task_override_and_its_checks():
    assert Target.infer(pd.Series([0, 1, 2, 3], name="y"), "regression").task == "regression"
    with pytest.raises(CLIError, match="needs numbers"):
        Target.infer(pd.Series(["a", "b"], name="y"), "regression")
    with pytest.raises(CLIError, match="single class"):
        Target.infer(pd.Series([1, 1, 1], name="y"))


def test_regression_targets_are_standardised_on_the_training_rows():
    target = Target.infer(pd.Series([1.5, 2.5, 3.5, 10.25], name="y")).fit_scale([1.0, 3.0])
    assert (target.mean, target.scale) == (2.0, 1.0)
    np.testing.assert_allclose(target.encode([2.0, 4.0]), [0.0, 2.0])


def test_splits_are_seeded_stratified_and_disjoint():
    labels = np.array([0] * 80 + [1] * 20)
    parts = split_indices(100, labels, 0.2, 0.2, seed=3)
    assert [len(parts[s]) for s in ("train", "validation", "test")] == [60, 20, 20]
    assert all(np.mean(labels[rows]) == pytest.approx(0.2) for rows in parts.values())
    together = np.concatenate(list(parts.values()))
    assert sorted(together.tolist()) == list(range(100))
    again = split_indices(100, labels, 0.2, 0.2, seed=3)
    assert all(np.array_equal(parts[s], again[s]) for s in parts)


def test_builtin_datasets_are_offline_tables():
    for name in DATASETS:
        data = load_dataset(name)
        assert len(data.features) == len(data.target) > 100
        assert not data.features.isna().any().any()
    circles = load_dataset("circles")
    from sklearn.datasets import make_circles

    X, y = make_circles(n_samples=200, factor=0.5, noise=0.08, random_state=1)
    np.testing.assert_array_equal(circles.features.to_numpy(), X)
    assert load_dataset("iris").target.iloc[0] == "setosa"


def test_generators_make_the_named_shapes():
    X, y = make_xor(400, noise=0.0)
    assert np.all(y == ((X[:, 0] > 0) != (X[:, 1] > 0)))
    X, y = make_spirals(300)
    assert X.shape == (300, 2) and np.bincount(y).tolist() == [150, 150]


def test_read_table_errors(tmp_path):
    with pytest.raises(CLIError, match="no such file"):
        read_table(tmp_path / "missing.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(CLIError, match="empty"):
        read_table(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text("a,b\n")
    with pytest.raises(CLIError, match="no rows"):
        read_table(tmp_path / "header.csv")
    with pytest.raises(CLIError, match="directory"):
        read_table(tmp_path)


def test_parquet_when_pyarrow_is_installed(tmp_path):
    pytest.importorskip("pyarrow")
    frame().to_parquet(tmp_path / "d.parquet")
    assert read_table(tmp_path / "d.parquet").shape == (50, 4)
