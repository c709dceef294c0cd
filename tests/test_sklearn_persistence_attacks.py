"""A crafted or damaged estimator record is a ModelFileError naming the field, never a traceback.

Each case edits the saved record, then rewrites the manifest (as a forger would), so that the
record's own allowlist is what refuses it.
"""

from __future__ import annotations

import json
import shutil
import tracemalloc
import warnings

import pytest
from sklearn.datasets import load_iris

from retroprop._io_publish import write_manifest
from retroprop.io import ModelFileError
from retroprop.sklearn import MLPClassifier, load


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        classifier = MLPClassifier((4,), max_iter=2, random_state=0)
        classifier.fit(X, [["setosa", "versicolor", "virginica"][i] for i in y])
    return classifier.save(tmp_path_factory.mktemp("clf") / "clf")


def edit_record(folder, change):
    path = folder / "config.json"
    config = json.loads(path.read_text())
    change(config["metadata"]["sklearn_estimator"])
    path.write_text(json.dumps(config))
    write_manifest(folder)


CASES = {
    "a counter stored as a float": (
        lambda r: r["fitted"].update(n_iter_=2.0),
        "n_iter_ must be a non-negative integer, got 2.0",
    ),
    "a string format_version": (
        lambda r: r.update(format_version="1"),
        "format_version must be a positive integer, got '1'",
    ),
    "a newer format_version": (lambda r: r.update(format_version=7), "newer than"),
    "a cut class list": (
        lambda r: r["classes"].update(values=r["classes"]["values"][:2]),
        "the network has 3 outputs, which does not fit the record's 2 classes",
    ),
    "an unknown saved parameter": (
        lambda r: r["params"].update(evil=1),
        r"unknown saved parameter\(s\) \['evil'\]",
    ),
    "a missing record key": (lambda r: r.pop("fitted"), r"keys missing \['fitted'\]"),
    "an unknown record key": (lambda r: r.update(code="import os"), r"unknown \['code'\]"),
    "a missing fitted attribute": (lambda r: r["fitted"].pop("t_"), r"missing \['t_'\]"),
    "a 4 GB text dtype": (
        lambda r: r["classes"].update(dtype="<U1000000000"),
        "classes.dtype '<U1000000000' is not allowed",
    ),
    "a structured dtype": (
        lambda r: r["classes"].update(dtype="(1000000000,)f8"),
        "is not allowed",
    ),
    "a void dtype": (lambda r: r["classes"].update(dtype="V4000000000"), "is not allowed"),
    "an unknown estimator": (lambda r: r.update(estimator="Pipeline"), "unknown estimator"),
    "an unknown y_type": (lambda r: r["classes"].update(y_type="continuous"), "y_type"),
    "classes that are objects": (
        lambda r: r["classes"].update(values=[{}, {}, {}]),
        "strings, numbers or booleans",
    ),
    "a wrong input width": (
        lambda r: r["fitted"].update(n_features_in_=7),
        "n_features_in_=7 does not fit the network",
    ),
    "params that are a list": (lambda r: r.update(params=[1]), "'params' must be"),
    "a loss that is text": (lambda r: r["fitted"].update(loss_="low"), "loss_ must be a number"),
    "an architecture of text": (
        lambda r: r["fitted"].update(_architecture="big"),
        "_architecture must be",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_malformed_record_is_a_model_file_error_naming_the_file(saved, tmp_path, case):
    folder = shutil.copytree(saved, tmp_path / "clf")
    change, message = CASES[case]
    edit_record(folder, change)
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match=message) as caught:
            load(folder)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert "config.json" in str(caught.value)
    assert peak < 64 * 2**20


def test_the_unedited_record_loads(saved):
    X, _ = load_iris(return_X_y=True)
    assert set(load(saved).predict(X)) <= {"setosa", "versicolor", "virginica"}
