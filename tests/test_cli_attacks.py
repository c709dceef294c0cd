"""Attacks on the `retroprop` command (issue 12): bad flags and files, kills, concurrent writers,
full disks, non-finite answers. Each gives one clear line and the documented exit code:
0 done, 1 diverged, 2 bad input, 130 interrupted."""

from __future__ import annotations

import contextlib
import errno
import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import retroprop as rp
from retroprop.cli import main

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--epochs", "2", "--seed", "0", "--quiet", "--no-diagnostics"]


def one_line_error(capsys, argv: list[str], code: int = 2) -> str:
    """Run ``main(argv)``: the exit ``code``, 1-2 lines on stderr, the first 'retroprop: error:'."""
    got = main(argv)
    err = capsys.readouterr().err
    assert got == code, err
    lines = err.strip().splitlines()
    assert 1 <= len(lines) <= 2 and lines[0].startswith("retroprop: error: "), err
    assert "Traceback" not in err
    return err


def popen(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "retroprop", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def run_seed(out: Path) -> int:
    """The seed of the run saved in ``out``, after a full load (manifest verified)."""
    rp.load(out)
    metrics = json.loads((out / "metrics.json").read_text())
    config = json.loads((out / "config.json").read_text())
    seed = config["metadata"]["options"]["seed"]
    assert metrics["settings"]["seed"] == seed  # the files of one run, never a mix
    return seed


@contextlib.contextmanager
def tmpfs(path: Path, options: str):
    """A tmpfs mounted at ``path`` with ``options``; skip where mounting is not allowed."""
    path.mkdir(exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


@pytest.fixture
def csv(tmp_path) -> Path:
    path = tmp_path / "people.csv"
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60)})
    frame["y"] = np.where(frame["a"] > 0, "yes", "no")
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def saved_run(tmp_path) -> Path:
    out = tmp_path / "run"
    assert main(["train", "--dataset", "xor", "--out", str(out), *FAST]) == 0
    return out


# ---------------------------------------------------------------- the table of bad flags
BAD_FLAGS = [
    (["--seed", "-1"], "--seed"),
    (["--lr", "inf"], "--lr"),
    (["--lr", "nan"], "--lr"),
    (["--lr", "-0.1"], "--lr"),
    (["--epochs", "0"], "--epochs"),
    (["--epochs", "2.5"], "--epochs"),
    (["--batch-size", "1.5"], "--batch-size"),
    (["--batch-size", "inf"], "--batch-size"),
    (["--batch-size", "0"], "--batch-size"),
    (["--l2", "inf"], "--l2"),
    (["--dropout", "1"], "--dropout"),
    (["--test-size", "nan"], "--test-size"),
    (["--lr-decay", "0"], "--lr-decay"),
    (["--early-stopping", "-1"], "--early-stopping"),  # 0 turns early stopping off
    (["--layers", "60000,60000,60000"], "--layers"),
    (["--layers", "0"], None),  # 'none' spelled 0 is no hidden layer: not an error
]


@pytest.mark.parametrize(("flags", "named"), BAD_FLAGS)
def test_every_bad_train_flag_is_one_line_naming_it(flags, named, capsys, tmp_path):
    argv = ["train", "--dataset", "xor", "--out", str(tmp_path / "run"), *FAST, *flags]
    if named is None:
        assert main(argv) == 0
        return
    err = one_line_error(capsys, argv)
    assert named in err, err
    assert not (tmp_path / "run").exists()  # refused before anything was written


def test_memory_estimate_names_the_layer_and_the_flag(capsys, tmp_path):
    argv = ["train", "--dataset", "xor", "--layers", "100000,100000", "--out", str(tmp_path / "r")]
    err = one_line_error(capsys, argv)
    assert "layer 1, 100000 -> 100000" in err and "--layers" in err, err


