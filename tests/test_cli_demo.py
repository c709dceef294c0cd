"""`retroprop demo`: the course's [2, 4, 4, 1] network on circles reaches >= 0.95 test accuracy."""

from __future__ import annotations

import json

import retroprop as rp
from retroprop.cli import main


def test_demo_reaches_the_course_accuracy_and_writes_its_report(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--quiet"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["rows"] == {"train": 140, "test": 60}  # the course's 70/30 split
    assert metrics["metrics"]["test"]["accuracy"] >= 0.95
    settings = metrics["settings"]
    assert settings["network"] == "2 → 4 → 4 → 1" and settings["parameters"] == 37
    assert (settings["optimizer"], settings["learning rate"]) == ("sgd", 0.3)
    assert settings["initialisation"] == "he_normal"
    assert settings["loss"].startswith("binary cross-entropy")
    model = rp.load(out)
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear", "ReLU", "Linear",
                                                 "Sigmoid"]  # fmt: skip
    page = (out / "report.html").read_text()
    assert 'alt="decision boundary"' in page and 'aria-label="confusion matrix"' in page
    assert "Test accuracy" in capsys.readouterr().out
