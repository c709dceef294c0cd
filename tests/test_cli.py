"""The `retroprop` command: train on built-in data and on a CSV, predict, info, the entry points."""

from __future__ import annotations

import io
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
from retroprop.cli.datasets import DATASETS, load_dataset

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--epochs", "3", "--seed", "0", "--quiet"]


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """The command through its real entry point, ``python -m retroprop``."""
    return subprocess.run(
        [sys.executable, "-m", "retroprop", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def mixed_csv(path: Path, n: int = 120, seed: int = 0) -> Path:
    """Numeric and categorical features, a string label that depends on both."""
    rng = np.random.default_rng(seed)
    age = rng.uniform(20, 70, n).round(1)
    colour = rng.choice(["red", "green", "blue"], n)
    income = rng.normal(50, 15, n).round(2)
    score = (age - 45) / 10 + np.where(colour == "red", 2.0, -1.0) + rng.normal(0, 0.3, n)
    label = np.where(score > 0, "buys", "leaves")
    frame = pd.DataFrame({"age": age, "colour": colour, "income": income, "label": label})
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("name", list(DATASETS))
def test_train_every_builtin_dataset_writes_a_complete_run(name, tmp_path, capsys):
    out = tmp_path / name
    assert main(["train", "--dataset", name, "--out", str(out), *FAST]) == 0
    assert {"config.json", "model.safetensors", "history.csv", "metrics.json", "report.html"} <= {
        p.name for p in out.iterdir()
    }
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs_run"] == 3 and metrics["outcome"] == "completed"
    assert set(metrics["metrics"]) == {"train", "validation", "test"}
    expected = {"diabetes": "regression", "digits": "multiclass", "iris": "multiclass"}
    assert metrics["task"] == expected.get(name, metrics["task"])
    history = pd.read_csv(out / "history.csv")
    assert list(history["epoch"]) == [1, 2, 3] and {"loss", "val_loss"} <= set(history.columns)
    table = capsys.readouterr().out
    assert "split" in table and "test" in table


def test_the_task_sets_the_output_layer_and_loss(tmp_path):
    cases = {"circles": ("binary", "Sigmoid"), "iris": ("multiclass", "Linear"),
             "diabetes": ("regression", "Identity")}  # fmt: skip
    for name, (task, last) in cases.items():
        out = tmp_path / name
        main(["train", "--dataset", name, "--out", str(out), *FAST])
        model = rp.load(out)
        assert type(model[-1]).__name__ == last
        config = json.loads((out / "config.json").read_text())
        assert config["metadata"]["target"]["task"] == task


def test_per_epoch_lines_and_final_table(tmp_path, capsys):
    main(["train", "--dataset", "xor", "--epochs", "3", "--seed", "1", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "Epoch  1 | loss" in out and "Epoch  3 | loss" in out and " -> " in out
    lines = out.splitlines()
    header = lines.index(next(line for line in lines if line.startswith("split")))
    assert [line.split()[0] for line in lines[header + 1 : header + 4]] == [
        "train",
        "validation",
        "test",
    ]


def test_training_options_reach_the_model(tmp_path):
    out = tmp_path / "run"
    code = main(
        ["train", "--dataset", "moons", "--layers", "8,6", "--activation", "tanh",
         "--init", "xavier_uniform", "--optimizer", "momentum", "--lr", "0.05",
         "--batch-size", "full", "--l2", "0.001", "--lr-decay", "0.9", "--dropout", "0.1",
         "--batch-norm", "--out", str(out), *FAST]
    )  # fmt: skip
    assert code == 0
    kinds = [type(m).__name__ for m in rp.load(out)]
    assert kinds == ["Linear", "BatchNorm1d", "Tanh", "Dropout", "Linear", "BatchNorm1d",
                     "Tanh", "Dropout", "Linear", "Sigmoid"]  # fmt: skip
    lr = pd.read_csv(out / "history.csv")["lr"].tolist()
    assert lr == pytest.approx([0.05, 0.05 * 0.9, 0.05 * 0.81])  # the rate each epoch used


def test_early_stopping_keeps_the_best_epoch(tmp_path):
    out = tmp_path / "run"
    main(["train", "--dataset", "iris", "--epochs", "200", "--lr", "0.05",
          "--early-stopping", "2", "--seed", "0", "--quiet", "--out", str(out)])  # fmt: skip
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs_run"] < 200 and metrics["best_epoch"] is not None
    assert "early stopping" in metrics["status"].lower()


def test_seed_makes_runs_reproducible(tmp_path):
    for name in ("a", "b"):
        main(["train", "--dataset", "xor", "--out", str(tmp_path / name), *FAST])
    first, second = (pd.read_csv(tmp_path / n / "history.csv") for n in ("a", "b"))
    pd.testing.assert_frame_equal(first, second)


def test_csv_with_categorical_features_and_string_labels(tmp_path, capsys):
    data = mixed_csv(tmp_path / "shop.csv")
    out = tmp_path / "run"
    code = main(["train", "--data", str(data), "--target", "label", "--epochs", "30",
                 "--seed", "0", "--quiet", "--out", str(out)])  # fmt: skip
    assert code == 0
    metadata = json.loads((out / "config.json").read_text())["metadata"]
    assert metadata["target"] == {"name": "label", "task": "binary", "classes": ["buys", "leaves"]}
    prep = metadata["preprocessing"]
    assert prep["columns"] == ["age", "colour", "income"]
    assert prep["categorical"] == {"colour": ["blue", "green", "red"]}
    assert set(prep["numeric"]) == {"age", "income"}
    assert metadata["feature_names"] == [
        "age",
        "colour=blue",
        "colour=green",
        "colour=red",
        "income",
    ]
    assert json.loads((out / "metrics.json").read_text())["metrics"]["test"]["accuracy"] > 0.8


def test_no_pickle_in_the_model_folder(tmp_path):
    main(["train", "--data", str(mixed_csv(tmp_path / "d.csv")), "--target", "label",
          "--out", str(tmp_path / "run"), *FAST])  # fmt: skip
    names = {p.name for p in (tmp_path / "run").iterdir()}
    assert not any(n.endswith((".pkl", ".pickle", ".joblib")) for n in names)
    assert not any(n.startswith(".") for n in names)  # no temporary file left


def test_predict_round_trip_gives_the_training_predictions(tmp_path):
    data = mixed_csv(tmp_path / "shop.csv")
    out = tmp_path / "run"
    main(["train", "--data", str(data), "--target", "label", "--epochs", "20", "--seed", "0",
          "--quiet", "--test-size", "0", "--validation-size", "0", "--out", str(out)])  # fmt: skip
    new = pd.read_csv(data).drop(columns=["label"]).iloc[::-1]  # other order, no target
    new.to_csv(tmp_path / "new.csv", index=False)
    predictions = tmp_path / "pred.csv"
    assert main(["predict", "--model", str(out), "--data", str(tmp_path / "new.csv"),
                 "--output", str(predictions), "--keep", "age"]) == 0  # fmt: skip
    result = pd.read_csv(predictions)
    assert list(result.columns) == ["age", "prediction", "probability_buys", "probability_leaves"]
    assert len(result) == len(new)
    assert set(result["prediction"]) <= {"buys", "leaves"}
    np.testing.assert_allclose(result[["probability_buys", "probability_leaves"]].sum(axis=1), 1,
                               atol=1e-5)  # fmt: skip
    truth = pd.read_csv(data)["label"].iloc[::-1].to_numpy()
    assert np.mean(result["prediction"].to_numpy() == truth) > 0.8


def test_predict_regression_and_multiclass(tmp_path, capsys):
    for name, columns in (("diabetes", ["prediction"]), ("iris", None)):
        out = tmp_path / name
        main(["train", "--dataset", name, "--out", str(out), *FAST])
        load_dataset(name).features.head(5).to_csv(tmp_path / "rows.csv", index=False)
        capsys.readouterr()
        assert main(["predict", "--model", str(out), "--data", str(tmp_path / "rows.csv")]) == 0
        result = pd.read_csv(io.StringIO(capsys.readouterr().out))
        assert len(result) == 5
        if columns:
            assert list(result.columns) == columns
        else:
            assert list(result.columns) == [
                "prediction",
                "probability_setosa",
                "probability_versicolor",
                "probability_virginica",
            ]


def test_predict_warns_about_unseen_categories(tmp_path, capsys):
    data = mixed_csv(tmp_path / "shop.csv")
    out = tmp_path / "run"
    main(["train", "--data", str(data), "--target", "label", "--out", str(out), *FAST])
    pd.DataFrame({"age": [30.0], "colour": ["purple"], "income": [40.0]}).to_csv(
        tmp_path / "new.csv", index=False
    )
    capsys.readouterr()
    assert main(["predict", "--model", str(out), "--data", str(tmp_path / "new.csv")]) == 0
    assert "'purple'" in capsys.readouterr().err


def test_info_prints_summary_and_figures(tmp_path, capsys):
    out = tmp_path / "run"
    main(["train", "--dataset", "circles", "--layers", "4,4", "--out", str(out), *FAST])
    capsys.readouterr()
    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Total params: 37" in text and "Target: 'target', binary" in text
    assert "accuracy" in text and "test" in text


def test_info_on_a_model_saved_by_rp_save(tmp_path, capsys):
    rp.save(rp.nn.mlp([3, 2]), tmp_path / "plain")
    assert main(["info", str(tmp_path / "plain")]) == 0
    assert "Saved by rp.save" in capsys.readouterr().out


@pytest.mark.parametrize(("name", "rate"), [("diabetes", "50"), ("breast-cancer", "1e30")])
def test_divergence_keeps_the_last_finite_model(name, rate, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", "--dataset", name, "--optimizer", "sgd", "--lr", rate,
                 "--out", str(out), *FAST])  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("retroprop: error: training diverged") and len(err.splitlines()) == 2
    model = rp.load(out)
    assert all(np.isfinite(v).all() for v in model.state_dict().values())
    assert json.loads((out / "metrics.json").read_text())["outcome"] == "diverged"
    assert "Diverged" in (out / "report.html").read_text()


def test_experiment_compares_runs(tmp_path, capsys):
    out = tmp_path / "exp"
    code = main(["experiment", "--dataset", "xor", "--vary", "lr=0.01,0.1", "--out", str(out),
                 *FAST])  # fmt: skip
    assert code == 0
    table = pd.read_csv(out / "comparison.csv")
    assert list(table["run"]) == ["lr=0.01", "lr=0.1"]
    assert (out / "lr=0.1" / "report.html").is_file() and (out / "report.html").is_file()


def test_console_script_and_python_m(tmp_path):
    script = Path(sys.executable).with_name("retroprop")
    if script.exists():
        started = time.perf_counter()
        result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0 and "train" in result.stdout
        assert time.perf_counter() - started < 10
    out = tmp_path / "run"
    result = run_cli("train", "--dataset", "circles", "--epochs", "2", "--seed", "0",
                     "--out", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Epoch 1 | loss" in result.stdout.replace("Epoch  1", "Epoch 1")
    assert (out / "report.html").is_file()


def test_ctrl_c_saves_the_model_and_report_so_far(tmp_path):
    out = tmp_path / "run"
    process = subprocess.Popen(
        [sys.executable, "-m", "retroprop", "train", "--dataset", "digits", "--epochs", "100000",
         "--seed", "0", "--early-stopping", "0", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        for line in process.stdout:
            if line.startswith("Epoch") and "2 |" in line:
                break
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted" in stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["outcome"] == "interrupted" and metrics["epochs_run"] >= 2
    assert rp.load(out) is not None and (out / "report.html").is_file()


def test_experiment_glorot_bengio_and_depth_print_ratios_and_write_figures(tmp_path, capsys):
    from retroprop.cli import main

    assert main(["experiment", "glorot-bengio", "--out", str(tmp_path / "gb")]) == 0
    out = capsys.readouterr().out
    assert "standard" in out and "xavier" in out and "tanh" in out and "sigmoid" in out
    figures = sorted(p.name for p in (tmp_path / "gb").rglob("*.png"))
    assert len(figures) == 4, figures
    assert main(["experiment", "depth", "--out", str(tmp_path / "depth")]) == 0
    assert list((tmp_path / "depth").glob("*.png"))


def test_experiment_without_a_name_or_vary_is_a_usage_error(capsys):
    from retroprop.cli import main

    assert main(["experiment", "--dataset", "xor"]) == 2
    assert "--vary" in capsys.readouterr().err
