"""The example notebooks (examples/*.ipynb), run by a real Jupyter kernel so they cannot rot.

Each notebook runs once, in a module-scoped fixture: nbclient starts an ipykernel (the kernel
spec "python3", which jupyter_client starts with this interpreter, so with this retroprop) per
notebook, the notebooks run concurrently, and after a notebook's last cell one more cell, the
probe, prints what the tests below check as JSON (then it is taken out again). The course's
numbers are asserted on what the notebooks computed. The executed notebooks are then rendered
to HTML by nbconvert (widget state embedded) and one is opened in headless Chromium: it must
draw something and ask nothing of the network.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
nbconvert = pytest.importorskip("nbconvert")
pytest.importorskip("ipykernel")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))
CELL_TIMEOUT = 120  # seconds; the slowest cell takes a few
CONCURRENT_KERNELS = 3  # the machine may have 2 cores: more kernels only wait for them
PROBE_MARK = "retroprop-probe:"

# Per notebook, what the tests read after its last cell: a Python expression, evaluated in the
# notebook's kernel, giving a JSON-able dict.
PROBES = {
    "worked_example": "dict(y_hat_before=y_hat_before, J_before=J_before, "
    "y_hat_after=y_hat_after, J_after=J_after)",
    "xor": "dict(loss=history['loss'][-1], epochs=len(history), accuracy=accuracy, "
    "probabilities=probabilities.tolist())",
    "circles": "dict(train_accuracy=train_accuracy, test_accuracy=test_accuracy, "
    "parameters=model.summary(print_table=False).total_parameters)",
    "digits": "dict(test_accuracy=test_accuracy, val_loss=history['val_loss'])",
    "regression": "dict(r2=r2)",
    "vanishing_gradients": "dict(tanh_ratios=tanh.ratios, "
    "figures=sorted(p.name for p in figures.iterdir()))",
}


@dataclass
class Executed:
    """One notebook after its run: the executed cells (probe removed), what the probe printed,
    or the error that stopped it."""

    name: str
    notebook: Any
    probe: dict[str, Any]
    error: str | None = None


def probe_source(name: str) -> str:
    expression = PROBES.get(name, "{}")
    return (
        "import json as _json, sys as _sys\n"
        f"print({PROBE_MARK!r} + _json.dumps(dict(executable=_sys.executable, **{expression})))"
    )


def failed_cell(notebook: Any) -> str:
    """Which cell raised, its source and its error, from the executed notebook."""
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                traceback = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(output.get("traceback", [])))
                return f"cell {index}:\n{cell.source}\n\n{traceback}"
    return "(no cell holds the error)"


async def execute(path: Path, workdir: Path, slots: asyncio.Semaphore) -> Executed:
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(probe_source(path.stem)))
    client = nbclient.NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        store_widget_state=True,
        resources={"metadata": {"path": str(workdir)}},
    )
    async with slots:
        try:
            await client.async_execute()
        except nbclient.exceptions.CellExecutionError as error:
            return Executed(path.stem, notebook, {}, f"{failed_cell(notebook)}\n{error}")
        except (nbclient.exceptions.CellTimeoutError, nbclient.exceptions.DeadKernelError) as error:
            return Executed(path.stem, notebook, {}, f"a cell: {type(error).__name__}: {error}")
    probe_cell = notebook.cells.pop()
    text = "".join(o.get("text", "") for o in probe_cell.outputs if o.output_type == "stream")
    line = next(line for line in text.splitlines() if line.startswith(PROBE_MARK))
    return Executed(path.stem, notebook, json.loads(line[len(PROBE_MARK) :]))


async def execute_all(workdir: Path) -> list[Executed]:
    slots = asyncio.Semaphore(CONCURRENT_KERNELS)
    return await asyncio.gather(*(execute(path, workdir, slots) for path in NOTEBOOKS))


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> dict[str, Executed]:
    workdir = tmp_path_factory.mktemp("notebooks")
    return {result.name: result for result in asyncio.run(execute_all(workdir))}


def ran(executed: dict[str, Executed], name: str) -> Executed:
    result = executed[name]
    if result.error is not None:
        pytest.fail(f"examples/{name}.ipynb failed at {result.error}", pytrace=False)
    return result


def test_the_course_examples_are_notebooks():
    names = {path.stem for path in NOTEBOOKS}
    assert set(PROBES) <= names, f"missing notebooks: {set(PROBES) - names}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_is_stored_without_outputs(path):
    """Clean notebooks keep their diffs readable; outputs belong to a run."""
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{path.name}, cell {index}: stored with outputs (clear them before committing)"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_runs_in_this_interpreter(executed, path):
    result = ran(executed, path.stem)
    assert result.probe["executable"] == sys.executable  # the venv's, not the system's python
    code_cells = [cell for cell in result.notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code_cells)


def test_a_failing_cell_is_reported_with_its_source_and_error(tmp_path):
    """The control: a notebook whose cell raises is caught, named by cell, source and error."""
    path = tmp_path / "broken.ipynb"
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("raise ValueError('the example is broken')"),
    ]
    nbformat.write(notebook, path)
    result = asyncio.run(execute(path, tmp_path, asyncio.Semaphore(1)))
    assert result.error is not None
    assert result.error.startswith("cell 1:\nraise ValueError('the example is broken')")
    assert "ValueError: the example is broken" in result.error


# Rich displays: the cell ends with the object, so Jupyter shows its HTML (not printed text).
MODEL, HISTORY = "<h4>Sequential</h4>", "<h4>History: "
EXPLANATION = "<h4>Backward pass for one example</h4>"
DISPLAYS = {
    "worked_example": [MODEL, EXPLANATION],
    "xor": [MODEL, HISTORY, EXPLANATION],
    "digits": [MODEL, EXPLANATION, HISTORY],
    "vanishing_gradients": ["<h4>Diagnosis on 600 examples"],
    "circles": [MODEL, HISTORY],
    "regression": [HISTORY],
}


@pytest.mark.parametrize("name", sorted(DISPLAYS))
def test_notebook_shows_models_explanations_and_diagnoses_as_html(executed, name):
    cells = ran(executed, name).notebook.cells
    shown = [
        output["data"]["text/html"]
        for cell in cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "execute_result" and "text/html" in output["data"]
    ]
    for heading in DISPLAYS[name]:
        assert any(heading in html for html in shown), f"{name}: no display with {heading}"
    printed = "".join(o.get("text", "") for c in cells for o in c.get("outputs", []))
    assert "Backward pass for one example" not in printed  # shown, not printed
    assert "Diagnosis on " not in printed


# The course's numbers, from the notebooks (they were the examples/*.py scripts' tests).


def test_worked_example_before_training(executed):
    probe = ran(executed, "worked_example").probe
    assert probe["y_hat_before"] == pytest.approx(0.5055, abs=1e-4)
    assert probe["J_before"] == pytest.approx(0.6822, abs=1e-4)


def test_worked_example_after_500_steps(executed):
    probe = ran(executed, "worked_example").probe
    assert probe["y_hat_after"] == pytest.approx(0.989572, abs=1e-6)
    assert probe["J_after"] == pytest.approx(0.010483, abs=1e-6)


def test_worked_example_loss_is_the_bce_of_the_prediction(executed):
    probe = ran(executed, "worked_example").probe
    for stage in ("before", "after"):
        assert probe[f"J_{stage}"] == pytest.approx(-np.log(probe[f"y_hat_{stage}"]), 1e-12)


def test_xor_with_sigmoid_units_and_per_example_updates(executed):
    probe = ran(executed, "xor").probe
    assert probe["accuracy"] == 1.0
    assert probe["loss"] < 0.02
    probabilities = np.array(probe["probabilities"])
    assert probabilities[[0, 3]].max() < 0.1 and probabilities[[1, 2]].min() > 0.9


def test_circles_course_network_reaches_095_test_accuracy(executed):
    probe = ran(executed, "circles").probe
    assert probe["test_accuracy"] >= 0.95
    assert probe["train_accuracy"] >= 0.95
    assert probe["parameters"] == 37


def test_digits_softmax_cross_entropy_reaches_096(executed):
    probe = ran(executed, "digits").probe
    assert probe["test_accuracy"] >= 0.96
    assert probe["val_loss"][-1] < probe["val_loss"][0]


def test_regression_fits_a_smooth_function(executed):
    r2 = ran(executed, "regression").probe["r2"]
    assert r2 >= 0.98
    assert np.isfinite(r2)


def test_vanishing_gradients_writes_all_six_figures(executed):
    result = ran(executed, "vanishing_gradients")
    ratios = result.probe["tanh_ratios"]
    assert ratios["standard"] < 0.25 < 0.6 < ratios["xavier"]
    assert result.probe["figures"] == [
        "depth_gradient_histograms.png",
        "depth_gradient_norms.png",
        "glorot_bengio_sigmoid_figure6_activations.png",
        "glorot_bengio_sigmoid_figure7_gradients.png",
        "glorot_bengio_tanh_figure6_activations.png",
        "glorot_bengio_tanh_figure7_gradients.png",
    ]
    printed = "".join(
        output.get("text", "")
        for cell in result.notebook.cells
        for output in cell.get("outputs", [])
    )
    assert "gradient std, first/last hidden layer: standard" in printed


# The executed notebooks as HTML pages. nbconvert's "lab" template loads require.js, MathJax,
# Mermaid and the widget renderer from CDNs; this one leaves them out, so a page needs nothing
# from the network (LaTeX then shows as its source, widgets as their embedded state only).
OFFLINE_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{% block html_head_js_requirejs %}{% endblock %}
{% block jupyter_widgets %}{% endblock %}
{% block html_head_js_mathjax %}{% endblock %}
{% block html_head_js_mermaidjs %}{% endblock %}
"""
OUTSIDE_REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?!data:)[a-z]+:""")
SCREENSHOT_NOTEBOOK = "circles"  # figures, tables and text


@pytest.fixture(scope="module")
def pages(executed, tmp_path_factory) -> dict[str, Path]:
    import jinja2

    exporter = nbconvert.HTMLExporter(
        extra_loaders=[jinja2.DictLoader({"offline.html.j2": OFFLINE_TEMPLATE})],
        template_file="offline.html.j2",
    )
    directory = tmp_path_factory.mktemp("html")
    paths = {}
    for name, result in executed.items():
        if result.error is None:
            html, _ = exporter.from_notebook_node(result.notebook)
            paths[name] = directory / f"{name}.html"
            paths[name].write_text(html, encoding="utf-8")
    return paths


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_html_needs_no_network(executed, pages, path):
    result = ran(executed, path.stem)
    html = pages[path.stem].read_text(encoding="utf-8")
    assert not OUTSIDE_REFERENCE.findall(html), f"{path.name}: the page loads outside files"
    assert "<script src" not in html
    assert html.count('<div class="jp-Cell ') == len(result.notebook.cells)
    if "widgets" in result.notebook.metadata:  # nbclient's store_widget_state
        assert '<script type="application/vnd.jupyter.widget-state+json">' in html


def test_notebook_renders_offline_in_chromium(executed, pages, tmp_path):
    pytest.importorskip("matplotlib")
    from test_report_browser import (
        BROWSER,
        Listener,
        assert_drawn,
        browser_own_requests,
        screenshot,
    )

    if BROWSER is None:
        pytest.skip("Chromium is not installed")
    html_path = pages[SCREENSHOT_NOTEBOOK]
    assert html_path.read_text(encoding="utf-8").count('src="data:image/png;base64,') >= 2

    # Chromium's own requests (an empty page) are recorded at the same time, in a thread.
    (tmp_path / "empty").mkdir()
    with ThreadPoolExecutor(max_workers=1) as pool:
        browser_own = pool.submit(browser_own_requests, tmp_path / "empty")
        listener = Listener()
        try:
            png = tmp_path / f"{SCREENSHOT_NOTEBOOK}.png"
            screenshot(html_path, png, tmp_path / "profile", listener.port)
        finally:
            listener.close()
        browser_own = browser_own.result()
    assert png.is_file(), "Chromium wrote no screenshot"
    assert listener.page_requests(browser_own) == [], f"the page made requests: {listener.hosts}"
    assert_drawn(png, (2000, 1200))
