"""The report's panels: each one small function from a :class:`RunRecord` to a section.

A panel returns None when it does not apply to the run (no curves without epochs, no network
without a model, ...). The report shows the sections of :data:`PANELS` in order; to add one,
write a function ``(record) -> Section | None`` and put it in that list.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from retroprop.report.gradient_flow import gradient_flow_panel
from retroprop.report.record import RunRecord
from retroprop.report.sections import Section, chart, image, metrics_table, settings_table
from retroprop.report.trials import trials_panel

__all__ = ["Panel", "PANELS"]

Panel = Callable[[RunRecord], Section | None]

CURVES_NOTE = (
    "Per epoch: the training loss is the mean over the epoch's batches (with dropout active); "
    "the validation loss is computed after the epoch in eval mode."
)
BOUNDARY_NOTE = (
    "Background: the model's prediction over the plane; circles: training rows (white edge) "
    "and held-out rows (black edge)."
)


RESULTS_NOTE = (
    "The loss is computed from the logits as in training, so it equals the curves' and "
    "history.csv's figure for the weights kept. The baseline learned only the training "
    "targets: the majority class (its frequency as the probability) or the training mean."
)


def results_panel(record: RunRecord) -> Section:
    """The final loss and scores, one row per split and the baseline's; per-class scores."""
    body = metrics_table(record.metrics)
    details = record.details or {}
    if details.get("per_class"):
        body += f"<h3>Per class ({html.escape(str(details.get('split', '')))})</h3>"
        body += metrics_table(details["per_class"], first="class")
    return Section("results", "Results", body, RESULTS_NOTE)


def command_panel(record: RunRecord) -> Section | None:
    """The command that reproduces the run, seed included."""
    if not record.command:
        return None
    body = f'<pre class="command">{html.escape(record.command)}</pre>'
    if record.command.startswith("retroprop train"):  # a model folder: it exports to ONNX
        body += (
            "<p>Serve it where retroprop is not installed, as one ONNX file that takes the raw "
            "columns (preprocessing included) and returns labels and probabilities, or values: "
            '</p><pre class="command">retroprop export --model DIR --output model.onnx</pre>'
            "<p>DIR: this report's folder.</p>"
        )
    return Section("command", "Reproduce this run", body)


def settings_panel(record: RunRecord) -> Section:
    """The run's options."""
    return Section("settings", "Settings", settings_table(record.settings))


def data_panel(record: RunRecord) -> Section | None:
    """The input columns (kind, missing values, distinct values, what was done) and the class
    balance; None without a data summary."""
    summary = record.data_summary
    if not summary:
        return None

    def cell(value: object) -> str:
        return (
            "—"
            if value is None
            else html.escape(f"{value:,}" if isinstance(value, int) else str(value))
        )

    header = "<tr><th>column</th><th>kind</th><th>missing</th><th>distinct</th><th>note</th></tr>"
    rows = "".join(
        f"<tr><td>{cell(c['name'])}</td><td>{cell(c['kind'])}</td>"
        f'<td class="num">{cell(c["missing"])}</td><td class="num">{cell(c["distinct"])}</td>'
        f"<td>{cell(c['note'])}</td></tr>"
        for c in summary["columns"]
    )
    body = f"<p>{summary['rows']:,} rows</p><table>{header}{rows}</table>"
    target = summary.get("target") or {}
    classes = target.get("classes") or {}
    if classes:
        total = sum(classes.values()) or 1
        balance = "".join(
            f'<tr><td>{cell(name)}</td><td class="num">{n:,}</td>'
            f'<td class="num">{n / total:.1%}</td></tr>'
            for name, n in classes.items()
        )
        body += (
            f"<h3>Classes of {cell(target['name'])}</h3>"
            f"<table><tr><th>class</th><th>rows</th><th>share</th></tr>{balance}</table>"
        )
    note = "Missing counts are over all rows as read, before --dropna and the split."
    return Section("data", "Data", body, note)


def curves_panel(record: RunRecord) -> Section | None:
    """Loss (and accuracy or R²) per epoch; None before the first epoch ended."""
    if not record.epochs:
        return None
    from retroprop.report.figures import training_curves

    history = record.history
    metric = "accuracy" if record.classification else ("r2" if "r2" in history else None)
    svg = training_curves(history, record.epochs, metric, record.best_epoch, record.loss_name)
    body = chart(svg, "loss and metric per epoch")
    return Section("curves", "Training curves", body, CURVES_NOTE)


def _evaluation_image(record: RunRecord) -> str | None:
    from retroprop.report import figures

    evaluation = record.evaluation
    if evaluation is None:
        return None
    if record.classification:
        title = f"Confusion matrix ({evaluation.split})"
        svg = figures.confusion_matrix(
            evaluation.y_true, evaluation.y_pred, record.class_names, title
        )
        return chart(svg, "confusion matrix")
    title = f"Predicted vs true ({evaluation.split})"
    svg = figures.predicted_vs_true(evaluation.y_true, evaluation.y_pred, title, record.target_name)
    residual_svg = figures.residuals(
        evaluation.y_true, evaluation.y_pred, f"Residuals ({evaluation.split})", record.target_name
    )
    return chart(svg, "predicted against true values") + chart(residual_svg, "residuals")


def predictions_panel(record: RunRecord) -> Section | None:
    """The decision boundary (2-D data) and the confusion matrix or predicted-vs-true plot."""
    row = []
    if record.boundary is not None:  # the one matplotlib figure, only for 2-D data
        from retroprop.report.figures import decision_boundary

        row.append(image(decision_boundary(record.boundary), "decision boundary"))
    evaluation = _evaluation_image(record)
    if evaluation is not None:
        row.append(evaluation)
    if not row:
        return None
    note = BOUNDARY_NOTE if record.boundary is not None else ""
    return Section("predictions", "Predictions", f'<div class="grid">{"".join(row)}</div>', note)


def network_panel(record: RunRecord) -> Section | None:
    """The network as the course draws it, and its summary table."""
    if record.model is None:
        return None
    from retroprop.display.network import model_network_svg

    summary = html.escape(str(record.model.summary(print_table=False)))
    body = chart(model_network_svg(record.model), "the network") + f"<pre>{summary}</pre>"
    return Section("network", "Network", body)


PANELS: list[Panel] = [
    results_panel,
    command_panel,
    trials_panel,
    settings_panel,
    data_panel,
    curves_panel,
    predictions_panel,
    network_panel,
    gradient_flow_panel,
]
