"""The schema saved with a model: each column's kind, decided once and applied at prediction;
missing values filled in; identifier columns left out (issue 11 items 1-3, issue 12's stray words
and duplicate names)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from retroprop.cli.errors import CLIError
from retroprop.cli.schema import Schema, infer_kind, parse_column
from retroprop.cli.tabular import Preprocessing, read_table


def kind_of(values, name="c"):
    return infer_kind(pd.Series(values, name=name, dtype=object)).kind


@pytest.mark.parametrize(
    "spellings",
    [["true", "false"], ["True", "False"], ["TRUE", "FALSE"], ["yes", "no"], ["Y", "N"],
     ["true", "0", "1", "false"], ["Yes", "no", " TRUE ", "f"]],
)  # fmt: skip
def test_booleans_in_every_common_spelling(spellings):
    values = spellings * 15
    assert kind_of(values) == "boolean"
    parsed, bad = parse_column(pd.Series(values), "boolean")
    assert not bad.any()
    truth = [v.strip().lower() in ("true", "yes", "y", "1") for v in values]
    assert parsed.tolist() == [str(t) for t in truth]


def test_a_column_of_zeros_and_ones_is_numeric_but_parses_as_boolean_where_one_is():
    assert kind_of(["0", "1", "1"]) == "numeric"
    assert parse_column(pd.Series(["1", "0", "yes"]), "boolean")[0].tolist() == [
        "True", "False", "True"
    ]  # fmt: skip
    assert parse_column(pd.Series(["maybe"]), "boolean")[1].tolist() == [True]


def test_numbers_with_spaces_and_the_usual_missing_markers():
    values = [" 3.5", "4 ", " 1 000 ", "", "NA", "N/A", "?", "null", "nan", "None", "-2e1"]
    assert kind_of(values) == "numeric"
    parsed, bad = parse_column(pd.Series(values), "numeric")
    assert not bad.any()
    np.testing.assert_array_equal(parsed, [3.5, 4.0, 1000.0, *[np.nan] * 7, -20.0])


def test_integers_with_leading_zeros_are_categories_and_keep_their_text():
    assert kind_of(["01", "02", "10", "01"]) == "categorical"
    assert parse_column(pd.Series(["01", " 02"]), "categorical")[0].tolist() == ["01", "02"]


def test_a_numeric_column_with_a_few_stray_words_is_named_not_one_hot_encoded():
    values = [str(v) for v in range(40)]
    values[5], values[9] = "unknown", "n.a."
    with pytest.raises(CLIError, match=r"'price' holds numbers but also 2 word\(s\): "
                       r"'unknown', 'n.a.' at rows 5, 9") as error:  # fmt: skip
        infer_kind(pd.Series(values, name="price"))
    assert "--drop price" in error.value.hint
    assert kind_of(["red", "blue", "3"] * 10) == "categorical"  # mostly words: categories


@pytest.mark.parametrize(
    ("name", "values", "kind"),
    [
        ("row", [str(i) for i in range(100)], "identifier"),  # row numbers
        ("CustomerId", [str(7 * i + 3) for i in range(50)], "identifier"),  # a key by name
        ("code", [f"K{i:04d}" for i in range(50)], "identifier"),  # a distinct text per row
        ("income", [str(7 * i + 3) for i in range(50)], "numeric"),  # distinct, not an id
        ("height", [str(150 + i / 7) for i in range(50)], "numeric"),  # fractions
        ("city", ["a", "b"] * 25, "categorical"),
        ("few", ["a", "b", "c"], "categorical"),  # too few rows to call it an identifier
        ("empty", ["", "NA"] * 10, "excluded"),
    ],
)
def test_identifier_columns_are_detected(name, values, kind):
    assert kind_of(values, name) == kind


def test_schema_keeps_what_it_is_told_to_and_round_trips_as_json():
    table = pd.DataFrame({"id": [str(i) for i in range(30)], "x": ["1.5"] * 30})
    assert [c.kind for c in Schema.infer(table).columns] == ["identifier", "numeric"]
    schema = Schema.infer(table, keep=["id"], dropped=["name"])
    assert [(c.name, c.kind) for c in schema.columns] == [
        ("id", "numeric"), ("x", "numeric"), ("name", "excluded")
    ]  # fmt: skip
    assert Schema.from_json(json.loads(json.dumps(schema.to_json()))) == schema
    with pytest.raises(CLIError, match="--keep: no column 'nope'"):
        Schema.infer(table, keep=["nope"])
    with pytest.raises(ValueError, match="unknown column kind 'pickle'"):
        Schema.from_json({"columns": [{"name": "x", "kind": "pickle"}]})


def holes(n=40, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"age": rng.normal(40, 10, n), "shoe": rng.choice(["S", "M"], n)})
    frame.loc[[1, 5, 6], "age"] = np.nan
    frame.loc[[2, 3], "shoe"] = np.nan
    return frame


def test_missing_values_are_imputed_as_scikit_learn_does_fitted_on_training_rows_only():
    train, test = holes(40, 0), holes(12, 1)
    prep = Preprocessing.fit(train)
    assert prep.feature_names == ["age", "age (missing)", "shoe=(missing)", "shoe=M", "shoe=S"]
    assert prep.medians["age"] == pytest.approx(train["age"].median())
    age = make_pipeline(SimpleImputer(strategy="median"), StandardScaler()).fit(train[["age"]])
    indicator = MissingIndicator().fit(train[["age"]])
    shoe = make_pipeline(
        SimpleImputer(strategy="constant", fill_value="(missing)"),
        OneHotEncoder(handle_unknown="ignore", sparse_output=False),
    ).fit(train[["shoe"]])
    expected = np.hstack([age.transform(test[["age"]]), indicator.transform(test[["age"]]),
                          shoe.transform(test[["shoe"]])])  # fmt: skip
    np.testing.assert_allclose(prep.transform(test, dtype=np.float64), expected, atol=1e-12)


def test_no_indicator_for_a_column_complete_in_training_and_unseen_gaps_are_counted():
    train = holes().dropna()
    prep = Preprocessing.fit(train)
    assert prep.indicators == [] and "shoe=(missing)" not in prep.feature_names
    new = pd.DataFrame({"age": ["NA", "30"], "shoe": ["?", "XL"]})
    X = prep.transform(new, dtype=np.float64)
    assert X[0, 0] == pytest.approx((prep.medians["age"] - prep.numeric["age"][0])
                                    / prep.numeric["age"][1])  # fmt: skip
    assert prep.unknown_counts(prep.parse(new)) == {"shoe": {"(missing)": 1, "XL": 1}}


def test_a_model_saved_before_schemas_still_transforms_and_names_what_it_cannot_do():
    old = Preprocessing.from_json(
        {
            "columns": ["age", "shoe"],
            "numeric": {"age": [40.0, 10.0]},
            "categorical": {"shoe": ["M", "S"]},
        }  # fmt: skip
    )
    assert old.schema is None
    new = pd.DataFrame({"age": ["50", " 30"], "shoe": ["S", "M"]})
    np.testing.assert_allclose(old.transform(new), [[1.0, 0.0, 1.0], [-1.0, 1.0, 0.0]])
    with pytest.raises(CLIError, match="'age' has missing values at row 1, and this model"):
        old.transform(pd.DataFrame({"age": ["50", ""], "shoe": ["S", "M"]}))


def test_duplicate_column_names_are_refused_naming_them(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,a, b\n1,2,3,4\n")
    with pytest.raises(CLIError, match=r"duplicate column names: 'a' \(columns 1, 3\); "
                       r"'b' \(columns 2, 4\)"):  # fmt: skip
        read_table(tmp_path / "d.csv")


def test_the_data_panel_lists_columns_kinds_missing_counts_and_class_balance():
    from retroprop.report import RunRecord, build_report

    summary = {
        "rows": 40,
        "columns": [
            {"name": "<b>age", "kind": "numeric", "missing": 3, "distinct": 30,
             "note": "median + missing indicator"},
            {"name": "id", "kind": "identifier", "missing": 0, "distinct": 40,
             "note": "40 distinct values in 40 rows; --keep id to use it"},
            {"name": "gone", "kind": "excluded", "missing": None, "distinct": None,
             "note": "--drop"},
        ],
        "target": {"name": "y", "task": "binary", "missing": 0, "classes": {"a": 30, "b": 10}},
    }  # fmt: skip
    record = RunRecord("t", "done", {}, {}, [], {"train": {"loss": 0.1}}, data_summary=summary)
    page = build_report(record)
    assert page.index('id="settings"') < page.index('<section id="data"><h2>Data</h2>')
    assert '<td>&lt;b&gt;age</td><td>numeric</td><td class="num">3</td>' in page
    assert '<td>gone</td><td>excluded</td><td class="num">—</td>' in page
    assert '<td>a</td><td class="num">30</td><td class="num">75.0%</td>' in page
    assert 'id="data"' not in build_report(RunRecord("t", "done", {}, {}, [], {}))


def test_a_saved_pandas_index_is_an_identifier(tmp_path):
    pd.DataFrame({"x": np.arange(30) % 4, "y": ["a", "b"] * 15}).to_csv(tmp_path / "d.csv")
    frame = read_table(tmp_path / "d.csv")
    assert list(frame.columns) == ["Unnamed: 0", "x", "y"]
    assert [c.kind for c in Schema.infer(frame).columns] == ["identifier", "numeric", "categorical"]