def test_memory_estimate_names_the_batch_size_when_the_batch_is_too_big():
    from retroprop.cli.budget import check_memory
    from retroprop.cli.errors import CLIError

    with pytest.raises(CLIError) as caught:
        check_memory([1000, 1000, 1], 1_000_000, limit=4 * 10**9)
    assert caught.value.hint == "choose a smaller --batch-size"


def test_experiment_refuses_a_negative_seed(capsys):
    one_line_error(capsys, ["experiment", "depth", "--seed", "-1"])


@pytest.mark.parametrize(
    ("keywords", "named"),
    [
        ({"epochs": 2.5}, "epochs"),
        ({"epochs": float("inf")}, "epochs"),
        ({"epochs": "3"}, "epochs"),
        ({"epochs": 3, "batch_size": float("inf")}, "batch_size"),
        ({"epochs": 3, "batch_size": 0}, "batch_size"),
        ({"epochs": 3, "seed": -1}, "seed"),
    ],
)
def test_fit_names_a_count_that_is_not_a_whole_number(keywords, named):
    model = rp.nn.Sequential(rp.nn.Linear(2, 1))
    X, y = np.zeros((4, 2), np.float32), np.zeros((4, 1), np.float32)
    with pytest.raises(ValueError, match=rf"^{named} must be"):
        rp.fit(model, X, y, loss="mse", optimizer="sgd", verbose=0, **keywords)


def test_fit_accepts_whole_floats():
    model = rp.nn.Sequential(rp.nn.Linear(2, 1))
    X, y = np.zeros((4, 2), np.float32), np.zeros((4, 1), np.float32)
    history = rp.fit(
        model, X, y, loss="mse", optimizer="sgd", epochs=2.0, batch_size=2.0, verbose=0
    )
    assert history.epoch == [1, 2]


# ---------------------------------------------------------------- the output, checked first
def test_out_naming_an_existing_file_is_refused_before_training(capsys, tmp_path):
    (tmp_path / "taken").write_text("mine")
    err = one_line_error(capsys, ["train", "--dataset", "xor", "--out", str(tmp_path / "taken")])
    assert "is a file" in err and "Training" not in capsys.readouterr().out
    assert (tmp_path / "taken").read_text() == "mine"


def test_out_below_an_existing_file_is_refused_naming_it(capsys, tmp_path):
    (tmp_path / "taken").write_text("mine")
    argv = ["train", "--dataset", "xor", "--out", str(tmp_path / "taken" / "run")]
    assert "taken is a file, not a folder" in one_line_error(capsys, argv)


