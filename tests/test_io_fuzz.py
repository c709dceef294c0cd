"""Fuzzing the loader: whatever is done to a valid folder, only ModelFileError may come out.

Hypothesis mutates a saved folder's config, safetensors header and raw bytes, then usually
rewrites the manifest (as a forger would, so the deeper checks are reached). Every load must
either return a model or raise ModelFileError, within a time and a memory bound: never a
RecursionError, a MemoryError, a bare TypeError or a gigabyte allocated from a small file.
"""

from __future__ import annotations

import json
import shutil
import time
import tracemalloc
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import retroprop as rp
from retroprop import nn
from retroprop._io_publish import write_manifest
from retroprop.io import ModelFileError

MAX_SECONDS = 3.0
MAX_PEAK_BYTES = 64 * 2**20

NASTY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, -1, 60_000, 2**31, 2**63, 10**12]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", "../big.bin", "/etc/passwd", "F64", "float64", "Sequential", "os.system"]),
    st.text(max_size=12),
    st.lists(st.integers(min_value=-5, max_value=10**6), max_size=4),
    st.just({"type": "Linear", "in_features": 50_000, "out_features": 50_000}),
    st.just([[[[[]]]]]),
    st.just({}),
)


def paths(node, prefix=()):
    """Every (path, value) in a JSON tree."""
    yield prefix, node
    if isinstance(node, dict | list):
        for key, child in node.items() if isinstance(node, dict) else enumerate(node):
            yield from paths(child, (*prefix, key))


def mutate(tree, data):
    """Replace (or delete) one randomly chosen node of ``tree``."""
    candidates = [path for path, _ in paths(tree) if path]
    if not candidates:
        return data.draw(NASTY)
    path = data.draw(st.sampled_from(candidates))
    parent = tree
    for key in path[:-1]:
        parent = parent[key]
    if isinstance(parent, dict) and data.draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(NASTY)
    return tree


def mutate_config(folder, data):
    path = folder / "config.json"
    try:
        config = json.loads(path.read_bytes())
    except ValueError:  # an earlier byte mutation broke it already
        return
    config = mutate(config, data)
    path.write_text(json.dumps(config))


def mutate_header(folder, data):
    path = folder / "model.safetensors"
    raw = path.read_bytes()
    length = int.from_bytes(raw[:8], "little")
    try:
        header = json.loads(raw[8 : 8 + length])
    except ValueError:  # an earlier byte mutation broke it already
        return
    header = mutate(header, data)
    text = json.dumps(header).encode()
    path.write_bytes(len(text).to_bytes(8, "little") + text + raw[8 + length :])


def mutate_bytes(folder, data):
    name = data.draw(st.sampled_from(["config.json", "model.safetensors", "manifest.json"]))
    raw = bytearray((folder / name).read_bytes())
    position = data.draw(st.integers(0, max(len(raw) - 1, 0)))
    action = data.draw(st.sampled_from(["flip", "cut", "insert"]))
    if action == "flip" and raw:
        raw[position] ^= data.draw(st.integers(1, 255))
    elif action == "cut":
        del raw[position:]
    else:
        raw[position:position] = data.draw(st.binary(min_size=1, max_size=16))
    (folder / name).write_bytes(bytes(raw))


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    rp.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(3, 5),
        nn.BatchNorm1d(5),
        nn.ReLU(),
        nn.Residual(nn.Sequential(nn.Linear(5, 5), nn.Tanh())),
        nn.Linear(5, 2),
    )
    return rp.save(model, tmp_path_factory.mktemp("fuzz") / "pristine")


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_only_model_file_errors_come_out_of_a_mutated_folder(pristine, tmp_path, data):
    folder = tmp_path / f"case{time.monotonic_ns()}"
    shutil.copytree(pristine, folder)
    for _ in range(data.draw(st.integers(1, 3))):
        data.draw(st.sampled_from([mutate_config, mutate_header, mutate_bytes]))(folder, data)
    if data.draw(st.integers(0, 4)) > 0:  # mostly: forge the manifest to reach deeper checks
        write_manifest(folder)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            rp.load(folder)
    except ModelFileError as error:
        assert str(error)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        shutil.rmtree(folder)
    assert time.perf_counter() - start < MAX_SECONDS
    assert peak < MAX_PEAK_BYTES, f"{peak:,} bytes allocated while loading a small folder"
