"""Bad input to the `retroprop` command: one or two plain lines on stderr, exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from retroprop.cli import main

ROOT = Path(__file__).resolve().parents[1]


def check_error(capsys, argv: list[str], *fragments: str) -> str:
    """Run ``main(argv)`` in process: code 2, 1-2 lines on stderr starting 'retroprop: error: '."""
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert 1 <= len(lines) <= 2, err
    assert lines[0].startswith("retroprop: error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err
    return err


@pytest.fixture
def table(tmp_path) -> Path:
    path = tmp_path / "people.csv"
    pd.DataFrame(
        {
            "age": [30, 40, 50, 60, 35, 45, 55, 65, 33, 44],
            "city": ["a", "b", "a", "b", "a", "b", "a", "b", "a", "b"],
            "label": ["x", "y", "x", "y", "x", "y", "x", "y", "x", "y"],
        }
    ).to_csv(path, index=False)
    return path


def test_missing_file(capsys, tmp_path):
    check_error(capsys, ["train", "--data", str(tmp_path / "nope.csv"), "--target", "y"],
                "no such file", "nope.csv")  # fmt: skip


def test_unknown_column_lists_the_columns(capsys, table):
    check_error(capsys, ["train", "--data", str(table), "--target", "salary"],
                "'salary'", "'age', 'city', 'label'")  # fmt: skip


def test_unknown_dataset_lists_the_names(capsys):
    check_error(capsys, ["train", "--dataset", "mnist"], "'mnist'", "circles", "breast-cancer")


def test_nan_in_features_is_filled_in_and_counted(capsys, table, tmp_path):
    # Missing feature values no longer stop the run (issue 11): they are imputed, and the
    # terminal names the column and its count.
    frame = pd.read_csv(table)
    frame.loc[[2, 7], "age"] = float("nan")
    frame.to_csv(tmp_path / "holes.csv", index=False)
    code = main(["train", "--data", str(tmp_path / "holes.csv"), "--target", "label",
                 "--epochs", "1", "--quiet", "--test-size", "0", "--validation-size", "0",
                 "--no-diagnostics", "--out", str(tmp_path / "run")])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "Missing values (of 10 rows): 'age' 2 (median + missing indicator)" in out


def test_rows_without_a_target_are_left_out_and_named(capsys, table, tmp_path):
    frame = pd.read_csv(table)
    frame.loc[4, "label"] = None
    frame.to_csv(tmp_path / "holes.csv", index=False)
    code = main(["train", "--data", str(tmp_path / "holes.csv"), "--target", "label",
                 "--epochs", "1", "--quiet", "--test-size", "0", "--validation-size", "0",
                 "--no-diagnostics", "--out", str(tmp_path / "run")])  # fmt: skip
    assert code == 0
    err = capsys.readouterr().err
    assert "left out 1 of 10 rows" in err and "row 4" in err and "'label' (the target)" in err


def test_a_target_with_almost_no_values_is_refused(capsys, table, tmp_path):
    frame = pd.read_csv(table)
    frame.loc[1:, "label"] = None
    frame.to_csv(tmp_path / "holes.csv", index=False)
    check_error(capsys, ["train", "--data", str(tmp_path / "holes.csv"), "--target", "label"],
                "only 1 rows are left", "target")  # fmt: skip


def test_dropna_drops_the_rows_instead(capsys, tmp_path):
    frame = pd.DataFrame({"x": [float(i) for i in range(40)], "y": ["a", "b"] * 20})
    frame.loc[[3, 8], "x"] = float("nan")
    frame.to_csv(tmp_path / "holes.csv", index=False)
    code = main(["train", "--data", str(tmp_path / "holes.csv"), "--target", "y", "--dropna",
                 "--epochs", "2", "--quiet", "--seed", "0", "--no-diagnostics",
                 "--out", str(tmp_path / "run")])  # fmt: skip
    assert code == 0
    assert "left out 2 of 40 rows" in capsys.readouterr().err


def test_target_with_one_class(capsys, table, tmp_path):
    frame = pd.read_csv(table).assign(label="x")
    frame.to_csv(tmp_path / "one.csv", index=False)
    check_error(capsys, ["train", "--data", str(tmp_path / "one.csv"), "--target", "label"],
                "single class", "'x'")  # fmt: skip


@pytest.mark.parametrize("rate", ["0", "-0.1"])
def test_non_positive_learning_rate(capsys, rate):
    check_error(capsys, ["train", "--dataset", "xor", "--lr", rate], "--lr", "positive")


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--epochs", "0"], "--epochs"),
        (["--test-size", "1.5"], "--test-size"),
        (["--layers", "4,x"], "--layers"),
        (["--batch-size", "0"], "--batch-size"),
        (["--activation", "relux"], "unknown activation"),
        (["--init", "magic"], "unknown init"),
        (["--optimizer", "sgdd"], "invalid choice"),
        (["--lr", "fast"], "invalid float"),
        (["--task", "binary", "--dataset", "iris"], "2 classes"),
    ],
)
def test_invalid_options(capsys, argv, fragment):
    dataset = [] if "--dataset" in argv else ["--dataset", "xor"]
    check_error(capsys, ["train", *dataset, *argv], fragment)


def test_model_directory_missing(capsys, tmp_path):
    check_error(capsys, ["info", str(tmp_path / "none")], "does not exist")
    check_error(capsys, ["predict", "--model", str(tmp_path / "none"), "--data", "x.csv"],
                "does not exist")  # fmt: skip


def test_model_directory_not_written_by_retroprop(capsys, tmp_path):
    (tmp_path / "config.json").write_text('{"name": "something else"}')
    check_error(capsys, ["info", str(tmp_path)], "not written by retroprop")
    (tmp_path / "config.json").write_text("not json at all")
    check_error(capsys, ["predict", "--model", str(tmp_path), "--data", "x.csv"], "corrupt")


def test_predict_data_without_a_needed_column(capsys, table, tmp_path):
    main(["train", "--data", str(table), "--target", "label", "--epochs", "1", "--quiet",
          "--test-size", "0", "--validation-size", "0", "--no-diagnostics",
          "--out", str(tmp_path / "run")])  # fmt: skip
    pd.DataFrame({"age": [1]}).to_csv(tmp_path / "new.csv", index=False)
    capsys.readouterr()
    check_error(capsys, ["predict", "--model", str(tmp_path / "run"), "--data",
                         str(tmp_path / "new.csv")], "'city'")  # fmt: skip


def test_errors_through_the_real_entry_point():
    """The same contract when run as a program: no traceback, exit code 2."""
    for argv in (["train", "--dataset", "nope"], ["train", "--dataset", "xor", "--lr", "-1"],
                 ["info", "/nonexistent/model"]):  # fmt: skip
        result = subprocess.run([sys.executable, "-m", "retroprop", *argv], capture_output=True,
                                text=True, timeout=60, cwd=ROOT)  # fmt: skip
        assert result.returncode == 2
        assert result.stderr.startswith("retroprop: error: ")
        assert len(result.stderr.strip().splitlines()) <= 2 and "Traceback" not in result.stderr
