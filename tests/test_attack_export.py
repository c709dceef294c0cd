"""Attacks on `retroprop export` and `retroprop.onnx`: edited model folders, odd column names,
outputs that are not plain files, numbers whose digits float32 would lose. The CLI rule: one
line (two with a hint) and exit code 2, never a traceback, never a half-written file."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retroprop.cli import main

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

QUICK = ["--quiet", "--seed", "0", "--no-diagnostics", "--epochs", "3"]


def penguins_like(n: int = 120, seed: int = 0) -> pd.DataFrame:
    """A year column (mean ~2008, scale < 1), a measure with gaps, an island, a sex label."""
    rng = np.random.default_rng(seed)
    year = rng.choice([2007, 2008, 2009], n, p=[0.3, 0.37, 0.33])
    mass = rng.normal(4200, 800, n).round(0)
    island = rng.choice(["Biscoe", "Dream", "Torgersen"], n)
    sex = np.where(mass + rng.normal(0, 300, n) > 4200, "male", "female")
    mass_text = mass.astype(str).astype(object)
    mass_text[:5] = "NA"
    return pd.DataFrame({"year": year.astype(str), "mass": mass_text, "island": island,
                         "sex": sex})  # fmt: skip


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("export-attack")
    data = folder / "train.csv"
    penguins_like().to_csv(data, index=False)
    out = folder / "run"
    assert main(["train", "--data", str(data), "--target", "sex", "--out", str(out), *QUICK]) == 0
    return out


def edited(run: Path, tmp_path: Path, edit) -> Path:
    """A copy of ``run`` whose config.json went through ``edit``, its manifest rehashed (an
    edit made on purpose, that the manifest alone does not catch)."""
    copy = tmp_path / "edited"
    shutil.copytree(run, copy)
    config = json.loads((copy / "config.json").read_text())
    edit(config)
    data = json.dumps(config).encode()
    (copy / "config.json").write_bytes(data)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["files"]["config.json"] = {
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    (copy / "manifest.json").write_text(json.dumps(manifest))
    return copy


def prep(config: dict) -> dict:
    return config["metadata"]["preprocessing"]


def kind(column: str, new: str):
    def edit(config: dict) -> None:
        for entry in prep(config)["schema"]["columns"]:
            if entry["name"] == column:
                entry["kind"] = new

    return edit


def options(value) -> callable:
    return lambda config: config["metadata"].update(options=value)


EDITS = {
    "scale zero": lambda c: prep(c)["numeric"].update(year=[2008.0, 0.0]),
    "scale negative": lambda c: prep(c)["numeric"].update(year=[2008.0, -1.0]),
    "mean huge": lambda c: prep(c)["numeric"].update(year=[1e300, 1e-300]),
    "median inf": lambda c: prep(c)["medians"].update(year=1e999),
    "range inverted": lambda c: prep(c)["ranges"].update(year=[2009.0, 2007.0]),
    "range of three": lambda c: prep(c)["ranges"].update(year=[2007.0, 2008.0, 2009.0]),
    "categories repeated": lambda c: prep(c)["categorical"].update(island=["Dream"] * 3),
    "categories a string": lambda c: prep(c)["categorical"].update(island="abc"),
    "numeric kind for a category": kind("island", "numeric"),
    "boolean kind for a number": kind("year", "boolean"),
    "columns repeated": lambda c: prep(c).update(columns=["year", "year", "mass", "island"]),
    "threshold a word": options({"threshold": "abc"}),
    "threshold above 1": options({"threshold": 2.0}),
    "options a list": options([1]),
    "classes repeated": lambda c: c["metadata"]["target"].update(classes=["male", "male"]),
}


@pytest.mark.parametrize("edit", list(EDITS), ids=list(EDITS))
@pytest.mark.parametrize("command", ["export", "predict"])
def test_an_edited_model_folder_is_one_line_and_exit_2(command, edit, run, tmp_path, capsys):
    folder = edited(run, tmp_path, EDITS[edit])
    output = tmp_path / "out.file"
    rows = tmp_path / "rows.csv"
    penguins_like(20, seed=1).to_csv(rows, index=False)
    data = ["--data", str(rows)] if command == "predict" else []
    capsys.readouterr()
    argv = [command, "--model", str(folder), *data, "--output", str(output)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("retroprop: error: ") and len(err.splitlines()) <= 2, err
    assert "config.json" in err
    assert not output.exists()


def test_a_column_named_like_the_networks_values_exports(tmp_path):
    # `network/x` made the graph builder look for a free name forever (a hang, not an error)
    frame = penguins_like().rename(columns={"mass": "network/x", "island": "label"})
    frame["probabilities"] = np.where(np.arange(len(frame)) % 2, "yes", "NO")
    frame['a "quoted"/ünïcode λ'] = frame["year"]
    data, out, model_file = tmp_path / "t.csv", tmp_path / "run", tmp_path / "m.onnx"
    frame.to_csv(data, index=False)
    assert main(["train", "--data", str(data), "--target", "sex", "--out", str(out), *QUICK]) == 0
    assert main(["export", "--model", str(out), "--output", str(model_file)]) == 0
    session = ort.InferenceSession(str(model_file), providers=["CPUExecutionProvider"])
    names = {i.name for i in session.get_inputs()}
    assert {"network/x_input", "label_input", "probabilities_input"} <= names
    assert 'a "quoted"/ünïcode λ' in names


def test_a_year_column_keeps_its_digits_in_the_graph():
    # Scaler's offset is a float32 attribute: 2008.03 - 2008 lost digits, 1e-4 on the feature
    from retroprop import nn
    from retroprop.cli.tabular import Preprocessing
    from retroprop.cli.target import Target
    from retroprop.onnx._tables import table_model

    rows = pd.DataFrame({"year": ["2007"] * 30 + ["2008"] * 40 + ["2009"] * 27})
    preprocessing = Preprocessing.fit(rows)
    mean, scale = preprocessing.numeric["year"]
    assert abs(float(np.float32(mean)) - mean) / scale > 1e-7  # float32 would lose digits here
    model = nn.Linear(1, 1, dtype=np.float64)
    model.weight.data[:] = 1000.0
    model.bias.data[:] = 0.0
    proto = table_model(model, preprocessing, Target("y", "regression"))
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    years = np.array([[2007.0], [2008.0], [2009.0]], np.float32)
    (value,) = session.run(None, {"year": years})
    expected = 1000.0 * (years.astype(np.float64) - mean) / scale
    np.testing.assert_allclose(value, expected, rtol=1e-6, atol=1e-4)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
@pytest.mark.parametrize("command", ["export", "predict"])
def test_an_output_that_is_not_a_plain_file_is_refused(command, run, tmp_path, capsys):
    # as root, the atomic rename replaced a device (`--output /dev/full`) with a plain file
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    rows = tmp_path / "rows.csv"
    penguins_like(20, seed=1).to_csv(rows, index=False)
    data = ["--data", str(rows)] if command == "predict" else []
    capsys.readouterr()
    assert main([command, "--model", str(run), *data, "--output", str(fifo)]) == 2
    err = capsys.readouterr().err
    assert "not a regular file" in err and len(err.splitlines()) <= 2
    assert fifo.exists() and not fifo.is_file()


def test_export_into_the_model_folder_is_refused(run, tmp_path, capsys):
    folder = tmp_path / "copy"
    shutil.copytree(run, folder)
    before = (folder / "config.json").read_bytes()
    capsys.readouterr()
    assert main(["export", "--model", str(folder), "--output", str(folder / "config.json")]) == 2
    assert "model folder" in capsys.readouterr().err
    assert (folder / "config.json").read_bytes() == before


def test_library_export_on_a_full_disk_keeps_the_previous_file(tmp_path, monkeypatch):
    # onnx.save wrote the file in place: a kill or a full disk left half of it
    import errno

    from retroprop import nn
    from retroprop.io import SaveError
    from retroprop.onnx import export

    target = tmp_path / "model.onnx"
    target.write_bytes(b"previous")

    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(SaveError, match="(?i)no space"):
        export(nn.Sequential(nn.Linear(2, 3), nn.ReLU()), target)
    monkeypatch.undo()
    assert target.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]
    export(nn.Sequential(nn.Linear(2, 3), nn.ReLU()), target)
    assert onnx.load(str(target)).graph.node


def test_train_piped_into_a_closed_reader_still_saves_its_run(tmp_path):
    # `retroprop train ... | head` stopped at the first line after head exited, with exit
    # code 0 and no run saved
    import subprocess
    import sys

    out = tmp_path / "run"
    argv = [sys.executable, "-m", "retroprop", "train", "--dataset", "xor", "--epochs", "3",
            "--seed", "0", "--no-diagnostics", "--out", str(out)]  # fmt: skip
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child.stdout.close()  # the reader is gone before the first line
    child.stderr.close()
    assert child.wait(timeout=120) == 0
    assert (out / "model.safetensors").is_file() and (out / "manifest.json").is_file()


def test_an_empty_column_name_becomes_an_input_named_input(run, tmp_path, capsys):
    # a Parquet column may be named "": ONNX refused the graph (an input needs a name)
    def rename(config: dict) -> None:
        stored = prep(config)
        stored["columns"] = ["" if c == "island" else c for c in stored["columns"]]
        stored["categorical"][""] = stored["categorical"].pop("island")
        for entry in stored["schema"]["columns"]:
            if entry["name"] == "island":
                entry["name"] = ""

    folder, model_file = edited(run, tmp_path, rename), tmp_path / "m.onnx"
    assert main(["export", "--model", str(folder), "--output", str(model_file)]) == 0
    session = ort.InferenceSession(str(model_file), providers=["CPUExecutionProvider"])
    assert "_input" in {i.name for i in session.get_inputs()}


@pytest.mark.parametrize(
    ("input_name", "output_name"),
    [("x", "x"), ("", "y"), ("x", ""), ("MatMul_1", "output"), ("input", "weight_0")],
)
def test_library_export_names_a_bad_input_or_output_name(input_name, output_name):
    # these gave onnx's ValidationError ("single static assignment") instead of an ExportError
    from retroprop import nn
    from retroprop.onnx import ExportError, export

    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    with pytest.raises(ExportError, match="name"):
        export(model, input_name=input_name, output_name=output_name)


def test_a_binary_model_that_is_not_a_sequential_is_named_not_a_type_error():
    # the message itself indexed the model (model[-1]): a TypeError on a bare Linear
    from retroprop import nn
    from retroprop.cli.tabular import Preprocessing
    from retroprop.cli.target import Target
    from retroprop.onnx._tables import table_model

    preprocessing = Preprocessing.fit(pd.DataFrame({"x": ["1", "2", "3"]}))
    with pytest.raises(ValueError, match="ends in a Sigmoid; this one is Linear ending in Linear"):
        table_model(nn.Linear(1, 1), preprocessing, Target("y", "binary", ["a", "b"]))
