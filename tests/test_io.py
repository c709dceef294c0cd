"""rp.save / rp.load: JSON + safetensors, atomic, no pickle, clear errors on bad files."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import retroprop as rp
from retroprop import nn
from retroprop._io_publish import write_manifest
from retroprop.io import ModelFileError


def build():
    rp.manual_seed(0)
    return nn.Sequential(
        nn.Linear(4, 8),
        nn.BatchNorm1d(8),
        nn.ReLU(),
        nn.Dropout(0.3),
        nn.Residual(nn.Sequential(nn.Linear(8, 8), nn.Tanh())),
        nn.Linear(8, 3),
        nn.Softmax(),
    )


def test_round_trip_predicts_identically(tmp_path):
    model = build()
    X = np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)
    model.train()
    model(rp.tensor(X))  # update BatchNorm running statistics
    model.eval()
    expected = model(rp.tensor(X)).numpy()
    rp.save(model, tmp_path / "m")
    again = rp.load(tmp_path / "m")
    assert not again.training
    assert np.array_equal(again(rp.tensor(X)).numpy(), expected)
    assert sorted(os.listdir(tmp_path / "m")) == [
        "config.json",
        "manifest.json",
        "model.safetensors",
    ]


def test_files_are_json_and_safetensors_not_pickle(tmp_path):
    rp.save(build(), tmp_path / "m", metadata={"classes": ["a", "b", "c"]})
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["format"] == "retroprop-model"
    assert config["architecture"]["type"] == "Sequential"
    assert config["metadata"] == {"classes": ["a", "b", "c"]}
    raw = (tmp_path / "m" / "model.safetensors").read_bytes()
    header_length = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + header_length])
    assert "0.weight" in header
    assert b"pickle" not in raw and not raw.startswith(b"\x80")


def test_float64_model_round_trips_its_dtype(tmp_path):
    rp.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3, dtype=np.float64), nn.Tanh())
    rp.save(model, tmp_path / "m")
    again = rp.load(tmp_path / "m")
    assert all(p.dtype == np.float64 for p in again.parameters())


def test_tampered_weights_are_refused(tmp_path):
    rp.save(build(), tmp_path / "m")
    path = tmp_path / "m" / "model.safetensors"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="checksum"):
        rp.load(tmp_path / "m")


def test_corrupt_config_is_refused(tmp_path):
    rp.save(build(), tmp_path / "m")
    (tmp_path / "m" / "config.json").write_text("{not json")
    write_manifest(tmp_path / "m")  # as a forger would: the manifest alone does not decide
    with pytest.raises(ModelFileError, match="not valid JSON"):
        rp.load(tmp_path / "m")


def test_unknown_module_type_is_refused_not_imported(tmp_path):
    rp.save(build(), tmp_path / "m")
    path = tmp_path / "m" / "config.json"
    config = json.loads(path.read_text())
    config["architecture"]["modules"][0]["type"] = "os.system"
    path.write_text(json.dumps(config))
    write_manifest(tmp_path / "m")  # as a forger would: the manifest alone does not decide
    with pytest.raises(ModelFileError, match=r"os\.system"):
        rp.load(tmp_path / "m")


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda p: None, "does not exist"),
        (lambda p: p.mkdir(), "no config.json"),
        (
            lambda p: (p.mkdir(), (p / "config.json").write_text('{"format": "keras"}')),
            "not written by retroprop",
        ),
    ],
)
def test_missing_or_foreign_directories(tmp_path, setup, message):
    target = tmp_path / "m"
    setup(target)
    with pytest.raises(ModelFileError, match=message):
        rp.load(target)


def test_a_failed_save_leaves_the_previous_model_intact(tmp_path, monkeypatch):
    model = build()
    rp.save(model, tmp_path / "m")
    before = {n: (tmp_path / "m" / n).read_bytes() for n in os.listdir(tmp_path / "m")}

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        rp.save(build(), tmp_path / "m")
    monkeypatch.undo()
    after = {n: (tmp_path / "m" / n).read_bytes() for n in os.listdir(tmp_path / "m")}
    assert after == before  # no temporary file left behind, old files untouched
    rp.load(tmp_path / "m")


def test_user_defined_modules_cannot_be_saved(tmp_path):
    class Mine(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(TypeError, match="Mine"):
        rp.save(nn.Sequential(nn.Linear(2, 2), Mine()), tmp_path / "m")
