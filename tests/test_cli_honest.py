"""Issue 11, items 4-8: the defaults, the verdict, honest metrics, the report, the install."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")

from sklearn.metrics import log_loss, roc_auc_score  # noqa: E402

import retroprop as rp  # noqa: E402
from retroprop import nn  # noqa: E402
from retroprop.cli import main  # noqa: E402
from retroprop.cli.config import TrainConfig  # noqa: E402
from retroprop.cli.metrics import balanced_weights, classification_scores  # noqa: E402
from retroprop.cli.network import loss_from_logits  # noqa: E402
from retroprop.cli.options import add_train_arguments  # noqa: E402
from retroprop.cli.target import Target  # noqa: E402
from retroprop.cli.verdict import dead_units, judge  # noqa: E402


def parse(*argv: str) -> TrainConfig:
    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    return TrainConfig.from_args(parser.parse_args(list(argv)))


def imbalanced_csv(path: Path, n: int = 600, seed: int = 0) -> Path:
    """A binary target with about 8% positives that depends on x."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    z = rng.normal(size=n)
    label = np.where(x + 0.3 * rng.normal(size=n) > 1.4, "yes", "no")
    pd.DataFrame({"x": x, "z": z, "label": label}).to_csv(path, index=False)
    return path


# ------------------------------------------------------------------------------- defaults
def test_defaults_are_the_measured_ones_with_early_stopping_on():
    config = parse("--dataset", "xor")
    assert (config.lr, config.batch, config.epochs) == (0.003, 200, 200)
    assert config.early_stopping == 10 and config.class_weight == "none"
    assert config.threshold == 0.5


def test_early_stopping_zero_turns_it_off_and_keeps_the_last_weights(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--dataset", "xor", "--epochs", "4", "--early-stopping", "0",
                 "--seed", "0", "--quiet", "--out", str(out)]) == 0  # fmt: skip
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs_run"] == 4 and metrics["best_epoch"] is None
    history = pd.read_csv(out / "history.csv")
    # no early stopping: the final table's validation loss is the last epoch's
    assert metrics["metrics"]["validation"]["loss"] == pytest.approx(
        history["val_loss"].iloc[-1], rel=1e-5
    )


def test_batch_size_is_capped_at_the_training_rows(tmp_path):
    out = tmp_path / "run"
    main(["train", "--dataset", "iris", "--epochs", "2", "--seed", "0", "--quiet",
          "--out", str(out)])  # fmt: skip
    settings = json.loads((out / "metrics.json").read_text())["settings"]
    assert settings["batch size"] == 90  # 150 rows, 60% train: the default 200 is capped


# ------------------------------------------------------------------------- honest metrics
def test_final_validation_loss_is_the_history_entry_of_the_kept_weights(tmp_path):
    out = tmp_path / "run"
    main(["train", "--dataset", "breast-cancer", "--lr", "0.05", "--early-stopping", "3",
          "--seed", "0", "--quiet", "--out", str(out)])  # fmt: skip
    metrics = json.loads((out / "metrics.json").read_text())
    history = pd.read_csv(out / "history.csv")
    best = metrics["best_epoch"]
    assert best is not None and metrics["task"] == "binary"
    kept = history.loc[history["epoch"] == best, "val_loss"].item()
    assert metrics["metrics"]["validation"]["loss"] == pytest.approx(kept, rel=1e-5)
    assert kept == pytest.approx(history["val_loss"].min(), rel=1e-12)


def test_binary_loss_comes_from_the_logits_not_clamped_probabilities():
    target = Target("y", "binary", ["a", "b"])
    z = np.array([[-3.0], [0.5], [2.0], [60.0]])
    y = np.array([0, 1, 1, 0])
    p = 1.0 / (1.0 + np.exp(-z[:, 0]))
    expected = log_loss(y[:3], p[:3], labels=[0, 1]) * 3 / 4 + 60.0 / 4  # the last row costs 60
    assert loss_from_logits(z, y, target) == pytest.approx(expected, rel=1e-9)


def test_binary_scores_baseline_and_per_class_details(tmp_path):
    data = imbalanced_csv(tmp_path / "rare.csv")
    out = tmp_path / "run"
    assert main(["train", "--data", str(data), "--target", "label", "--seed", "0",
                 "--quiet", "--out", str(out)]) == 0  # fmt: skip
    metrics = json.loads((out / "metrics.json").read_text())
    test = metrics["metrics"]["test"]
    assert {"loss", "accuracy", "balanced_accuracy", "f1_macro", "roc_auc",
            "average_precision"} <= set(test)  # fmt: skip
    ((name, baseline),) = metrics["baseline"].items()
    assert name == "baseline (test)"
    assert baseline["roc_auc"] == 0.5 and baseline["balanced_accuracy"] == 0.5
    assert baseline["accuracy"] > 0.85  # the majority class alone
    details = metrics["details"]
    assert set(details["per_class"]) == {"no", "yes"}
    assert sum(map(sum, details["confusion_matrix"])) == metrics["rows"]["test"]
    page = (out / "report.html").read_text()
    assert "baseline (test)" in page and "Per class" in page


