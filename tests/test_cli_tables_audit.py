"""Issue 11's audit on real tables: identifier-like columns of the raw penguins table, the gzip
check in both commands, and a report written without matplotlib (its speed: no 0.3 s import
and no rasterising on the main job's path)."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retroprop.cli import main
from retroprop.cli.schema import Schema, infer_kind

PENGUINS = Path(__file__).parent / "data" / "penguins_raw.csv"
FAST = ["--epochs", "2", "--seed", "0", "--quiet", "--no-diagnostics"]


def kind_and_reason(values, name="c"):
    column = infer_kind(pd.Series([str(v) for v in values], name=name, dtype=object))
    return column.kind, column.reason


def test_the_raw_penguins_table_leaves_out_its_two_identifier_columns():
    # 'Sample Number' counts 1..152, 1..124, 1..68 (a row number per species: the target
    # leaks through it); 'Individual ID' (N1A1, ...) names a bird seen in up to 3 years
    table = pd.read_csv(PENGUINS, dtype=str, keep_default_na=False).drop(columns="Species")
    schema = Schema.infer(table)
    assert [c.name for c in schema.columns if c.kind == "identifier"] == [
        "Sample Number",
        "Individual ID",
    ]
    reasons = {c.name: c.reason for c in schema.columns}
    assert "a row number within groups" in reasons["Sample Number"]
    assert reasons["Individual ID"] == "named as one: 190 distinct values in 344 rows (1.8 each)"
    kept = Schema.infer(table, keep=["Sample Number", "Individual ID"])
    assert kept.kind("Sample Number") == "numeric" and kept.kind("Individual ID") == "categorical"


def test_a_row_number_within_groups_is_an_identifier():
    counter = [*range(1, 51), *range(1, 41), *range(1, 31)]
    kind, reason = kind_and_reason(counter, "Sample Number")
    assert kind == "identifier" and "starting again 2 time(s)" in reason
    codes = [f"N{i // 2}A{i % 2 + 1}" for i in range(60)] * 2  # each bird twice
    assert kind_and_reason(codes, "Individual ID")[0] == "identifier"
    assert kind_and_reason(codes, "bird")[0] == "categorical"  # not named as an identifier


@pytest.mark.parametrize(
    ("name", "values", "kind"),
    [
        ("month", [m for _ in range(20) for m in range(1, 13)], "numeric"),  # counts, 12 values
        ("hour", [h for _ in range(10) for h in range(24)], "numeric"),
        ("body mass", np.random.default_rng(0).integers(2700, 6300, 300), "numeric"),
        ("rooms", sorted(np.random.default_rng(1).integers(1, 60, 200)), "numeric"),  # sorted
        ("store_id", [f"S{i % 5}" for i in range(200)], "categorical"),  # 5 stores: a feature
        ("day", [f"2009-11-{d:02d}" for d in range(1, 29)] * 3, "categorical"),
    ],
)
def test_columns_that_count_or_repeat_but_are_features_stay_features(name, values, kind):
    assert kind_and_reason(values, name)[0] == kind


@pytest.fixture
def small_csv(tmp_path) -> Path:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60)})
    frame["y"] = np.where(frame["a"] > 0, "yes", "no")
    frame.to_csv(tmp_path / "t.csv", index=False)
    return tmp_path / "t.csv"


def test_predict_refuses_a_gzip_file_named_csv_as_train_does(tmp_path, capsys, small_csv):
    packed = tmp_path / "packed.csv"
    packed.write_bytes(gzip.compress(small_csv.read_bytes()))
    out = tmp_path / "run"
    assert main(["train", "--data", str(packed), "--target", "y", "--out", str(out), *FAST]) == 2
    train_error = capsys.readouterr().err
    assert main(["train", "--data", str(small_csv), "--target", "y", "--out", str(out),
                 *FAST]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["predict", "--model", str(out), "--data", str(packed)]) == 2
    predict_error = capsys.readouterr().err
    for err in (train_error, predict_error):
        assert err.startswith(f"retroprop: error: --data {packed} is gzip-compressed, not a plain")
        assert "gunzip -c" in err and len(err.strip().splitlines()) <= 2
    named = tmp_path / "packed.csv.gz"  # a name that says so: read as gzip by both
    named.write_bytes(packed.read_bytes())
    assert main(["predict", "--model", str(out), "--data", str(named)]) == 0


def test_the_report_of_a_table_run_is_written_without_matplotlib(tmp_path):
    """The main job's report draws its charts as SVG: matplotlib is not even importable here."""
    out = tmp_path / "run"
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"  # any import of it fails
        "from retroprop.cli import main\n"
        f"sys.exit(main(['train', '--data', {str(PENGUINS)!r}, '--target', 'Species',"
        f" '--epochs', '3', '--seed', '0', '--quiet', '--out', {str(out)!r}]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-800:]
    page = (out / "report.html").read_text()
    assert 'aria-label="confusion matrix"' in page and 'id="gradient-flow"' in page
    assert page.count("<svg ") >= 4 and "data:image/png" not in page


def test_the_readme_says_how_to_install_and_what_each_extra_adds():
    import tomllib

    root = Path(__file__).parent.parent
    extras = tomllib.loads((root / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    readme = (root / "README.md").read_text()
    assert 'pip install "retroprop[cli]"' in readme
    described = readme[readme.index("What each extra adds") :].split("\n\n")[0]
    missing = [name for name in extras if name != "test" and f"`{name}` (" not in described]
    assert missing == [], f"extras not described in the README: {missing}"


def test_the_flags_to_try_quote_a_column_name_with_spaces(capsys, tmp_path):
    # "--keep Sample Number" pasted into a shell keeps a column 'Sample' and reads 'Number'
    out = tmp_path / "run"
    assert main(["train", "--data", str(PENGUINS), "--target", "Species", "--out", str(out),
                 "--epochs", "1", "--seed", "0", "--no-diagnostics"]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "--keep 'Sample Number' to use it" in printed
    assert "--keep 'Individual ID' to use it" in printed
    assert "--drop Comments" in printed  # no quotes where none are needed
