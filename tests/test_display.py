"""The rich displays (``_repr_html_``) of a model, a History, a diagnosis, a backprop trace and
a graph: their content, escaping, self-containment, and the docstrings' names."""

from __future__ import annotations

import ast
import importlib
import re
import stat
from pathlib import Path

import numpy as np
import pytest

import retroprop as rp
import retroprop.nn.functional as F
from retroprop import nn
from retroprop.diagnostics import DotGraph, diagnose, explain, to_dot
from retroprop.display import (
    Series,
    bar_chart,
    escape,
    format_array,
    format_number,
    line_chart,
    matrix,
    network_svg,
    table,
)

PACKAGE = Path(rp.__file__).resolve().parent


def assert_self_contained(page: str) -> None:
    """No script, no outside URL (the SVG namespace is a name, not a fetch), no hard white."""
    without_namespace = page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "<script" not in page.lower()
    assert "http" not in without_namespace and "//" not in without_namespace.replace("://", "")
    assert not re.search(r"#fff\b|#ffffff|(?<![\w-])white(?![\w-])", page, re.IGNORECASE)
    assert page.count("<svg") == page.count("</svg>")


# ---------------------------------------------------------------- helpers
def test_numbers_keep_significant_digits_and_never_show_minus_zero():
    assert format_number(1.2e-05) == "1.2e-05"
    assert format_number(-1.2e-05) == "-1.2e-05"
    assert format_number(-0.0) == "0" and format_number(np.float32(-0.0)) == "0"
    assert format_number(1 / 3, None) == "0.3333333333333333"
    assert format_number(np.float32(0.1), None) == "0.1"
    text = format_array(np.array([-0.0, 1.2e-05, -3.0]))
    assert text == "[0 1.2e-05 -3]"
    assert "-0" not in matrix(np.array([[-0.0, -0.0]])).replace("e-0", "")


def test_tables_and_charts_escape_what_comes_from_data():
    page = table(["<b>"], [["<script>alert(1)</script>"]])
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert escape('"x" & <y>') == "&quot;x&quot; &amp; &lt;y&gt;"
    for svg in (
        line_chart([Series("<loss>", [1, 2], [1.0, 0.5])], "<t>", "epoch", ""),
        bar_chart(["<l>"], [0.5], title="<t>"),
        network_svg([2, 1], [["<in>"], ["<out>"]], title="<t>"),
    ):
        assert "<loss>" not in svg and "<t>" not in svg and "<l>" not in svg
        assert "&lt;t&gt;" in svg
        assert_self_contained(svg)


def test_line_chart_leaves_gaps_at_non_finite_values_and_draws_lone_points():
    loss = Series("loss", [1, 2, 3, 4, 5], [1.0, 0.5, float("nan"), 0.4, 0.3])
    svg = line_chart([loss, Series("val", [1], [2.0])], "", "epoch", "")
    assert svg.count("<polyline") == 2  # [1.0, 0.5] and [0.4, 0.3]
    assert svg.count("<circle") == 1  # the single validation point
    assert "nan" not in svg


def test_wide_layers_are_elided_in_the_network_drawing():
    svg = network_svg([3, 100, 1], [[], [], []])
    assert svg.count("<circle") == 3 + 8 + 1 and "\u22ee" in svg


def test_the_weights_of_an_elided_layer_are_drawn_for_the_units_shown():
    weights = [np.full((3, 100), 0.5), -np.ones((100, 1))]
    weights[0][2, 99] = -2.0
    svg = network_svg([3, 100, 1], weights=weights)
    assert svg.count("<line") == 3 * 8 + 8 * 1  # the drawn units only
    assert "W_1[2,99] = -2</title>" in svg and "W_2[99,0] = -1</title>" in svg
    assert "W_1[0,4]" not in svg  # unit 4 of the hidden layer is elided
    widths = [float(w) for w in re.findall(r'stroke-width="([\d.]+)" stroke-opacity="0.8"', svg)]
    assert max(widths) == pytest.approx(5.4) and min(widths) == pytest.approx(1.65)


# ---------------------------------------------------------------- Module
def test_module_html_shows_the_summary_table_and_the_network():
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1), nn.Sigmoid())
    page = model._repr_html_()
    for text in ("Linear(2-&gt;4)", "ReLU", "Sigmoid", "Total params: 17", "<svg", "hidden 1"):
        assert text in page, text
    assert page.count("<circle") == 2 + 4 + 1
    assert "[2 \u2192 4 \u2192 1]" in page
    assert repr(model).startswith("Sequential(")  # the plain repr is unchanged
    assert_self_contained(page)


def test_a_module_without_linear_layers_still_displays():
    page = nn.ReLU()._repr_html_()
    assert "ReLU" in page and "<svg" not in page