def test_out_dot_does_not_overwrite_the_users_own_files(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("config.json").write_text('{"mine": true}')
    Path("history.csv").write_text("my,history\n")
    err = one_line_error(capsys, ["train", "--dataset", "xor", "--out", ".", *FAST])
    assert "--overwrite" in err
    assert Path("config.json").read_text() == '{"mine": true}'
    assert Path("history.csv").read_text() == "my,history\n"


def test_overwrite_replaces_a_folder_of_other_files(capsys, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("old")
    assert main(["train", "--dataset", "xor", "--out", str(out), "--overwrite", *FAST]) == 0
    assert not (out / "notes.txt").exists() and run_seed(out) == 0


def test_a_previous_run_is_replaced_whole_with_a_manifest(saved_run):
    assert main(["train", "--dataset", "xor", "--out", str(saved_run), *FAST[:-3], "7"]) == 0
    manifest = json.loads((saved_run / "manifest.json").read_text())
    assert {
        "config.json",
        "model.safetensors",
        "history.csv",
        "metrics.json",
        "report.html",
    } <= set(manifest["files"])
    assert run_seed(saved_run) == 7


def test_out_on_a_read_only_file_system_is_refused_before_training(capsys, tmp_path):
    with tmpfs(tmp_path / "ro", "ro,size=64k") as readonly:
        argv = ["train", "--dataset", "xor", "--out", str(readonly / "run"), *FAST]
        err = one_line_error(capsys, argv)
    assert "cannot write into" in err, err


@pytest.mark.parametrize("where", ["folder", "missing", "readonly"])
def test_predict_output_is_checked_before_predicting(where, saved_run, capsys, tmp_path):
    rows = tmp_path / "rows.csv"
    pd.DataFrame({"x1": [0.0, 1.0], "x2": [1.0, 0.0]}).to_csv(rows, index=False)
    with contextlib.ExitStack() as stack:
        output = {
            "folder": tmp_path,
            "missing": tmp_path / "nowhere" / "p.csv",
            "readonly": None,
        }[where]
        if output is None:
            output = stack.enter_context(tmpfs(tmp_path / "ro", "ro,size=64k")) / "p.csv"
        err = one_line_error(
            capsys, ["predict", "--model", str(saved_run), "--data", str(rows),
                     "--output", str(output)]
        )  # fmt: skip
    assert "--output" in err, err


@pytest.mark.parametrize("spelling", ["same", "dotted", "hard link", "symlink"])
def test_predict_output_naming_the_data_file_is_refused_and_the_data_kept(
    spelling, saved_run, capsys, tmp_path
):
    """--output on the --data file, under any name, would replace the rows with predictions:
    refused before any work, in one line naming both flags; the file's bytes unchanged."""
    rows = tmp_path / "rows.csv"
    pd.DataFrame({"x1": [0.0, 1.0], "x2": [1.0, 0.0]}).to_csv(rows, index=False)
    before = rows.read_bytes()
    output = {
        "same": rows,
        "dotted": tmp_path / "." / "rows.csv",
        "hard link": tmp_path / "linked.csv",
        "symlink": tmp_path / "symlinked.csv",
    }[spelling]
    if spelling == "hard link":
        os.link(rows, output)
    elif spelling == "symlink":
        output.symlink_to(rows)
    argv = ["predict", "--model", str(saved_run), "--data", str(rows), "--output", str(output)]
    err = one_line_error(capsys, argv)
    assert "--output" in err and "--data" in err, err
    assert rows.read_bytes() == before
    # another file next to it is written as before
    assert main([*argv[:-1], str(tmp_path / "predictions.csv")]) == 0
    assert rows.read_bytes() == before


def test_an_injected_full_disk_leaves_the_previous_run_loadable(saved_run, capsys, monkeypatch):
    import retroprop.io

    real = retroprop.io._replace_with

    def full_disk(path, payload):
        if path.name == "report.html":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, payload)

    monkeypatch.setattr(retroprop.io, "_replace_with", full_disk)
    argv = ["train", "--dataset", "xor", "--out", str(saved_run), *FAST[:-3], "5"]
    err = one_line_error(capsys, [*argv, "--quiet", "--no-diagnostics"])
    assert "no space left on device" in err.lower(), err
    assert run_seed(saved_run) == 0
    assert [p.name for p in saved_run.parent.iterdir() if p.name.startswith(".")] == []


def test_a_real_full_disk_on_a_small_tmpfs_keeps_the_previous_run(tmp_path, capsys):
    reference = tmp_path / "reference"
    assert main(["train", "--dataset", "xor", "--out", str(reference), *FAST]) == 0
    size = sum(p.stat().st_size for p in reference.iterdir()) + 8 * 4096
    with tmpfs(tmp_path / "small", f"size={size * 3 // 2}") as small:
        out = small / "run"
        assert main(["train", "--dataset", "xor", "--out", str(out), *FAST]) == 0
        capsys.readouterr()
        err = one_line_error(
            capsys, ["train", "--dataset", "xor", "--out", str(out), *FAST[:-3], "9",
                     "--quiet", "--no-diagnostics"]
        )  # fmt: skip
        assert "no space left on device" in err.lower(), err
        assert run_seed(out) == 0


# ---------------------------------------------------------------- kills and concurrent writers
def test_kill_9_during_saves_leaves_the_old_or_the_new_run(saved_run):
    """Kill -9 at moments spread over the save (figures, files, manifest, swap): every time the
    folder loads, with all its files from one run."""
    seen = set()
    deadline = time.monotonic() + 30  # bounded
    for k, delay in enumerate([0.0, 0.4, 1.0, 2.0]):
        if time.monotonic() > deadline:
            break
        process = popen("train", "--dataset", "xor", "--epochs", "1", "--seed", str(100 + k),
                        "--out", str(saved_run), "--quiet")  # fmt: skip
        for line in process.stdout:
            if line.startswith("split"):  # trained: the save starts now
                break
        time.sleep(delay)
        process.kill()
        process.communicate(timeout=30)
        seen.add(run_seed(saved_run))  # loads, and its files are all of one run
        leftovers = [p.name for p in saved_run.parent.iterdir() if ".staging-" in p.name]
        assert len(leftovers) <= 1  # a killed writer's stage, removed by the next writer
    assert seen <= {0, *range(100, 107)}


def test_two_concurrent_writers_on_one_out(tmp_path):
    out = tmp_path / "run"
    first = popen("train", "--dataset", "xor", "--epochs", "100000", "--seed", "1",
                  "--early-stopping", "0", "--out", str(out))  # fmt: skip
    try:
        for line in first.stdout:
            if line.startswith("Epoch"):
                break
        second = subprocess.run(
            [sys.executable, "-m", "retroprop", "train", "--dataset", "xor", "--epochs", "2",
             "--seed", "2", "--out", str(out)],
            capture_output=True, text=True, timeout=120, cwd=ROOT,
        )  # fmt: skip
        assert second.returncode == 2, second.stderr
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1 and "another process" in lines[0], second.stderr
        first.send_signal(signal.SIGINT)
        _, stderr = first.communicate(timeout=60)
    finally:
        first.kill()
    assert first.returncode == 130, stderr
    assert run_seed(out) == 1


# ---------------------------------------------------------------- no non-finite answer
@pytest.fixture
def csv_model(tmp_path, csv) -> Path:
    out = tmp_path / "model"
    argv = ["train", "--data", str(csv), "--target", "y", "--out", str(out), *FAST]
    assert main(argv) == 0
    return out


def test_predict_refuses_a_model_with_non_finite_weights(csv_model, csv, capsys):
    from retroprop.io import load_with_config, save

    model, config = load_with_config(csv_model)
    first = next(iter(model.parameters()))
    first.data[...] = np.nan
    save(model, csv_model, metadata=config["metadata"])
    err = one_line_error(capsys, ["predict", "--model", str(csv_model), "--data", str(csv)])
    assert "weights are not finite" in err and capsys.readouterr().out == ""


def test_predict_refuses_rows_whose_outputs_overflow(tmp_path, capsys):
    from retroprop.io import load_with_config, save

    rng = np.random.default_rng(0)
    table = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60)})
    table["y"] = table["a"] * 3.0
    table.to_csv(tmp_path / "values.csv", index=False)
    out = tmp_path / "regression"
    argv = ["train", "--data", str(tmp_path / "values.csv"), "--target", "y", "--out", str(out)]
    assert main([*argv, "--layers", "4", *FAST]) == 0
    model, config = load_with_config(out)
    for parameter in model.parameters():
        parameter.data[...] = 1e10  # finite: ordinary rows stay finite, huge ones overflow
    # as a folder saved before input ranges were kept: a huge value is not clipped to the range
    del config["metadata"]["preprocessing"]["ranges"]
    save(model, out, metadata=config["metadata"])
    rows = tmp_path / "rows.csv"
    pd.DataFrame({"a": [0.0, 3e25, 1.0], "b": [0.0, 3e25, 2.0]}).to_csv(rows, index=False)
    output = tmp_path / "p.csv"
    capsys.readouterr()
    err = one_line_error(
        capsys, ["predict", "--model", str(out), "--data", str(rows), "--output", str(output)]
    )
    assert "1 of 3 rows" in err and "data rows 2" in err and "too extreme" in err, err
    assert not output.exists()


