"""The data summary of a run: each column's kind, missing values and what was done with them,
and the class balance; printed by ``train`` and shown in the report's "Data" panel.

The summary is plain JSON data (a dict), so it can be saved and drawn without this module.
"""

from __future__ import annotations

import shlex
from typing import Any

from retroprop.cli.schema import USED_KINDS, Schema, parse_column

__all__ = ["summarise_data", "summary_lines", "MOSTLY_EMPTY"]

MOSTLY_EMPTY = 0.5  # a column missing in at least this share of rows is named with a suggestion


def _note(name: str, kind: str, reason: str, missing: int, rows: int) -> str:
    if kind == "identifier":
        return f"{reason}; --keep {shlex.quote(name)} to use it"
    if kind == "excluded":
        return reason
    if not missing:
        return ""
    filled = "median + missing indicator" if kind == "numeric" else "own '(missing)' category"
    if missing >= MOSTLY_EMPTY * rows:
        return f"mostly empty ({missing / rows:.0%}): {filled}; consider --drop {shlex.quote(name)}"
    return filled


def summarise_data(
    schema: Schema, features: Any, parsed: Any, target: Any, target_values: Any
) -> dict:
    """The summary of all rows of ``features`` and their parsed ``target_values``.

    Parameters
    ----------
    schema : Schema
    features : DataFrame
        The input columns as read (before ``--dropna``).
    parsed : DataFrame
        The used columns of ``features`` parsed by ``schema``.
    target : Target
        The inferred target (task, class names).
    target_values : Series
        The parsed target values (NaN where missing).

    Returns
    -------
    dict
        ``{"rows", "columns": [{"name", "kind", "missing", "distinct", "note"}], "target":
        {"name", "task", "missing", "classes": {class: rows}}}``.
    """
    import pandas as pd

    rows = len(features)
    columns = []
    for column in schema.columns:
        entry: dict[str, Any] = {"name": column.name, "kind": column.kind}
        if column.name in parsed.columns:
            present = parsed[column.name].dropna()
            entry["missing"] = int(rows - len(present))
            entry["distinct"] = int(present.nunique())
        elif column.name in features.columns:
            present = pd.Series(parse_column(features[column.name], "categorical")[0]).dropna()
            entry["missing"] = int(rows - len(present))
            entry["distinct"] = int(present.nunique())
        else:
            entry["missing"] = entry["distinct"] = None
        entry["note"] = _note(column.name, column.kind, column.reason, entry["missing"] or 0, rows)
        columns.append(entry)
    known = pd.Series(target_values).dropna()
    summary_target: dict[str, Any] = {
        "name": target.name,
        "task": target.task,
        "missing": int(len(target_values) - len(known)),
    }
    if target.classification:
        from retroprop.cli.target import _class_name

        counts = known.map(_class_name).value_counts()  # rows --dropna left out count too
        summary_target["classes"] = {c: int(counts.get(c, 0)) for c in target.classes}
    return {"rows": rows, "columns": columns, "target": summary_target}


def summary_lines(summary: dict) -> list[str]:
    """The summary in a few terminal lines: kinds, columns left out, missing values, classes.

    Examples
    --------
    >>> summary = {"rows": 10, "columns": [
    ...     {"name": "id", "kind": "identifier", "missing": 0, "distinct": 10,
    ...      "note": "10 distinct values in 10 rows; --keep id to use it"},
    ...     {"name": "age", "kind": "numeric", "missing": 6, "distinct": 4,
    ...      "note": "mostly empty (60%): median + missing indicator; consider --drop age"}],
    ...     "target": {"name": "y", "task": "binary", "missing": 0,
    ...                "classes": {"no": 7, "yes": 3}}}
    >>> print("\\n".join(summary_lines(summary)))
    Columns: 1 numeric
    Left out: 'id' (identifier: 10 distinct values in 10 rows; --keep id to use it)
    Missing values (of 10 rows): 'age' 6 (mostly empty (60%): median + missing indicator; consider --drop age)
    Classes of 'y': no 7 (70.0%), yes 3 (30.0%)
    """  # noqa: E501
    columns = summary["columns"]
    counts: dict[str, int] = {}
    for column in columns:
        if column["kind"] in USED_KINDS:
            counts[column["kind"]] = counts.get(column["kind"], 0) + 1
    lines = ["Columns: " + ", ".join(f"{n} {kind}" for kind, n in counts.items())]
    for column in columns:
        if column["kind"] not in USED_KINDS:
            lines.append(f"Left out: {column['name']!r} ({column['kind']}: {column['note']})")
    gaps = [c for c in columns if c["kind"] in USED_KINDS and c["missing"]]
    shown = ", ".join(f"{c['name']!r} {c['missing']:,} ({c['note']})" for c in gaps[:12])
    more = f" and {len(gaps) - 12} more columns" if len(gaps) > 12 else ""
    lines.append(f"Missing values (of {summary['rows']:,} rows): {shown or 'none'}{more}")
    target = summary["target"]
    if target.get("classes"):
        total = sum(target["classes"].values()) or 1
        balance = ", ".join(
            f"{name} {n:,} ({n / total:.1%})" for name, n in list(target["classes"].items())[:10]
        )
        lines.append(f"Classes of {target['name']!r}: {balance}")
    return lines
