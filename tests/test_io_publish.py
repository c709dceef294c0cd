"""A model folder is written as one unit: staged, hashed, swapped in under a lock.

The attacks: an injected full disk, a Ctrl-C during the swap, a second writer, a folder of the
user's own files, and a bounded loop of ``kill -9`` during saves; after each, the folder loads
as the old model or the new one, never a mix, and nothing is left beside it.
"""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import sys
import time

import numpy as np
import pytest

import retroprop as rp
from retroprop import _io_publish, nn
from retroprop.io import (
    SaveError,
    atomic_write,
    load_with_config,
    staged_folder,
    write_model_files,
)

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="fork, flock and signals")


def constant_model(value: float):
    """A small model whose every parameter is ``value``: its outputs tell which save it was."""
    model = nn.Sequential(nn.Linear(16, 32), nn.Tanh(), nn.Linear(32, 3))
    for parameter in model.parameters():
        parameter.data[...] = value
    return model


def saved_value(folder) -> float:
    """The value of the model in ``folder``; the weights and the metadata must agree."""
    model, config = load_with_config(folder)
    values = {float(v) for p in model.parameters() for v in np.unique(p.data)}
    assert values == {config["metadata"]["value"]}, "weights of one save, config of another"
    return values.pop()


def leftovers(folder):
    return sorted(p.name for p in folder.parent.iterdir() if p.name != folder.name)


def test_staged_folder_covers_the_callers_files_in_the_manifest(tmp_path):
    target = tmp_path / "run"
    with staged_folder(target) as stage:
        write_model_files(constant_model(1.0), stage, {"value": 1.0})
        (stage / "history.csv").write_text("epoch,loss\n1,0.5\n")
        (stage / "plots").mkdir()
        (stage / "plots" / "loss.svg").write_text("<svg/>")
    manifest = json.loads((target / "manifest.json").read_text())
    assert sorted(manifest["files"]) == [
        "config.json",
        "history.csv",
        "model.safetensors",
        "plots/loss.svg",
    ]
    assert saved_value(target) == 1.0 and leftovers(target) == []
    (target / "plots" / "loss.svg").write_text("<svg>edited</svg>")
    with pytest.raises(rp.io.ModelFileError, match=r"plots/loss\.svg"):
        rp.load(target)


def test_a_failure_inside_the_block_publishes_nothing(tmp_path):
    target = tmp_path / "m"
    rp.save(constant_model(1.0), target, metadata={"value": 1.0})
    with pytest.raises(RuntimeError, match="training failed"):
        with staged_folder(target) as stage:
            write_model_files(constant_model(2.0), stage, {"value": 2.0})
            raise RuntimeError("training failed")
    assert saved_value(target) == 1.0 and leftovers(target) == []


@pytest.mark.parametrize("failing", ["os.write", "os.fsync"])
def test_a_full_disk_leaves_the_previous_model_untouched(tmp_path, monkeypatch, failing):
    target = tmp_path / "m"
    rp.save(constant_model(1.0), target, metadata={"value": 1.0})
    before = {p.name: p.read_bytes() for p in target.iterdir()}

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, failing.split(".")[1], full)
    with pytest.raises(SaveError) as caught:
        rp.save(constant_model(2.0), target, metadata={"value": 2.0})
    monkeypatch.undo()
    assert caught.value.errno == errno.ENOSPC and isinstance(caught.value, OSError)
    assert str(caught.value).startswith(f"cannot save to {target}: No space left on device")
    assert "\n" not in str(caught.value)
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert saved_value(target) == 1.0 and leftovers(target) == []


def test_a_folder_of_other_files_is_refused_unless_overwrite(tmp_path):
    target = tmp_path / "project"
    target.mkdir()
    (target / "config.json").write_text('{"my": "settings"}')
    (target / "history.csv").write_text("mine")
    with pytest.raises(SaveError, match="holds other files and no retroprop model") as caught:
        rp.save(constant_model(1.0), target, metadata={"value": 1.0})
    assert caught.value.errno == errno.EEXIST
    assert (target / "config.json").read_text() == '{"my": "settings"}'
    rp.save(constant_model(1.0), target, metadata={"value": 1.0}, overwrite=True)
    assert saved_value(target) == 1.0 and not (target / "history.csv").exists()


def test_an_empty_folder_or_a_previous_model_is_replaced(tmp_path):
    target = tmp_path / "m"
    target.mkdir()
    rp.save(constant_model(1.0), target, metadata={"value": 1.0})
    rp.save(constant_model(2.0), target, metadata={"value": 2.0})
    assert saved_value(target) == 2.0 and leftovers(target) == []


def test_a_file_in_the_way_is_a_clear_error(tmp_path):
    (tmp_path / "m").write_text("a file")
    with pytest.raises(SaveError, match="it is a file") as caught:
        rp.save(constant_model(1.0), tmp_path / "m")
    assert caught.value.errno == errno.ENOTDIR
    with pytest.raises(SaveError, match=f"cannot save to {tmp_path / 'm' / 'sub'}"):
        rp.save(constant_model(1.0), tmp_path / "m" / "sub")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permissions")
def test_a_read_only_parent_is_a_clear_error(tmp_path):
    parent = tmp_path / "locked"
    parent.mkdir()
    parent.chmod(0o500)
    try:
        with pytest.raises(SaveError, match="Permission denied"):
            rp.save(constant_model(1.0), parent / "m")
    finally:
        parent.chmod(0o700)