def test_classification_scores_match_sklearn():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    p1 = np.clip(0.3 * y + rng.uniform(size=200) * 0.7, 0, 1)
    scores = classification_scores(y, np.column_stack([1 - p1, p1]), threshold=0.4)
    assert scores["roc_auc"] == pytest.approx(roc_auc_score(y, p1))
    assert scores["accuracy"] == pytest.approx(np.mean((p1 >= 0.4) == y))


def test_balanced_class_weights_give_each_class_the_same_total():
    y = np.array([0] * 90 + [1] * 10)
    weights = balanced_weights(y)
    assert weights[y == 0].sum() == pytest.approx(weights[y == 1].sum())


def test_class_weight_balanced_raises_minority_recall(tmp_path):
    data = imbalanced_csv(tmp_path / "rare.csv", n=800, seed=1)
    recall = {}
    for weight in ("none", "balanced"):
        out = tmp_path / weight
        main(["train", "--data", str(data), "--target", "label", "--class-weight", weight,
              "--layers", "8", "--seed", "0", "--quiet", "--out", str(out)])  # fmt: skip
        details = json.loads((out / "metrics.json").read_text())["details"]
        recall[weight] = details["per_class"]["yes"]["recall"]
    assert recall["balanced"] >= recall["none"]


def test_threshold_is_saved_and_used_by_predict_which_scores_rows_with_a_target(tmp_path, capsys):
    data = imbalanced_csv(tmp_path / "rare.csv")
    out = tmp_path / "run"
    main(["train", "--data", str(data), "--target", "label", "--threshold", "0.2",
          "--seed", "0", "--quiet", "--out", str(out)])  # fmt: skip
    assert json.loads((out / "config.json").read_text())["metadata"]["options"]["threshold"] == 0.2
    capsys.readouterr()
    predictions = tmp_path / "p.csv"
    assert main(["predict", "--model", str(out), "--data", str(data),
                 "--output", str(predictions)]) == 0  # fmt: skip
    frame = pd.read_csv(predictions)
    assert (frame["prediction"] == np.where(frame["probability_yes"] >= 0.2, "yes", "no")).all()
    printed = capsys.readouterr().err
    assert "Scores on the 600 rows" in printed and "roc_auc" in printed
    written = json.loads(Path(f"{predictions}.metrics.json").read_text())
    truth = pd.read_csv(data)["label"]
    assert written["metrics"]["accuracy"] == pytest.approx(np.mean(frame["prediction"] == truth))


def test_regression_scores_baseline_and_residual_plot(tmp_path):
    out = tmp_path / "run"
    main(["train", "--dataset", "diabetes", "--epochs", "5", "--seed", "0", "--quiet",
          "--out", str(out)])  # fmt: skip
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"loss", "mae", "rmse", "r2"} <= set(metrics["metrics"]["test"])
    baseline = metrics["baseline"]["baseline (test)"]
    assert abs(baseline["r2"]) < 0.1  # the training mean explains nothing
    assert 'aria-label="residuals"' in (out / "report.html").read_text()


# -------------------------------------------------------------------------------- verdict
def test_verdict_names_overfitting_and_the_flag_to_try():
    metrics = {"test": {"roc_auc": 0.755}, "baseline (test)": {"roc_auc": 0.5}}
    history = {"val_loss": [0.6, 0.43, 0.9, 1.5, 2.29]}
    verdict = judge("binary", metrics, history, best_epoch=None)
    assert verdict.level == "bad" and "overfit" in str(verdict)
    assert "--early-stopping" in str(verdict)
    kept = judge("binary", metrics, history, best_epoch=2)
    assert kept.level == "ok" and "epoch 2 are kept" in str(kept)


def test_verdict_says_when_the_model_is_no_better_than_the_baseline():
    metrics = {"test": {"r2": 0.005}, "baseline (test)": {"r2": -0.001}}
    verdict = judge("regression", metrics, {}, None)
    assert verdict.level == "bad" and "no better than the baseline" in str(verdict)
    assert "--lr" in str(verdict)


def test_verdict_warns_when_accuracy_barely_beats_the_majority_class():
    metrics = {"test": {"roc_auc": 0.8, "accuracy": 0.970},
               "baseline (test)": {"roc_auc": 0.5, "accuracy": 0.967}}  # fmt: skip
    verdict = judge("binary", metrics, {}, None)
    assert verdict.level == "warn" and "--class-weight balanced" in str(verdict)


def test_dead_units_are_counted_and_named_in_the_verdict():
    model = nn.mlp([3, 16, 1], activation="relu", dtype=np.float64)
    model[0].weight.data[...] = 0.0
    model[0].bias.data[...] = -1.0
    model[0].bias.data[0] = 1.0  # one unit alive, 15 dead on every row
    X = np.random.default_rng(0).normal(size=(50, 3))
    assert dead_units(model, X) == [(1, 15, 16)]
    metrics = {"test": {"r2": 0.6}, "baseline (test)": {"r2": 0.0}}
    verdict = judge("regression", metrics, {}, None, dead=dead_units(model, X))
    assert "15 of 16 units of hidden layer 1" in str(verdict)
    assert "--activation leaky_relu" in str(verdict)