# ---------------------------------------------------------------- History
def _history() -> rp.History:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    rp.manual_seed(0)
    model = nn.mlp([2, 8, 1])
    return rp.fit(
        model,
        X,
        y,
        loss="binary_cross_entropy_with_logits",
        optimizer="adam",
        epochs=5,
        verbose=0,
        seed=0,
        validation_split=0.25,
        metrics=["accuracy"],
    )


def test_history_html_draws_the_curves_and_the_final_values():
    history = _history()
    page = history._repr_html_()
    assert page.count("<svg") == 2  # losses, metrics (the learning rate is constant)
    assert page.count("<polyline") == 4  # loss, val_loss, accuracy, val_accuracy
    for key in ("loss", "val_loss", "accuracy", "val_accuracy", "completed 5 epochs"):
        assert key in page, key
    assert format_number(history["val_loss"][-1], 5) in page
    assert repr(history).startswith("History(5 epochs")
    assert_self_contained(page)


def test_an_empty_history_displays():
    assert "No epoch" in rp.History()._repr_html_()


# ---------------------------------------------------------------- diagnosis
def test_diagnosis_html_highlights_the_problem_layers_and_gives_remedies():
    rp.manual_seed(0)
    X = np.random.default_rng(0).normal(size=(64, 4))
    model = nn.mlp([4, 16, 16, 1])
    model[2].bias.data[:] = -100.0  # plant dead units in the second layer
    report = diagnose(model, X, X.sum(axis=1), loss="mse")
    assert [p.kind for p in report.problems] == ["dead_units"]
    page = report._repr_html_()
    rows = re.findall(r"<tr( class=\"[^\"]*\")?>(.*?)</tr>", page)
    flagged = [cells for css, cells in rows if "rp-problem" in css]
    assert len(flagged) == 1 and "2: Linear 16-&gt;16" in flagged[0]
    assert '<span class="rp-flag">100%</span>' in flagged[0]  # the dead fraction itself
    assert "0: Linear 4-&gt;16" in page and "4: Linear 16-&gt;1" in page
    assert "remedy" in page and escape(report.problems[0].remedy) in page
    assert "||dJ/dz|| per layer" in page
    assert_self_contained(page)


def test_a_healthy_diagnosis_says_so():
    rp.manual_seed(0)
    X = np.random.default_rng(0).normal(size=(64, 4))
    page = diagnose(nn.mlp([4, 16, 1]), X, X.sum(axis=1), loss="mse")._repr_html_()
    assert "No problem found" in page and "rp-problem" not in page.split("</style>")[1]


# ---------------------------------------------------------------- explain
def _tiny_trace():
    model = nn.Sequential(
        nn.Linear(2, 2, dtype=np.float64), nn.ReLU(), nn.Linear(2, 1, dtype=np.float64)
    )
    model[0].weight.data[:] = [[0.5, -1.0], [0.25, 1.0]]
    model[0].bias.data[:] = [1.2e-05, -3.0]  # unit 2 is off: its delta is -0.0
    model[2].weight.data[:] = [[-0.75], [2.0]]
    model[2].bias.data[:] = [0.125]
    return explain(model, [1.0, 1.0], 0.0, loss="mse")


def test_explain_html_includes_weights_biases_and_the_course_notation():
    trace = _tiny_trace()
    page = trace.to_html()
    for header in (
        "W<sup>(l)</sup>",
        "b<sup>(l)</sup>",
        "z<sup>(l)</sup>",
        "a<sup>(l)</sup>",
        "\u03b4<sup>(l)</sup>",
        "\u2202J/\u2202W<sup>(l)</sup>",
        "\u2202J/\u2202b<sup>(l)</sup>",
    ):
        assert header in page, header
    cells = re.findall(r"<td>([^<]*)</td>", page)
    for value in ("0.5", "-1", "0.25", "-0.75", "2", "0.125", "1.2e-05", "-3"):
        assert value in cells, value  # every weight and bias is shown
    assert not [c for c in cells if re.fullmatch(r"-0\.?0*", c)]  # no "minus zero"
    assert cells.count("0") >= 3  # the off unit's a, delta and its dJ/db
    assert np.signbit(trace.layers[0].delta[1])  # the engine's delta is -0.0: shown as 0
    assert_self_contained(page)
    assert trace._repr_html_() == page


def test_explain_html_full_precision_on_demand():
    trace = _tiny_trace()
    z1 = float(trace.layers[0].z[0])  # 0.5 + 0.25 + 1.2e-05 = 0.750012
    short, full = trace.to_html(), trace.to_html(precision=None)
    assert "<td>0.75</td>" in short and repr(z1) not in short
    assert f"<td>{z1!r}</td>" in full


def test_explain_text_shows_small_values_and_no_minus_zero():
    text = str(_tiny_trace())
    assert "b_1       = [1.2e-05 -3]" in text and "W_1" in text
    assert not re.search(r"-0(?![.\d]*[1-9])", text.replace("e-0", "e"))


