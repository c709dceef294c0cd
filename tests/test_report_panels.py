"""The report as a shell around panels: a panel is one function and one list entry."""

from __future__ import annotations

import re
from dataclasses import replace

from retroprop import nn
from retroprop.report import RunRecord, build_report
from retroprop.report.gradient_flow import GradientFlow
from retroprop.report.panels import PANELS
from retroprop.report.sections import Section

RECORD = RunRecord(
    title="retroprop: panels",
    status="Completed 2 epochs.",
    settings={"learning rate": 0.1},
    history={"loss": [0.7, 0.5]},
    epochs=[1, 2],
    metrics={"train": {"loss": 0.5}},
)


def section_ids(page: str) -> list[str]:
    return re.findall(r'<section id="([^"]+)"', page)


def test_the_default_panels_in_order_and_those_that_do_not_apply_left_out():
    assert section_ids(build_report(RECORD)) == ["results", "settings", "curves"]
    full = replace(RECORD, model=nn.mlp([2, 3, 1]), gradient_flow=GradientFlow(table="layer 0"))
    assert section_ids(build_report(full)) == [
        "results",
        "settings",
        "curves",
        "network",
        "gradient-flow",
    ]
    no_epochs = replace(RECORD, epochs=[], history={})
    assert "curves" not in section_ids(build_report(no_epochs))


def test_a_new_panel_is_one_function_and_one_list_entry():
    def epochs_panel(record: RunRecord) -> Section | None:
        if not record.epochs:
            return None
        return Section("epochs", "Epochs <run>", f"<p>{len(record.epochs)} epochs</p>", "a note")

    page = build_report(RECORD, [*PANELS, epochs_panel])
    assert section_ids(page)[-1] == "epochs"
    assert "<h2>Epochs &lt;run&gt;</h2><p>2 epochs</p>" in page and "a note" in page
    assert section_ids(build_report(RECORD, [epochs_panel])) == ["epochs"]
    empty = replace(RECORD, epochs=[])
    assert section_ids(build_report(empty, [epochs_panel])) == []