def test_divergence_on_validation_keeps_the_last_epoch_finite_on_validation(tmp_path):
    from retroprop import nn, optim
    from retroprop.training import DivergenceError

    rp.manual_seed(0)
    model = nn.Sequential(nn.Linear(1, 1))
    X = np.ones((8, 1), np.float32)
    y = np.ones((8, 1), np.float32)
    X_val = np.full((4, 1), 1e20, np.float32)  # finite weights, validation loss overflows
    optimizer = optim.SGD(model.parameters(), lr=1e-3)
    with pytest.raises(DivergenceError, match="the validation loss became inf at the end of "
                       "epoch 1.*Kept: the initial weights"):  # fmt: skip
        rp.fit(model, X, y, loss="mse", optimizer=optimizer, epochs=3, verbose=0,
               validation_data=(X_val, np.ones((4, 1), np.float32)))  # fmt: skip


def test_experiment_that_diverges_exits_1(capsys, tmp_path):
    argv = ["experiment", "--dataset", "diabetes", "--optimizer", "sgd", "--vary",
            "lr=0.001,50", "--out", str(tmp_path / "exp"), *FAST]  # fmt: skip
    assert main(argv) == 1
    assert "training diverged in lr=50" in capsys.readouterr().err


# ---------------------------------------------------------------- Ctrl-C and OS errors
@pytest.mark.parametrize(
    "where", ["retroprop.cli.build_parser", "retroprop.cli.prepare.prepare_data"]
)
def test_ctrl_c_during_start_up_is_130_without_traceback(where, monkeypatch, capsys, tmp_path):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    module, name = where.rsplit(".", 1)
    monkeypatch.setattr(sys.modules[module] if module in sys.modules else __import__(module),
                        name, interrupted)  # fmt: skip
    assert main(["train", "--dataset", "xor", "--out", str(tmp_path / "r")]) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "Traceback" not in err


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES, errno.EISDIR, errno.ENOTDIR])
def test_every_os_error_is_one_line_and_exit_2(code, monkeypatch, capsys, tmp_path):
    import retroprop.cli.prepare

    def failing(*args, **kwargs):
        raise OSError(code, os.strerror(code), "somewhere/file")

    monkeypatch.setattr(retroprop.cli.prepare, "prepare_data", failing)
    err = one_line_error(capsys, ["train", "--dataset", "xor", "--out", str(tmp_path / "r")])
    assert "somewhere/file" in err and os.strerror(code).lower() in err.lower()


def test_gzip_named_csv_zero_rows_and_huge_values(capsys, tmp_path, csv):
    packed = tmp_path / "packed.csv"
    packed.write_bytes(gzip.compress(csv.read_bytes()))
    empty = tmp_path / "empty.csv"
    empty.write_text("a,b,y\n")
    huge = tmp_path / "huge.csv"
    frame = pd.read_csv(csv)
    frame.loc[[3, 5], "a"] = 1e308
    frame.to_csv(huge, index=False)
    for path in (packed, empty, huge):
        one_line_error(capsys, ["train", "--data", str(path), "--target", "y", *FAST,
                                "--out", str(tmp_path / "r")])  # fmt: skip
        assert not (tmp_path / "r").exists()


def test_a_diverged_run_says_which_epoch_it_kept(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["train", "--dataset", "diabetes", "--optimizer", "sgd", "--lr", "50",
            "--out", str(out), *FAST]  # fmt: skip
    assert main(argv) == 1
    err = capsys.readouterr().err
    kept = json.loads((out / "metrics.json").read_text())["kept_epoch"]
    which = f"(epoch {kept})" if kept else "(the initial weights)"
    assert f"the last finite model {which}" in err.splitlines()[1], err
    assert "Kept: the" in (out / "report.html").read_text()
