"""Opening a run folder from the command line: edited or cut folders are one line, exit 2."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from retroprop._io_publish import write_manifest
from retroprop.cli import main

FAST = ["--epochs", "2", "--seed", "0", "--quiet", "--no-diagnostics"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    assert main(["train", "--dataset", "iris", "--out", str(out), *FAST]) == 0
    return out


def one_error_line(capsys, argv, *fragments):
    code = main(argv)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2 and 1 <= len(lines) <= 2 and "Traceback" not in err, err
    assert lines[0].startswith("retroprop: error: "), err
    for fragment in fragments:
        assert fragment in err, err


def edited(run, tmp_path, change, reseal=True):
    folder = shutil.copytree(run, tmp_path / "edited")
    config = json.loads((folder / "config.json").read_text())
    change(config["metadata"])
    (folder / "config.json").write_text(json.dumps(config))
    if reseal:
        write_manifest(folder)
    return folder


def test_swapped_class_names_are_refused(run, tmp_path, capsys):
    folder = edited(run, tmp_path, lambda m: m["target"]["classes"].reverse(), reseal=False)
    one_error_line(capsys, ["info", str(folder)], "config.json", "changed")
    one_error_line(capsys, ["predict", "--model", str(folder), "--data", "x.csv"], "changed")


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda m: m["target"]["classes"].pop(), "stores 2 classes (multiclass)"),
        (lambda m: m["target"].update(task="binary"), "network has 3 outputs"),
        (lambda m: m["target"].update(task="ranking"), "unreadable target"),
        (lambda m: m["preprocessing"]["columns"].pop(), "config.json"),
    ],
)
def test_a_cut_or_edited_target_is_one_line(run, tmp_path, capsys, change, fragment):
    folder = edited(run, tmp_path, change)
    one_error_line(capsys, ["info", str(folder)], fragment)


def test_a_folder_saved_without_a_manifest_still_opens_with_a_warning(run, tmp_path, capsys):
    folder = shutil.copytree(run, tmp_path / "old")
    os.remove(folder / "manifest.json")
    assert main(["info", str(folder)]) == 0
    err = capsys.readouterr().err
    assert err.startswith("retroprop: warning: ") and "has no manifest.json" in err


def test_predict_refuses_a_model_saved_without_preprocessing(tmp_path, capsys):
    import retroprop as rp

    plain = tmp_path / "plain"
    rp.save(rp.nn.mlp([2, 3, 1]), plain)
    rows = tmp_path / "rows.csv"
    rows.write_text("a,b\n1,2\n")
    capsys.readouterr()
    assert main(["predict", "--model", str(plain), "--data", str(rows)]) == 2
    err = capsys.readouterr().err
    assert f"{plain} holds a model but no preprocessing" in err
    assert "rp.load" in err