def test_verdict_warns_when_many_rows_get_one_identical_prediction():
    prediction = np.r_[np.full(43, 326.0), np.linspace(400, 9000, 57)]
    metrics = {"test": {"r2": 0.8}, "baseline (test)": {"r2": 0.0}}
    verdict = judge("regression", metrics, {}, None, prediction=prediction)
    assert "43% of the held-out rows get one identical prediction" in str(verdict)


def test_the_verdict_is_printed_and_at_the_top_of_the_report(tmp_path, capsys):
    out = tmp_path / "run"
    main(["train", "--dataset", "circles", "--epochs", "3", "--seed", "0", "--quiet",
          "--out", str(out)])  # fmt: skip
    printed = capsys.readouterr().out
    verdict = json.loads((out / "metrics.json").read_text())["verdict"]
    assert verdict and verdict in printed
    page = (out / "report.html").read_text()
    assert page.index('class="verdict"') < page.index('<section id="results"')


# ------------------------------------------------------------------------- the report
def test_the_report_shows_the_command_that_reproduces_the_run_with_the_drawn_seed(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--dataset", "xor", "--epochs", "2", "--lr", "0.1", "--quiet",
                 "--out", str(out)]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    seed = json.loads((out / "config.json").read_text())["metadata"]["options"]["seed"]
    assert f"Seed {seed} (drawn" in printed
    command = f"retroprop train --dataset xor --lr 0.1 --epochs 2 --seed {seed}"
    assert command in printed and command in (out / "report.html").read_text()
    assert json.loads((out / "metrics.json").read_text())["command"] == command


def test_no_saturated_outputs_panel_on_a_relu_network():
    from retroprop.diagnostics.plots import plot_history

    records = [
        {"epoch": 1, "batch": b, "step": b, "layer": "Linear 1", "grad_norm": 0.1 + b,
         "dead_fraction": 0.0, "saturated_fraction": None}
        for b in range(3)
    ]  # fmt: skip
    titles = [ax.get_ylabel() for ax in plot_history(records).axes]
    assert titles == ["||dJ/dz|| (gradient norm)", "dead units (fraction)"]


@pytest.mark.parametrize(
    "names",
    [["<=50K", ">50K"], ["Adelie Penguin (Pygoscelis adeliae)",
                         "Chinstrap penguin (Pygoscelis antarctica)",
                         "Gentoo penguin (Pygoscelis papua)"]],
)  # fmt: skip
def test_the_confusion_matrix_title_is_not_clipped_nor_the_matrix_squeezed(names):
    import xml.etree.ElementTree as ET

    from retroprop.display.svg import text_width
    from retroprop.report import figures

    y = np.arange(8) % len(names)
    chart = ET.fromstring(
        figures.confusion_matrix(y, y[::-1], names, "Confusion matrix (validation)")
    )
    width = float(chart.get("width"))
    texts = {t.text: t for t in chart.iter("text")}
    for line in ("Confusion matrix (validation)", "8 rows, accuracy "):
        title = next(t for content, t in texts.items() if content.startswith(line))
        half = text_width(title.text, float(title.get("font-size"))) / 2
        assert half <= float(title.get("x")) <= width - half  # centred and inside the chart
    # long class names once squeezed the matrix to a few pixels
    cells = [r for r in chart.iter("rect") if r.get("stroke") == "white"]
    assert len(cells) == len(names) ** 2
    assert sum(float(c.get("width")) for c in cells[: len(names)]) >= 0.3 * width


# -------------------------------------------------------------------------------- install
def test_the_command_without_its_extras_prints_one_line_and_exits_2():
    code = (
        "import sys; sys.modules['pandas'] = None\n"
        "from retroprop.cli import main\n"
        "sys.exit(main(['train', '--dataset', 'xor', '--epochs', '1']))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and 'pip install "retroprop[cli]"' in lines[0]
    assert "Traceback" not in done.stderr


def test_a_missing_module_of_no_extra_is_not_hidden(monkeypatch):
    from retroprop.cli import train

    def broken(args):
        raise ModuleNotFoundError("No module named 'retroprop_typo'", name="retroprop_typo")

    monkeypatch.setattr(train, "run", broken)
    with pytest.raises(ModuleNotFoundError):
        main(["train", "--dataset", "xor"])


def test_the_model_keeps_working_after_the_run(tmp_path):
    out = tmp_path / "run"
    main(["train", "--dataset", "moons", "--epochs", "2", "--seed", "0", "--quiet",
          "--out", str(out)])  # fmt: skip
    assert type(rp.load(out)[-1]).__name__ == "Sigmoid"


def test_gradient_flow_problems_advise_command_line_flags_not_library_options():
    from retroprop.diagnostics.problems import REMEDIES, Problem
    from retroprop.report.gradient_flow import command_line_advice

    for kind, remedy in REMEDIES.items():
        text = command_line_advice(Problem(kind, ["0: Linear 2->4"], "measured", remedy))
        assert "try: " in text and "--" in text
        assert "fit(" not in text and "nn." not in text and remedy not in text
