"""Untrusted model folders: every malformed file is a ModelFileError naming it, before allocating.

Each case edits a freshly saved folder the way an attacker or a damaged disk would, then (as a
forger would) rewrites the manifest so that the deeper checks are the ones under test; the
manifest's own checks are tested separately.
"""

from __future__ import annotations

import json
import os
import time
import tracemalloc
import warnings

import numpy as np
import pytest

import retroprop as rp
from retroprop import nn
from retroprop._io_publish import write_manifest
from retroprop.io import DEFAULT_MAX_BYTES, ModelFileError, load_with_config, read_config


def build():
    rp.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))


@pytest.fixture
def folder(tmp_path):
    return rp.save(build(), tmp_path / "m")


def edit_config(folder, change):
    path = folder / "config.json"
    config = json.loads(path.read_text())
    change(config)
    path.write_text(json.dumps(config))
    write_manifest(folder)


def set_header(folder, change):
    """Rewrite the safetensors header through ``change(header)``, keeping the data bytes."""
    path = folder / "model.safetensors"
    raw = path.read_bytes()
    length = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + length])
    change(header)
    text = json.dumps(header).encode()
    path.write_bytes(len(text).to_bytes(8, "little") + text + raw[8 + length :])
    write_manifest(folder)


def linear0(config):
    return config["architecture"]["modules"][0]


def nested_sequentials(depth):
    node = {"type": "Sequential", "modules": []}
    for _ in range(depth):
        node = {"type": "Sequential", "modules": [node]}
    return node


CONFIG_CASES = {
    "a 60,000-wide layer": (
        lambda c: linear0(c).update(out_features=60_000),
        r"declares 0\.weight of shape \(3, 60000\)",
    ),
    "weights_file outside the folder": (
        lambda c: c.update(weights_file="../big.bin"),
        r"weights_file is '\.\./big\.bin'",
    ),
    "weights_file absolute": (
        lambda c: c.update(weights_file="/etc/passwd"),
        r"weights_file is '/etc/passwd'",
    ),
    "string format_version": (
        lambda c: c.update(format_version="1"),
        "format_version must be a positive integer, got '1'",
    ),
    "a newer format_version": (lambda c: c.update(format_version=99), "upgrade retroprop"),
    "missing architecture": (lambda c: c.pop("architecture"), "incomplete: no architecture"),
    "missing tensors": (lambda c: c.pop("tensors"), "incomplete: no tensors"),
    "metadata not an object": (lambda c: c.update(metadata=[1]), "metadata must be"),
    "a width stored as a float": (
        lambda c: linear0(c).update(in_features=3.0),
        r"architecture\.modules\[0\]\.in_features must be a positive integer, got 3\.0",
    ),
    "a negative width": (
        lambda c: linear0(c).update(in_features=-3),
        "in_features must be a positive integer",
    ),
    "an unknown module type": (
        lambda c: linear0(c).update(type="builtins.eval"),
        r"builtins\.eval",
    ),
    "400 nested Sequentials": (
        lambda c: c.update(architecture=nested_sequentials(400)),
        "nested .* deep",
    ),
    "a tensor table that lies": (
        lambda c: c["tensors"]["0.weight"].update(shape=[3, 5]),
        "tensor '0.weight'",
    ),
    "a tensor missing from the table": (
        lambda c: c["tensors"].pop("0.bias"),
        "lists tensors that the weights file does not hold",
    ),
    "an unknown argument": (lambda c: linear0(c).update(colour="red"), "invalid architecture"),
    "an architecture that is a list": (
        lambda c: c.update(architecture=[1, 2]),
        "must be a module config",
    ),
}


@pytest.mark.parametrize("case", sorted(CONFIG_CASES))
def test_a_malformed_config_is_a_model_file_error_naming_it(folder, case):
    change, message = CONFIG_CASES[case]
    edit_config(folder, change)
    with pytest.raises(ModelFileError, match=message) as caught:
        rp.load(folder)
    assert "config.json" in str(caught.value)


def test_deep_json_is_refused_without_recursing(folder):
    (folder / "config.json").write_text("[" * 100_000 + "]" * 100_000)
    write_manifest(folder)
    with pytest.raises(ModelFileError, match=r"config\.json is corrupt: JSON nested 100000 deep"):
        rp.load(folder)


def test_nan_in_the_config_is_not_json(folder):
    text = (folder / "config.json").read_text().replace('"metadata": {}', '"metadata": NaN')
    (folder / "config.json").write_text(text)
    write_manifest(folder)
    with pytest.raises(ModelFileError, match="not valid JSON"):
        rp.load(folder)


HEADER_CASES = {
    "a huge shape": (
        lambda h: h["0.weight"].update(shape=[60_000, 60_000]),
        "do not hold shape",
    ),
    "an unknown dtype": (lambda h: h["0.weight"].update(dtype="F8_E4M3"), "has dtype"),
    "overlapping offsets": (
        lambda h: h["0.bias"].update(data_offsets=h["0.weight"]["data_offsets"]),
        "do not hold shape|overlaps",
    ),
    "a shape that is a string": (lambda h: h["0.bias"].update(shape="4"), "not a list of counts"),
    "an extra key": (lambda h: h["0.bias"].update(pickle=True), "needs exactly"),
    "metadata that is not text": (lambda h: h.update(__metadata__={"a": 1}), "__metadata__"),
}


