"""The report's "Trials" section for a search (``retroprop tune``): every trial in a table
sorted by score, and the score against each setting in small charts.

It reads ``record.trials``: rows with "trial", "status", "score" (the validation loss, lower is
better; None when the trial did not finish) and one key per setting it varied.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

from retroprop.report.record import RunRecord
from retroprop.report.sections import Section, chart

__all__ = ["trials_panel", "settings_of", "score_charts"]

#: The columns of a trial's row that are not settings.
RESULT_COLUMNS = ("trial", "status", "score", "epochs", "seconds", "seed", "error")
BEST_COLOUR, OTHER_COLOUR = "#d62728", "#1f77b4"
NOTE = (
    "Score: the loss on the validation rows as trained (lower is better), the same rows for "
    "every trial. The model of this report is the best trial retrained with its seed. Trials "
    "that diverged or failed have no score and are left out of the charts."
)


def settings_of(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The settings the trials varied: the keys that are neither results nor scores.

    Examples
    --------
    >>> settings_of([{"trial": 0, "score": 0.5, "lr": 0.1, "layers": "8", "val_r2": 0.3}])
    ['lr', 'layers']
    """
    keys = dict.fromkeys(key for row in rows for key in row)
    return [k for k in keys if k not in RESULT_COLUMNS and not k.startswith("val_")]


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape(str(value))


def _table(rows: Sequence[Mapping[str, Any]]) -> str:
    """One row per trial, in the order given (best first), ranked."""
    scores = [k for k in dict.fromkeys(k for row in rows for k in row) if k.startswith("val_")]
    columns = ["trial", "score", *settings_of(rows), *scores, "status", "epochs", "seconds"]
    columns.append("error")
    head = "".join(f"<th>{html.escape(c)}</th>" for c in ["rank", *columns])
    lines = [
        f"<tr><td>{rank}</td>" + "".join(f"<td>{_cell(row.get(c))}</td>" for c in columns)
        for rank, row in enumerate(rows, 1)
    ]
    return f"<table><tr>{head}</tr>" + "</tr>".join(lines) + "</tr></table>"


def _positions(values: list[Any]) -> tuple[list[float], list[str] | None, bool]:
    """x positions of a setting's values: numbers as they are (log scale when they span a
    decade and are positive), anything else as evenly spaced categories."""
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        numbers = [float(v) for v in values]
        log = min(numbers) > 0 and max(numbers) >= 10 * min(numbers)
        return numbers, None, log
    categories = sorted({str(v) for v in values}, key=lambda c: (len(c), c))
    return [float(categories.index(str(v))) for v in values], categories, False


def score_charts(rows: Sequence[Mapping[str, Any]]) -> str | None:
    """The score against each setting, one small inline SVG chart per setting, the best trial
    drawn larger in red; None when fewer than two trials have a score.

    Numbers spanning a decade (a log-uniform learning rate) get a log x axis, choices one
    position each.

    Examples
    --------
    >>> rows = [{"trial": 0, "score": 0.4, "lr": 0.01, "activation": "relu"},
    ...         {"trial": 1, "score": 0.6, "lr": 0.1, "activation": "tanh"}]
    >>> svg = score_charts(rows)
    >>> svg.count("<svg"), ">relu</text>" in svg, 'data-label="best trial"' in svg
    (2, True, True)
    """
    from retroprop.display.charts import Series, scatter_chart

    scored = [row for row in rows if row.get("score") is not None]
    names = settings_of(scored)
    if len(scored) < 2 or not names:
        return None
    scores = [float(row["score"]) for row in scored]
    best = scores.index(min(scores))
    drawn = []
    for k, name in enumerate(names):
        x, categories, log = _positions([row.get(name) for row in scored])
        others = [i for i in range(len(scored)) if i != best]
        points = Series("trial", [x[i] for i in others], [scores[i] for i in others],
                        OTHER_COLOUR, width=0)  # fmt: skip
        top = Series("best trial", [x[best]], [scores[best]], BEST_COLOUR, width=0)
        ylabel = "score (validation loss)" if k == 0 else "score"
        drawn.append(scatter_chart(points, "", name, ylabel, width=260, height=240, log_x=log,
                                   x_labels=categories or (), highlight=top))  # fmt: skip
    return "".join(drawn)


def trials_panel(record: RunRecord) -> Section | None:
    """The trials of the search that chose this run's settings; None for a plain run."""
    rows = list(record.trials or [])
    if not rows:
        return None
    body = ""
    svg = score_charts(rows)
    if svg is not None:
        body += chart(svg, "score against each setting")
    scored = sum(row.get("score") is not None for row in rows)
    body += f"<p>{len(rows)} trials, {scored} scored; best first.</p>" + _table(rows)
    return Section("trials", "Trials", body, NOTE)
