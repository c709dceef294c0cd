"""The training report: one self-contained HTML file that opens from disk, offline.

Every figure is inline SVG (or, for the decision boundary, a PNG embedded as base64); the
style sheet is inline; no script, font or image
is fetched from anywhere, so the file can be mailed, archived or opened on a machine without a
network and look the same.

The page is a shell (header, status line, footer) around the sections of a list of panels
(:mod:`retroprop.report.panels`), each drawn from one :class:`RunRecord`.
"""

from __future__ import annotations

import datetime
import html
from collections.abc import Sequence

from retroprop.report.panels import PANELS, Panel
from retroprop.report.record import Evaluation, RunRecord

__all__ = ["build_report", "Evaluation", "RunRecord"]

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       margin: 0; background: #f6f7f9; color: #1d2530; line-height: 1.45; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 28px 40px; }
header { background: #1d2530; color: #fff; padding: 22px 28px; }
header h1 { margin: 0 0 4px; font-size: 1.6em; }
header p { margin: 0; color: #c9d1db; }
section { background: #fff; border: 1px solid #dde2e8; border-radius: 8px;
          padding: 16px 20px; margin: 18px 0; }
h2 { font-size: 1.2em; margin: 0 0 10px; }
p.note { color: #4b5563; margin: 6px 0 0; font-size: 0.92em; }
.status { padding: 10px 14px; border-radius: 6px; margin: 18px 0 0; font-weight: 600; }
.status.ok { background: #e6f4ea; color: #1e5631; }
.status.warn { background: #fff4e5; color: #7a4100; }
.status.bad { background: #fdecea; color: #8a1c1c; }
p.verdict { margin: 8px 0 0; font-size: 1.02em; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; display: block;
        max-width: 100%; overflow-x: auto; }
pre.command { white-space: pre-wrap; word-break: break-all; }
th, td { padding: 5px 14px 5px 0; text-align: left; border-bottom: 1px solid #eef0f3; }
td.num, th.num { text-align: right; padding-left: 14px; }
dl.settings { display: grid; grid-template-columns: max-content 1fr max-content 1fr;
               gap: 4px 16px; margin: 0; font-size: 0.93em; }
dl.settings dt { color: #4b5563; }
dl.settings dd { margin: 0 12px 0 0; font-variant-numeric: tabular-nums; }
.grid { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
img { max-width: 100%; height: auto; border-radius: 4px; }
.chart { display: flex; flex-wrap: wrap; gap: 12px; max-width: 100%; }
.chart svg { max-width: 100%; height: auto; background: #fff; }
pre { background: #f3f4f6; padding: 10px; border-radius: 6px; overflow-x: auto;
      font-size: 0.85em; }
footer { color: #6b7280; font-size: 0.85em; text-align: center; margin-top: 20px; }
"""


def build_report(record: RunRecord, panels: Sequence[Panel] = PANELS) -> str:
    """The report of a training run, as one self-contained HTML page.

    Parameters
    ----------
    record : RunRecord
        What the run produced: its settings, history, metrics, model, predictions, ...
    panels : sequence of callables, optional
        Each ``(record) -> Section | None``; their sections, in order, make the page (None:
        the panel does not apply to this run and is left out). Default: :data:`PANELS`.

    Returns
    -------
    str
        The HTML document.

    Examples
    --------
    >>> record = RunRecord(title="demo", status="completed 2 epochs", settings={"lr": 0.3},
    ...                    history={"loss": [0.7, 0.5]}, epochs=[1, 2],
    ...                    metrics={"train": {"loss": 0.5}})
    >>> page = build_report(record)
    >>> page.startswith("<!DOCTYPE html>"), "Gradient flow" in page, "http" in page
    (True, False, False)
    """
    sections = [section for panel in panels if (section := panel(record)) is not None]
    level = record.status_level if record.status_level in ("ok", "warn", "bad") else "ok"
    from retroprop import __version__

    title = html.escape(record.title)
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{_STYLE}</style></head><body>"
        f"<header><h1>{title}</h1>"
        f"<p>Training report written by retroprop {__version__} on {stamp}</p></header>"
        f'<main><div class="status {level}">{html.escape(record.status)}</div>'
        + (f'<p class="verdict">{html.escape(record.verdict)}</p>' if record.verdict else "")
        + "".join(section.html() for section in sections)
        + "<footer>Self-contained: every figure is embedded in this file.</footer>"
        "</main></body></html>\n"
    )
