"""The HTML report: self-contained, placeholder-free, with the figures the run calls for."""

from __future__ import annotations

import re

import numpy as np
import pytest

from retroprop import nn
from retroprop.display.network import describe_layers, model_network_svg
from retroprop.report import Evaluation, RunRecord, build_report
from retroprop.report.figures import (
    Boundary,
    confusion_matrix,
    decision_boundary,
    predicted_vs_true,
    training_curves,
)
from retroprop.report.gradient_flow import GradientFlow

PNG = b"\x89PNG\r\n\x1a\n"


def page(**extra):
    arguments = {
        "title": "retroprop: test",
        "status": "Completed 3 epochs.",
        "settings": {"learning rate": 0.3, "layers": [4, 4], "batch norm": False},
        "history": {"loss": [0.7, 0.5, 0.4], "val_loss": [0.8, 0.6, 0.5]},
        "epochs": [1, 2, 3],
        "metrics": {"train": {"loss": 0.4, "accuracy": 0.9}, "test": {"loss": float("nan")}},
    }
    return build_report(RunRecord(**{**arguments, **extra}))


def external_references(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)\s*=\s*["']?\s*(?!data:)(?!#)[^"'\s>]+""", html)


def test_report_is_self_contained():
    html = page(model=nn.mlp([2, 4, 4, 1], output_activation="sigmoid"))
    assert html.startswith("<!DOCTYPE html>")
    assert "http://" not in html and "https://" not in html
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert external_references(html) == []
    assert html.count("data:image/png") == 0  # the charts are inline SVG
    assert html.count("<svg ") == 2  # curves and network
    assert 'aria-label="loss and metric per epoch"' in html and 'aria-label="the network"' in html


def test_report_shows_settings_metrics_and_missing_values_as_dashes():
    html = page()
    assert "learning rate" in html and "0.3" in html and "4, 4" in html
    assert "0.9000" in html and "—" in html  # NaN test loss is shown as a dash


def test_gradient_flow_section_only_when_given():
    assert "Gradient flow" not in page()
    figure = training_curves({"loss": [1.0, 0.5]}, [1, 2])
    with_figure = page(gradient_flow=GradientFlow(figure_svg=figure))
    assert 'id="gradient-flow"' in with_figure and "per-layer gradient" in with_figure
    with_table = page(gradient_flow=GradientFlow(table="layer  ||dJ/dz||\n0: Linear <2->4>  1e-3"))
    assert "<pre>layer  ||dJ/dz||" in with_table and "&lt;2-&gt;4&gt;" in with_table


def test_classification_and_regression_sections():
    evaluation = Evaluation("test", np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0]))
    html = page(class_names=["no", "yes"], evaluation=evaluation)
    assert 'aria-label="confusion matrix"' in html and "predicted against" not in html
    assert "Confusion matrix (test)" in html and "4 rows, accuracy 0.750" in html
    regression = Evaluation("test", np.array([1.0, 2.0, 3.0]), np.array([1.1, 2.2, 2.7]))
    html = page(evaluation=regression, target_name="price")
    assert 'aria-label="predicted against true values"' in html and "confusion" not in html
    assert "true price" in html and "predicted price" in html and 'aria-label="residuals"' in html


def test_decision_boundary_two_and_three_classes():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    for k in (2, 3):

        def proba(points, k=k):
            logits = np.column_stack([points[:, 0] * (j - 1) for j in range(k)])
            e = np.exp(logits - logits.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)

        boundary = Boundary(proba, X, rng.integers(0, k, 30), np.arange(30) % 3 == 0,
                            [str(j) for j in range(k)], ["x1", "x2"])  # fmt: skip
        assert decision_boundary(boundary, steps=40).startswith(PNG)


def test_figures_handle_non_finite_values():
    curves = training_curves({"loss": [1.0, float("inf")], "lr": [0.1, 0.05]}, [1, 2])
    assert curves.count("<svg") == 2 and "Learning rate" in curves  # loss and lr
    scatter = predicted_vs_true(np.array([1.0, np.nan]), np.array([np.inf, 2.0]), "t")
    assert scatter.startswith("<svg") and "0 rows" in scatter
    matrix = confusion_matrix(np.arange(10), np.arange(10), list("abcdefghij"), "t")
    assert matrix.startswith("<svg") and "10 rows, accuracy 1.000" in matrix
    for chart in (curves, scatter, matrix):
        assert "nan" not in chart and "inf" not in chart


def test_network_layers_are_described_with_their_parameters():
    model = nn.mlp([3, 5, 2], activation="relu", dropout=0.25, batch_norm=True)
    layers = describe_layers(model)
    assert [(layer.fan_in, layer.width, layer.params) for layer in layers] == [
        (3, 5, 30),
        (5, 2, 12),
    ]
    assert layers[0].after == ["BatchNorm1d", "ReLU", "Dropout(0.25)"]
    diagram = model_network_svg(nn.mlp([64, 300, 10]))
    assert diagram.startswith("<svg") and "Network [64 → 300 → 10]" in diagram
    assert diagram.count("<circle") == 8 + 8 + 8 and "300 units" in diagram
    with pytest.raises(ValueError, match="no Linear"):
        model_network_svg(nn.Sequential(nn.ReLU()))


def test_the_gradient_flow_charts_leave_out_what_no_layer_measures():
    # issue 11: a ReLU network's report showed an empty "saturated outputs" panel
    from retroprop.report.gradient_flow import history_charts

    records = [
        {"epoch": 1 + b // 2, "batch": 1 + b % 2, "layer": layer, "grad_norm": 0.1 / (1 + b),
         "dead_fraction": 0.25, "saturated_fraction": saturated}
        for b in range(4)
        for layer, saturated in (("0: Linear 2->4", None), ("2: Linear 4->1", None))
    ]  # fmt: skip
    relu = history_charts(records, {1: 2, 2: 2})
    assert relu.count("<svg") == 2 and "saturated" not in relu
    assert "||dJ/dz|| (gradient norm)" in relu and "dead units (fraction)" in relu
    assert relu.count('data-label="0: Linear 2-&gt;4"') == 2  # each layer in each chart
    tanh = history_charts([{**r, "saturated_fraction": 0.1} for r in records], {1: 2, 2: 2})
    assert tanh.count("<svg") == 3 and "saturated outputs (fraction)" in tanh


@pytest.mark.parametrize("low", [2e-5, 0.02, 3.0])
def test_a_log_axis_within_one_power_of_ten_keeps_its_ticks_inside_the_frame(low):
    from retroprop.display.charts import Series, line_chart
    from retroprop.display.svg import Frame

    chart = line_chart([Series("layer", [1, 2, 3], [low, 1.5 * low, 2.2 * low])], "t", "x", "y",
                       log_y=True)  # fmt: skip
    frame = re.search(r'<rect x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)" '
                      r'fill="none"', chart)  # fmt: skip
    top, bottom = float(frame[1]), float(frame[1]) + float(frame[2])
    ticks = [float(y) for y in re.findall(r'<text x="[\d.]+" y="([\d.]+)" font-size="11" '
                                          r'text-anchor="end"', chart)]  # fmt: skip
    assert len(ticks) >= 2 and all(top - 1 <= y - 4 <= bottom + 1 for y in ticks)
    assert Frame(0, 0, 1, 1, (0, 1), (low, 2.3 * low), log_y=True).y_ticks()[0] >= low
