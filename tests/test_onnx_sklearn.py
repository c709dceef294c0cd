"""MLPClassifier / MLPRegressor inside scikit-learn pipelines, converted by skl2onnx."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")
pd = pytest.importorskip("pandas")

import onnxruntime as ort  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

from retroprop.onnx import register_skl2onnx  # noqa: E402
from retroprop.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(autouse=True)
def registered():
    register_skl2onnx()
    register_skl2onnx()  # a second call is harmless


def session_of(proto):
    return ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])


def numbers(rows=120, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(rows, 4)) * [1.0, 10.0, 0.1, 3.0] + [0.0, 50.0, 0.0, -2.0]).astype(
        dtype
    )


def assert_classifier_matches(pipe, proto, inputs, X, atol=1e-5):
    label, probabilities = session_of(proto).run(None, inputs)
    np.testing.assert_array_equal(label, pipe.predict(X))
    np.testing.assert_allclose(probabilities, pipe.predict_proba(X), atol=atol, rtol=0)
    return label, probabilities


@pytest.mark.parametrize(
    "labels, loss",
    [
        (np.array(["setosa", "versicolor", "virginica"]), "log_loss"),  # softmax, string labels
        (np.array([3, 7]), "log_loss"),  # one logistic unit, int labels
        (np.array([0, 1, 2]), "binary_cross_entropy_with_logits"),  # one-vs-rest sigmoids
        (np.array(["no", "yes"]), "cross_entropy"),  # two softmax units
    ],
)
def test_scaled_classifier_labels_and_probabilities(labels, loss):
    X = numbers()
    y = labels[(X[:, 0] > 0).astype(int) + (X[:, 3] > -2).astype(int) * (len(labels) > 2)]
    clf = MLPClassifier((16,), activation="tanh", loss=loss, max_iter=60, random_state=0)
    pipe = make_pipeline(StandardScaler(), clf).fit(X, y)
    proto = skl2onnx.to_onnx(pipe, X[:1], options={"zipmap": False})
    assert [o.name for o in proto.graph.output] == ["label", "probabilities"]
    assert_classifier_matches(pipe, proto, {"X": X}, X)


def test_column_transformer_with_a_string_column_and_zipmap():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "size": rng.normal(5.0, 2.0, 150).astype(np.float32),
            "weight": rng.normal(70.0, 10.0, 150).astype(np.float32),
            "colour": rng.choice(["red", "green", "blue"], 150),
        }
    )
    y = np.where((frame["colour"] == "red") | (frame["size"] > 6), "keep", "drop")
    columns = ColumnTransformer(
        [("numbers", StandardScaler(), ["size", "weight"]), ("colour", OneHotEncoder(), ["colour"])]
    )
    pipe = make_pipeline(columns, MLPClassifier((12,), max_iter=80, random_state=1)).fit(frame, y)
    inputs = {name: frame[[name]].to_numpy() for name in frame}
    proto = skl2onnx.to_onnx(pipe, frame[:1], options={MLPClassifier: {"zipmap": False}})
    assert_classifier_matches(pipe, proto, inputs, frame)
    zipped = skl2onnx.to_onnx(pipe, frame[:1])  # skl2onnx's default: a list of {class: p}
    label, dictionaries = session_of(zipped).run(None, inputs)
    np.testing.assert_array_equal(label, pipe.predict(frame))
    assert set(dictionaries[0]) == {"drop", "keep"}
    np.testing.assert_allclose(
        [row["keep"] for row in dictionaries], pipe.predict_proba(frame)[:, 1], atol=1e-5
    )


def test_multilabel_classifier():
    X = numbers(seed=2)
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] > 50, X[:, 2] > 0]).astype(int)
    pipe = make_pipeline(StandardScaler(), MLPClassifier((16,), max_iter=60, random_state=0))
    pipe.fit(X, Y)
    proto = skl2onnx.to_onnx(pipe, X[:1], options={"zipmap": False})
    assert_classifier_matches(pipe, proto, {"X": X}, X)


@pytest.mark.parametrize("rows", [1, 7, 100])
def test_regressor_float32_any_batch(rows):
    X = numbers(seed=3)
    y = np.column_stack([X[:, 0] * 2.0 + X[:, 3], np.sin(X[:, 2] * 10)])
    pipe = make_pipeline(StandardScaler(), MLPRegressor((16,), max_iter=60, random_state=0))
    pipe.fit(X, y)
    proto = skl2onnx.to_onnx(pipe, X[:1])
    (variable,) = session_of(proto).run(None, {"X": X[:rows]})
    assert variable.shape == (rows, 2)
    np.testing.assert_allclose(variable, pipe.predict(X[:rows]), atol=1e-5, rtol=0)


def test_regressor_float64_and_poisson():
    X = numbers(seed=4, dtype=np.float64)
    y = np.exp(0.3 * X[:, 0])
    regressor = MLPRegressor((8,), loss="poisson", dtype=np.float64, max_iter=60, random_state=0)
    pipe = make_pipeline(StandardScaler(), regressor).fit(X, y)
    proto = skl2onnx.to_onnx(pipe, X[:1])
    (variable,) = session_of(proto).run(None, {"X": X})
    assert variable.dtype == np.float64
    np.testing.assert_allclose(variable.ravel(), pipe.predict(X), atol=1e-10, rtol=0)


def test_boolean_labels_become_int64():
    X = numbers(rows=60, seed=5)
    clf = MLPClassifier((4,), max_iter=20, random_state=0).fit(X, X[:, 0] > 0)
    proto = skl2onnx.to_onnx(clf, X[:1], options={"zipmap": False})
    label, _ = assert_classifier_matches(clf, proto, {"X": X}, X)
    assert label.dtype == np.int64