@posix_only
def test_a_second_writer_is_refused_while_the_first_holds_the_lock(tmp_path):
    target = tmp_path / "m"
    rp.save(constant_model(1.0), target, metadata={"value": 1.0})
    with staged_folder(target) as stage:
        write_model_files(constant_model(2.0), stage, {"value": 2.0})
        with pytest.raises(SaveError, match="is being saved by another process") as caught:
            rp.save(constant_model(3.0), target, metadata={"value": 3.0})
        assert caught.value.errno == errno.EBUSY
    assert saved_value(target) == 2.0 and leftovers(target) == []
    rp.save(constant_model(3.0), target, metadata={"value": 3.0})  # the lock was released
    assert saved_value(target) == 3.0


@posix_only
def test_ctrl_c_during_the_swap_is_delivered_after_it(tmp_path, monkeypatch):
    target = tmp_path / "m"
    rp.save(constant_model(1.0), target, metadata={"value": 1.0})
    real_publish = _io_publish._publish

    def interrupted(stage, destination):
        os.kill(os.getpid(), signal.SIGINT)  # arrives in the middle of the swap
        real_publish(stage, destination)

    monkeypatch.setattr(_io_publish, "_publish", interrupted)
    with pytest.raises(KeyboardInterrupt):
        rp.save(constant_model(2.0), target, metadata={"value": 2.0})
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert saved_value(target) == 2.0 and leftovers(target) == []


def test_the_fallback_without_renameat2_replaces_the_model_too(tmp_path, monkeypatch):
    target = tmp_path / "m"
    rp.save(constant_model(1.0), target, metadata={"value": 1.0})
    monkeypatch.setattr(_io_publish, "_exchange", lambda first, second: False)
    rp.save(constant_model(2.0), target, metadata={"value": 2.0})
    assert saved_value(target) == 2.0 and leftovers(target) == []


def test_a_model_renamed_aside_by_a_killed_fallback_save_is_restored(tmp_path):
    target = tmp_path / "m"
    rp.save(constant_model(1.0), target, metadata={"value": 1.0})
    os.rename(target, tmp_path / ".m.old-123-abcd")  # killed between the two renames
    (tmp_path / ".m.staging-xyz").mkdir()
    with staged_folder(target) as stage:
        assert saved_value(target) == 1.0  # back in place before the new save starts
        write_model_files(constant_model(2.0), stage, {"value": 2.0})
    assert saved_value(target) == 2.0 and leftovers(target) == []


def _save_forever(target, models):
    try:
        for index in range(10**9):
            value = float(index % 2 + 1)
            try:
                rp.save(models[value], target, metadata={"value": value})
            except SaveError:  # another writer holds the lock: try again
                time.sleep(0.001)
    finally:
        os._exit(0)


@posix_only
def test_kill_9_during_saves_leaves_the_old_or_the_new_model(tmp_path):
    target = tmp_path / "m"
    models = {value: constant_model(value) for value in (1.0, 2.0)}
    rp.save(models[1.0], target, metadata={"value": 1.0})
    seen, chooser = set(), random.Random(12)
    deadline = time.monotonic() + 20
    for _ in range(25):
        pid = os.fork()
        if pid == 0:
            _save_forever(target, models)
        time.sleep(chooser.uniform(0.0, 0.08))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        seen.add(saved_value(target))  # loads, manifest intact, weights and config agree
        if time.monotonic() > deadline:
            break
    assert seen <= {1.0, 2.0}
    rp.save(models[1.0], target, metadata={"value": 1.0})  # a killed writer blocks nothing
    assert saved_value(target) == 1.0 and leftovers(target) == []


@posix_only
def test_two_concurrent_writers_never_mix_their_files(tmp_path):
    target = tmp_path / "m"
    models = {value: constant_model(value) for value in (1.0, 2.0)}
    rp.save(models[1.0], target, metadata={"value": 1.0})
    children = []
    for value in (1.0, 2.0):
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                for _ in range(30):
                    try:
                        rp.save(models[value], target, metadata={"value": value})
                    except SaveError as error:
                        code = 0 if "being saved by another process" in str(error) else 3
            except BaseException:
                code = 4
            finally:
                os._exit(code)
        children.append(pid)
    for _ in range(40):  # a reader during the saves sees one whole model or the other
        assert saved_value(target) in {1.0, 2.0}
        time.sleep(0.01)
    for pid in children:
        assert os.waitpid(pid, 0)[1] == 0
    assert saved_value(target) in {1.0, 2.0} and leftovers(target) == []


@pytest.mark.parametrize(
    ("where", "code", "reason"),
    [
        (lambda tmp: tmp, errno.EISDIR, "Is a directory"),
        (lambda tmp: tmp / "afile" / "x.json", errno.ENOTDIR, "Not a directory"),
        (lambda tmp: tmp / "missing" / "x.json", errno.ENOENT, "No such file or directory"),
    ],
)
def test_atomic_write_errors_name_the_path_in_one_line(tmp_path, where, code, reason):
    (tmp_path / "afile").write_text("x")
    path = where(tmp_path)
    with pytest.raises(SaveError) as caught:
        atomic_write(path, "data")
    assert caught.value.errno == code and isinstance(caught.value, OSError)
    assert str(caught.value).startswith(f"cannot write {path}: {reason}")
    assert "\n" not in str(caught.value)