# ---------------------------------------------------------------- to_dot
def _weighted_loss_graph():
    rp.manual_seed(0)
    layer = nn.Linear(2, 1)
    logits = layer(np.ones((3, 2), dtype=np.float32))
    loss = F.binary_cross_entropy_with_logits(logits, np.ones((3, 1), dtype=np.float32))
    return layer, loss


def test_to_dot_draws_no_node_for_an_argument_left_out():
    layer, loss = _weighted_loss_graph()
    assert any(
        p is None for p in loss.grad_fn.parents
    )  # weight=None and pos_weight=None reach the node
    dot = to_dot(loss, params=dict(layer.named_parameters()))
    labels = re.findall(r'label="([^"]*)"', dot)
    assert not any(label.startswith("None") for label in labels), labels
    assert dot.count("->") == len(labels) - 1  # a tree here: every node but the root has one


def test_to_dot_is_its_dot_text_without_graphviz(monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    _, loss = _weighted_loss_graph()
    dot = to_dot(loss)
    assert isinstance(dot, DotGraph) and isinstance(dot, str) and dot.startswith("digraph")
    assert dot._repr_svg_() is None
    assert dot._repr_mimebundle_() == {"text/plain": dot.source}


def test_ipython_shows_the_dot_source_as_text_without_graphviz(monkeypatch):
    formatters = pytest.importorskip("IPython.core.formatters")
    monkeypatch.setattr("shutil.which", lambda name: None)
    _, loss = _weighted_loss_graph()
    shown, _ = formatters.DisplayFormatter().format(to_dot(loss))
    assert shown["text/plain"].startswith("digraph retroprop {\n") and "image/svg+xml" not in shown


def test_to_dot_renders_as_svg_where_graphviz_is_installed(tmp_path, monkeypatch):
    fake_dot = tmp_path / "dot"  # stands for Graphviz: answers -Tsvg with an SVG of its input
    fake_dot.write_text(
        '#!/bin/sh\ncat > /dev/null\necho \'<svg xmlns="http://www.w3.org/2000/svg">'
        "<text>drawn</text></svg>'\n"
    )
    fake_dot.chmod(fake_dot.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    _, loss = _weighted_loss_graph()
    bundle = to_dot(loss)._repr_mimebundle_()
    assert bundle["image/svg+xml"].startswith("<svg") and "drawn" in bundle["image/svg+xml"]
    assert bundle["text/plain"].startswith("digraph")


# ---------------------------------------------------------------- docstrings name what exists
# (a name in quotes is a string, e.g. a metadata key "retroprop.inputs", not an attribute)
_DOTTED = re.compile(r"(?<![\w.\"'])(?:rp|retroprop)\.([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)")


def _exists(dotted: str) -> bool:
    """Whether ``retroprop.<dotted>`` is an attribute path or a module of the package."""
    target = rp
    parts = dotted.split(".")
    for index, part in enumerate(parts):
        if hasattr(target, part):
            target = getattr(target, part)
            continue
        try:
            target = importlib.import_module("retroprop." + ".".join(parts[: index + 1]))
        except ImportError:
            return False
    return True


def _docstring_names() -> list[tuple[str, str]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                doc = ast.get_docstring(node, clean=False) or ""
                found += [(str(path.relative_to(PACKAGE)), m[1]) for m in _DOTTED.finditer(doc)]
    return found


def test_every_rp_name_in_the_docstrings_exists():
    names = _docstring_names()
    assert ("training/fit.py", "fit") in names and len(names) > 50  # the scan finds them
    missing = sorted({(where, name) for where, name in names if not _exists(name)})
    assert not missing, f"docstrings name what does not exist: {missing}"


def test_the_name_check_catches_a_function_that_does_not_exist():
    assert _exists("diagnostics.render") and _exists("fit") and _exists("nn.Linear")
    assert not _exists("render") and not _exists("diagnostics.draw")


@pytest.mark.parametrize("display", ["model", "history", "diagnosis", "trace"])
def test_displays_import_nothing_heavy(display):
    """Every display is NumPy and the standard library: no matplotlib, no IPython."""
    import subprocess
    import sys

    code = {
        "model": "rp.nn.mlp([2, 3, 1])._repr_html_()",
        "history": "rp.History(history={'loss': [1.0, 0.5]}, epoch=[1, 2])._repr_html_()",
        "diagnosis": "rp.diagnose(rp.nn.mlp([2, 3, 1]), np.ones((4, 2)), np.ones(4), "
        "loss='mse')._repr_html_()",
        "trace": "rp.explain(rp.nn.mlp([2, 3, 1]), [1.0, 2.0], 1.0, loss='mse').to_html()",
    }[display]
    script = (
        "import sys, numpy as np, retroprop as rp\n"
        f"{code}\n"
        "print(sorted(m for m in ('matplotlib', 'IPython', 'sklearn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