@pytest.mark.parametrize("case", sorted(HEADER_CASES))
def test_a_lying_safetensors_header_is_refused(folder, case):
    change, message = HEADER_CASES[case]
    set_header(folder, change)
    with pytest.raises(ModelFileError, match=message) as caught:
        rp.load(folder)
    assert "model.safetensors" in str(caught.value)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda raw: raw[:-4], "cut or padded"),
        (lambda raw: raw + b"\0" * 16, "cut or padded"),
        (lambda raw: (10**12).to_bytes(8, "little") + raw[8:], "header claims"),
        (lambda raw: raw[:5], "too short"),
    ],
)
def test_a_cut_or_padded_weights_file_is_refused(folder, damage, message):
    path = folder / "model.safetensors"
    path.write_bytes(damage(path.read_bytes()))
    write_manifest(folder)
    with pytest.raises(ModelFileError, match=message):
        rp.load(folder)


def test_a_sparse_huge_weights_file_is_refused_before_reading(folder):
    path = folder / "model.safetensors"
    with open(path, "r+b") as handle:
        handle.truncate(3 * 2**30)  # 3 GB that take no disk: must not be read
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(ModelFileError, match="more than max_bytes"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            os.remove(folder / "manifest.json")  # the size bound itself, not the manifest
            rp.load(folder)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert time.perf_counter() - start < 5 and peak < 50 * 2**20


def test_max_bytes_can_be_raised_and_lowered(tmp_path):
    folder = rp.save(nn.Linear(100, 100), tmp_path / "m")  # weights larger than the config
    size = (folder / "model.safetensors").stat().st_size
    with pytest.raises(ModelFileError, match="pass a larger max_bytes"):
        rp.load(folder, max_bytes=size - 1)
    assert rp.load(folder, max_bytes=size) is not None
    assert DEFAULT_MAX_BYTES >= 2**31


def test_a_symlinked_weights_file_is_refused(folder, tmp_path):
    outside = tmp_path / "elsewhere.safetensors"
    os.replace(folder / "model.safetensors", outside)
    os.symlink(outside, folder / "model.safetensors")
    with pytest.raises(ModelFileError, match="symlink"):
        rp.load(folder)


def test_every_edited_file_is_named(folder):
    (folder / "notes.json").write_text('{"a": 1}')
    write_manifest(folder)  # the caller's extra file is now covered
    rp.load(folder)
    for name, edit in [
        ("notes.json", lambda text: text.replace("1", "2")),
        ("config.json", lambda text: text.replace('"float32"', '"float64"', 1)),
    ]:
        original = (folder / name).read_text()
        (folder / name).write_text(edit(original))
        with pytest.raises(ModelFileError, match=rf"{name} was changed after the model was saved"):
            rp.load(folder)
        (folder / name).write_text(original)
    rp.load(folder)


def test_swapped_class_names_are_refused_even_by_read_config(tmp_path):
    folder = rp.save(build(), tmp_path / "m", metadata={"classes": ["cat", "dog"]})
    path = folder / "config.json"
    config = json.loads(path.read_text())
    config["metadata"]["classes"].reverse()
    path.write_text(json.dumps(config, indent=2))
    with pytest.raises(ModelFileError, match="config.json was changed"):
        read_config(folder)


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ("[" * 5000, "nested"),
        ('{"format": "x"}', "not a retroprop manifest"),
        ('{"format": "retroprop-manifest", "files": []}', "'files' must map"),
        ('{"format": "retroprop-manifest", "files": {}}', "does not list config.json"),
        (
            '{"format": "retroprop-manifest", "files": {"../x": {"size": 1, "sha256": "0"}}}',
            r"'\.\./x' is not a file inside",
        ),
        (
            '{"format": "retroprop-manifest", "files": {"config.json": {"size": 1.5}}}',
            "the entry for 'config.json'",
        ),
    ],
)
def test_a_malformed_manifest_is_refused(folder, manifest, message):
    (folder / "manifest.json").write_text(manifest)
    with pytest.raises(ModelFileError, match=message) as caught:
        rp.load(folder)
    assert "manifest.json" in str(caught.value)


def test_a_manifest_without_the_weights_or_with_a_missing_file(folder):
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["files"]["model.safetensors"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelFileError, match="does not list model.safetensors"):
        rp.load(folder)
    write_manifest(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["gone.csv"] = {"size": 1, "sha256": "0" * 64}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelFileError, match="gone.csv is missing"):
        rp.load(folder)


def test_a_folder_without_manifest_loads_with_a_warning(folder):
    os.remove(folder / "manifest.json")
    with pytest.warns(UserWarning, match="has no manifest.json"):
        model, config = load_with_config(folder)
    x = rp.tensor(np.ones((2, 3), dtype=np.float32))
    assert np.array_equal(model(x).numpy(), build().eval()(x).numpy())
    assert config["format"] == "retroprop-model"
