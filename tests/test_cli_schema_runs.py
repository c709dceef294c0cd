"""`retroprop train` then `predict` on raw tables: gaps, booleans in other spellings, columns in
another order, extra and identifier columns, unseen categories, old model folders."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import retroprop as rp
from retroprop.cli import main

# --lr 0.01 --batch-size 32: the training these runs were written against (the defaults moved to
# lr 0.003 and batch 200 with early stopping: one update per epoch on these 120 training rows)
QUICK = ["--quiet", "--seed", "0", "--no-diagnostics", "--lr", "0.01", "--batch-size", "32"]


def members(path: Path, n: int = 200, seed: int = 0) -> Path:
    """An id per row, a lowercase true/false flag the label follows, a postcode with leading
    zeros, a number with gaps and a mostly empty column."""
    rng = np.random.default_rng(seed)
    flag = rng.choice(["true", "false"], n)
    age = rng.uniform(20, 70, n).round(1).astype(str).astype(object)
    age[rng.choice(n, 12, replace=False)] = ""
    notes = np.where(rng.uniform(size=n) < 0.8, "", rng.choice(["vip", "new"], n))
    frame = pd.DataFrame({
        "id": np.arange(1, n + 1),
        "member": flag,
        "postcode": rng.choice(["01", "02", "10"], n),
        "age": age,
        "notes": notes,
        "label": np.where(flag == "true", "stays", "leaves"),
    })  # fmt: skip
    frame.to_csv(path, index=False)
    return path


def train(tmp_path: Path, *extra: str, capsys=None) -> tuple[Path, str]:
    data = members(tmp_path / "members.csv")
    out = tmp_path / "run"
    code = main(["train", "--data", str(data), "--target", "label", "--epochs", "20",
                 "--out", str(out), *QUICK, *extra])  # fmt: skip
    assert code == 0
    return out, capsys.readouterr().out if capsys else ""


def predict(capsys, model: Path, rows: pd.DataFrame, tmp_path: Path) -> tuple[pd.DataFrame, str]:
    rows.to_csv(tmp_path / "rows.csv", index=False)
    capsys.readouterr()
    assert main(["predict", "--model", str(model), "--data", str(tmp_path / "rows.csv")]) == 0
    captured = capsys.readouterr()
    return pd.read_csv(io.StringIO(captured.out)), captured.err


def test_a_model_predicts_its_own_training_file_as_well_as_its_test_rows(tmp_path, capsys):
    # issue 11: lowercase true/false read as booleans in training and as text in prediction
    # gave test accuracy 1.000 and 0.55 on the model's own training file.
    out, _ = train(tmp_path, capsys=capsys)
    test_accuracy = json.loads((out / "metrics.json").read_text())["metrics"]["test"]["accuracy"]
    assert test_accuracy == 1.0
    table = pd.read_csv(tmp_path / "members.csv", dtype=str, keep_default_na=False)
    result, _ = predict(capsys, out, table, tmp_path)
    assert np.mean(result["prediction"] == table["label"]) == test_accuracy


def test_the_schema_is_saved_and_predict_parses_by_it(tmp_path, capsys):
    out, printed = train(tmp_path, capsys=capsys)
    schema = json.loads((out / "config.json").read_text())["metadata"]["preprocessing"]["schema"]
    kinds = {c["name"]: c["kind"] for c in schema["columns"]}
    assert kinds == {"id": "identifier", "member": "boolean", "postcode": "categorical",
                     "age": "numeric", "notes": "categorical"}  # fmt: skip
    assert (
        "Left out: 'id' (identifier: whole numbers, a distinct one in each of 200 rows; "
        "--keep id to use it)" in printed
    )
    table = pd.read_csv(tmp_path / "members.csv", dtype=str, keep_default_na=False).head(8)
    reference, _ = predict(capsys, out, table, tmp_path)
    spelled = table.assign(member=table["member"].map({"true": "YES", "false": "0"}))
    again, _ = predict(capsys, out, spelled, tmp_path)
    pd.testing.assert_frame_equal(again, reference)
    shuffled = table.drop(columns=["label", "id"]).assign(extra="x").iloc[:, ::-1]
    again, err = predict(capsys, out, shuffled, tmp_path)  # other order, extra, no id/target
    pd.testing.assert_frame_equal(again, reference)
    assert "not seen in training" not in err  # '01' stays the category '01'


def test_predict_fills_in_gaps_and_counts_unseen_categories(tmp_path, capsys):
    out, _ = train(tmp_path, capsys=capsys)
    rows = pd.DataFrame({"member": ["true", "?", "false"], "postcode": ["01", "99", "NA"],
                         "age": ["N/A", "null", ""], "notes": ["", "", "gold"]})  # fmt: skip
    result, err = predict(capsys, out, rows, tmp_path)
    assert len(result) == 3 and np.isfinite(result.filter(like="probability").to_numpy()).all()
    assert "column 'age': 3 missing value(s) filled in with the training median" in err
    assert "column 'postcode': 2 of 3 row(s) hold value(s) not seen in training: " in err
    assert "'(missing)' (1), '99' (1)" in err
    assert "column 'notes'" in err and "'gold' (1)" in err


def test_the_terminal_and_the_report_show_missing_counts_kinds_and_classes(tmp_path, capsys):
    out, printed = train(tmp_path, capsys=capsys)
    assert "Columns: 1 boolean, 2 categorical, 1 numeric" in printed
    assert "'age' 12 (median + missing indicator)" in printed
    assert "'notes' " in printed and "mostly empty" in printed and "--drop notes" in printed
    assert "Classes of 'label': leaves" in printed
    report = (out / "report.html").read_text()
    assert '<section id="data"><h2>Data</h2>' in report
    assert '<td>age</td><td>numeric</td><td class="num">12</td>' in report
    assert "Classes of label" in report


def test_keep_uses_an_identifier_column(tmp_path, capsys):
    out, printed = train(tmp_path, "--keep", "id", capsys=capsys)
    prep = json.loads((out / "config.json").read_text())["metadata"]["preprocessing"]
    assert "id" in prep["columns"] and "Left out" not in printed


def test_dropna_drops_rows_with_any_gap(tmp_path, capsys):
    data = members(tmp_path / "members.csv")
    main(["train", "--data", str(data), "--target", "label", "--epochs", "1", "--drop", "notes",
          "--dropna", "--out", str(tmp_path / "run"), *QUICK])  # fmt: skip
    assert "left out 12 of 200 rows" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("a,b,a,y\n1,2,3,x\n", "duplicate column names: 'a' (columns 1, 3)"),
        ("x,y\n" + "".join(f"{'seven' if i == 7 else i % 9},{'ab'[i % 2]}\n" for i in range(40)),
         "'x' holds numbers but also 1 word(s): 'seven' at row 7 (line 9 of t.csv)"),
    ],
)  # fmt: skip
def test_bad_tables_give_one_line_and_exit_2(tmp_path, capsys, content, fragment):
    (tmp_path / "t.csv").write_text(content)
    code = main(["train", "--data", str(tmp_path / "t.csv"), "--target", "y", *QUICK])
    err = capsys.readouterr().err
    assert code == 2 and fragment in err and "Traceback" not in err
    assert err.startswith("retroprop: error: ") and len(err.strip().splitlines()) <= 2


def test_a_model_folder_saved_before_schemas_still_predicts(tmp_path, capsys):
    out, _ = train(tmp_path, "--drop", "notes,postcode,member", capsys=capsys)
    config = json.loads((out / "config.json").read_text())
    metadata = config["metadata"]
    prep = metadata["preprocessing"]
    metadata["preprocessing"] = {k: prep[k] for k in ("columns", "numeric", "categorical")}
    metadata["feature_names"] = ["age"]
    old = tmp_path / "old"
    model = rp.load(out)
    model[0].weight.data = model[0].weight.data[:1]  # an older model: no missing indicator
    model[0].in_features = 1
    rp.save(model, old, metadata=metadata)
    result, _ = predict(capsys, old, pd.DataFrame({"age": ["30", " 50.5"]}), tmp_path)
    assert len(result) == 2
    pd.DataFrame({"age": ["30", ""]}).to_csv(tmp_path / "gap.csv", index=False)
    assert main(["predict", "--model", str(old), "--data", str(tmp_path / "gap.csv")]) == 2
    err = capsys.readouterr().err
    assert "did not fill them in" in err and len(err.strip().splitlines()) <= 2


def test_a_yes_no_target_keeps_its_class_names(tmp_path, capsys):
    # A Yes/No feature is a boolean; a Yes/No target stays the classes 'No' and 'Yes'.
    rng = np.random.default_rng(0)
    student = rng.choice(["Yes", "No"], 60)
    frame = pd.DataFrame({"student": student, "x": rng.normal(size=60),
                          "default": np.where(student == "Yes", "Yes", "No")})  # fmt: skip
    frame.to_csv(tmp_path / "d.csv", index=False)
    out = tmp_path / "run"
    assert main(["train", "--data", str(tmp_path / "d.csv"), "--target", "default",
                 "--epochs", "1", "--out", str(out), *QUICK]) == 0  # fmt: skip
    metadata = json.loads((out / "config.json").read_text())["metadata"]
    assert metadata["target"]["classes"] == ["No", "Yes"]
    assert metadata["preprocessing"]["categorical"] == {"student": ["False", "True"]}


def test_values_beyond_the_training_range_are_clipped_and_counted(tmp_path, capsys):
    """A typo (age 700) gets the prediction of the oldest member seen, not an extrapolation."""
    out, _ = train(tmp_path, capsys=capsys)
    prep = json.loads((out / "config.json").read_text())["metadata"]["preprocessing"]
    low, high = prep["ranges"]["age"]
    assert 20 <= low < high <= 70
    rows = pd.DataFrame({"member": ["true"] * 3, "postcode": ["01"] * 3,
                         "age": [str(high), "700", "-5"], "notes": [""] * 3})  # fmt: skip
    result, err = predict(capsys, out, rows, tmp_path)
    probabilities = result.filter(like="probability").to_numpy()
    np.testing.assert_array_equal(probabilities[1], probabilities[0])
    assert f"column 'age': 2 of 3 row(s) hold values outside the training range [{low:g}, " in err
    assert "clipped to it" in err
