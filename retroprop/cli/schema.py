"""The schema of a table: what kind each input column is, and how its values are parsed.

A CSV is read as text; the schema decides, once, on the rows ``train`` sees, what each column
holds, and is saved with the model. ``predict`` parses every column by that saved schema and
never guesses again, so a column of ``true``/``false`` read as booleans in training is read as
booleans in prediction too, ``'01'`` stays the category ``'01'``, and ``' 3.5'`` is the number 3.5.

==============  =======================================================================
kind            values, and how they become features
==============  =======================================================================
numeric         decimal numbers (surrounding spaces ignored); standardised
boolean         true/false, yes/no, t/f, y/n, 1/0 in any case; one-hot encoded
categorical     any other text (surrounding spaces stripped, compared exactly); one-hot
identifier      a distinct value per row (row numbers, keys, codes): left out
excluded        left out with ``--drop``, or empty in every row
==============  =======================================================================

In every kind the usual missing markers (:data:`MISSING_MARKERS`, any case) are missing values.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from retroprop.cli.errors import CLIError

__all__ = ["KINDS", "MISSING_MARKERS", "ColumnSchema", "Schema", "parse_column", "infer_kind"]

KINDS = ("numeric", "boolean", "categorical", "identifier", "excluded")
USED_KINDS = ("numeric", "boolean", "categorical")
MISSING_MARKERS = ("", "na", "n/a", "nan", "null", "none", "?", "#n/a")
TRUE_WORDS = ("true", "t", "yes", "y", "1", "1.0")
FALSE_WORDS = ("false", "f", "no", "n", "0", "0.0")
PARSING = {
    "numeric": "decimal number, surrounding spaces ignored; non-finite values are missing",
    "boolean": "true/false, yes/no, t/f, y/n, 1/0 in any case",
    "categorical": "text, surrounding spaces stripped, compared exactly",
    "identifier": "not read",
    "excluded": "not read",
}
STRAY_FRACTION = 0.05  # a numeric column may hold up to this share of words before it is text
MIN_IDENTIFIER_ROWS = 20
GROUP_ID_SHARE = 0.2  # an identifier of groups has at least this share of its rows distinct
COUNTER_STEPS = 0.9  # a row counter steps by +1 from one row to the next at least this often
# "id", "row_id", "customer key", "Unnamed: 0" (a saved pandas index), "CustomerId", "userID"
ID_NAME = re.compile(
    r"(?i:(^|[\s_.-])(id|key|uuid|guid|index|idx)$|^unnamed: ?0$)|[a-z0-9](Id|ID)$"
)


@dataclass(frozen=True)
class ColumnSchema:
    """One input column: its name, its kind, and why it is left out (identifier, excluded)."""

    name: str
    kind: str
    reason: str = ""


def _text(series: Any) -> np.ndarray:
    """The column as stripped text (object array), None where a value is missing."""
    import pandas as pd

    text = pd.Series(series, copy=False).astype(str).str.strip()
    missing = text.str.lower().isin(MISSING_MARKERS).to_numpy() | pd.isna(series).to_numpy()
    return np.where(missing, None, text.to_numpy(dtype=object))


def _numbers(text: np.ndarray) -> np.ndarray:
    """float64 of each text value (spaces inside ignored); NaN where missing or not a number."""
    import pandas as pd

    numbers = pd.to_numeric(pd.Series(text, dtype=object), errors="coerce")
    numbers = numbers.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
    retry = np.flatnonzero(np.isnan(numbers) & (text != None))  # noqa: E711
    if len(retry):  # "1 000": spaces inside a number
        compact = pd.Series(text[retry], dtype=object).str.replace(" ", "", regex=False)
        numbers[retry] = pd.to_numeric(compact, errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
    return numbers


def parse_column(series: Any, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """(parsed values, mask of values that do not fit ``kind``) of one column.

    Numeric columns give float64 with NaN for missing (and non-finite) values; boolean ones
    the text ``'True'``/``'False'``; categorical ones stripped text; missing values are NaN.

    Examples
    --------
    >>> import pandas as pd
    >>> values, bad = parse_column(pd.Series([" 3.5", "NA", "x", "1e3"]), "numeric")
    >>> values.tolist(), bad.tolist()
    ([3.5, nan, nan, 1000.0], [False, False, True, False])
    >>> parse_column(pd.Series(["yes", "FALSE", "1", "?"]), "boolean")[0].tolist()
    ['True', 'False', 'True', nan]
    >>> parse_column(pd.Series(["01", " b ", ""]), "categorical")[0].tolist()
    ['01', 'b', nan]
    """
    import pandas as pd

    if kind == "numeric" and _numeric_dtype(series):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return np.where(np.isfinite(values), values, np.nan), np.zeros(len(values), bool)
    codes, uniques = pd.factorize(series)  # parse each distinct value once; -1: NaN/None
    values, bad = _parse_distinct(pd.Series(uniques), kind)
    present = codes >= 0
    out = np.full(len(codes), np.nan, dtype=np.float64 if kind == "numeric" else object)
    out[present] = values[codes[present]]
    flagged = np.zeros(len(codes), dtype=bool)
    flagged[present] = bad[codes[present]]
    return out, flagged


def _numeric_dtype(series: Any) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _parse_distinct(series: Any, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """:func:`parse_column` of the column's distinct values."""
    import pandas as pd

    if kind == "numeric":
        text = _text(series)
        values = _numbers(text)
        bad = np.isnan(values) & (text != None)  # noqa: E711
        return np.where(np.isfinite(values), values, np.nan), bad
    if _numeric_dtype(series):  # integer codes or 0/1 flags stored as numbers (Parquet, ...)
        series = series.map(lambda v: str(int(v)) if float(v).is_integer() else str(v))
    text = _text(series)
    present = text != None  # noqa: E711 (elementwise on an object array)
    if kind == "boolean":
        words = {**dict.fromkeys(TRUE_WORDS, "True"), **dict.fromkeys(FALSE_WORDS, "False")}
        values = pd.Series(text, dtype=object).str.lower().map(words).to_numpy(dtype=object)
        bad = present & pd.isna(values)
        text = np.where(present & ~bad, values, None)
    else:
        bad = np.zeros(len(text), dtype=bool)
    return np.where(text == None, np.nan, text), bad  # noqa: E711


def _looks_boolean(values: np.ndarray) -> bool:
    import pandas as pd

    lowered = set(pd.unique(pd.Series(values, dtype=object).str.lower()))
    return lowered <= set(TRUE_WORDS + FALSE_WORDS) and bool(lowered - {"1", "0", "1.0", "0.0"})


def _identifier_reason(name: str, kind: str, distinct: int, numbers: np.ndarray) -> str:
    """Why a column is an identifier ("" when it is not one).

    ``numbers`` are the column's present values as numbers (NaN for words), one per row, in
    the file's order. An identifier is one of:

    - a value per row: text with a distinct value in 95% of the rows, or distinct whole numbers
      that are consecutive or whose column is named like an identifier (:data:`ID_NAME`);
    - a column named like an identifier ("Individual ID") whose codes repeat a few times each
      (at least :data:`GROUP_ID_SHARE` of the rows distinct): the same individual seen again;
    - whole numbers counting 1, 2, 3... from row to row (:data:`COUNTER_STEPS` of the steps
      are +1) that start again, with at least :data:`GROUP_ID_SHARE` of the rows distinct: a
      row number within groups ("Sample Number"). A month or a weekday counts up too, but
      takes few distinct values: it stays a feature.
    """
    count = len(numbers)
    if count < MIN_IDENTIFIER_ROWS:
        return ""
    if kind == "categorical" and distinct >= 0.95 * count:
        return f"{distinct:,} distinct values in {count:,} rows"
    whole = kind == "numeric" and bool(np.all(np.mod(numbers, 1) == 0))
    if kind == "numeric" and not whole:
        return ""
    named = bool(ID_NAME.search(name))
    if whole and distinct == count:
        steps = np.diff(np.sort(numbers))
        if named or (len(steps) and np.all(steps == 1)):
            return f"whole numbers, a distinct one in each of {count:,} rows"
    if distinct < GROUP_ID_SHARE * count:
        return ""
    if named:
        each = count / distinct
        return f"named as one: {distinct:,} distinct values in {count:,} rows ({each:.1f} each)"
    steps = np.diff(numbers)
    restarts = int(np.sum(steps < 0))
    if whole and restarts and np.mean(steps == 1) >= COUNTER_STEPS:
        return (
            f"whole numbers counting 1, 2, 3... from row to row, starting again {restarts:,} "
            "time(s): a row number within groups"
        )
    return ""


def infer_kind(series: Any, identifiers: bool = True, source: str | None = None) -> ColumnSchema:
    """The kind of one column, from all its values.

    Raises
    ------
    CLIError
        When a column of numbers holds a few words (a typo, or a missing marker this parser
        does not know): naming the column, the words and their rows.
    """
    import pandas as pd

    from retroprop.cli.tabular import describe_rows

    name = str(series.name)
    if pd.api.types.is_bool_dtype(series):
        return ColumnSchema(name, "boolean")
    if pd.api.types.is_numeric_dtype(series):
        numbers = series.to_numpy(dtype=np.float64, na_value=np.nan)
        numbers = numbers[np.isfinite(numbers)]
        if len(numbers) == 0:
            return ColumnSchema(name, "excluded", "empty in every row")
        distinct = len(pd.unique(numbers))
        reason = _identifier_reason(name, "numeric", distinct, numbers) if identifiers else ""
        return ColumnSchema(name, "identifier", reason) if reason else ColumnSchema(name, "numeric")
    codes, uniques = pd.factorize(series)  # work on each distinct value once; -1: NaN/None
    text = _text(pd.Series(uniques))  # of each distinct value: None where missing
    known = text != None  # noqa: E711
    rows = np.flatnonzero((codes >= 0) & known[np.maximum(codes, 0)])
    if len(rows) == 0:
        return ColumnSchema(name, "excluded", "empty in every row")
    distinct = pd.unique(text[known])
    if _looks_boolean(distinct):
        return ColumnSchema(name, "boolean")
    unique_numbers = _numbers(text)
    numbers, words = unique_numbers[codes[rows]], np.isnan(unique_numbers[codes[rows]])
    kind = "categorical"
    if not words.any():
        leading_zero = pd.Series(distinct, dtype=object).str.match(r"[+-]?0\d").any()
        kind = "categorical" if leading_zero else "numeric"
    elif words.sum() <= STRAY_FRACTION * len(rows) and len(rows) >= MIN_IDENTIFIER_ROWS:
        shown = ", ".join(dict.fromkeys(repr(w) for w in text[codes[rows[words]]][:5]))
        raise CLIError(
            f"column {name!r} holds numbers but also {int(words.sum())} word(s): {shown} at "
            f"{describe_rows(rows[words], source)}",
            hint=f"write missing values as NA or leave them empty, or leave the column out "
            f"with --drop {shlex.quote(name)}",
        )
    reason = _identifier_reason(name, kind, len(distinct), numbers) if identifiers else ""
    return ColumnSchema(name, "identifier", reason) if reason else ColumnSchema(name, kind)


@dataclass
class Schema:
    """Every input column's kind, in the table's order; saved with the model as plain JSON.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"flag": ["true", "False"], "size": ["1", " 2.5"], "z": ["01", "7"]})
    >>> schema = Schema.infer(table)
    >>> [(c.name, c.kind) for c in schema.columns]
    [('flag', 'boolean'), ('size', 'numeric'), ('z', 'categorical')]
    >>> Schema.from_json(schema.to_json()) == schema
    True
    """

    columns: list[ColumnSchema] = field(default_factory=list)

    @classmethod
    def infer(
        cls,
        frame: Any,
        keep: Sequence[str] = (),
        dropped: Sequence[str] = (),
        source: str | None = None,
    ) -> Schema:
        """Decide each column's kind; ``keep`` columns are never identifiers.

        Raises
        ------
        CLIError
            A ``keep`` column not in the table, or a numeric column with stray words.
        """
        absent = [k for k in keep if k not in frame.columns]
        if absent:
            raise CLIError(
                f"--keep: no column {absent[0]!r} in the data",
                hint=f"its columns are: {', '.join(map(repr, list(frame.columns)[:40]))}",
            )
        columns = [
            infer_kind(frame[name], identifiers=name not in keep, source=source)
            for name in frame.columns
        ]
        columns += [ColumnSchema(str(name), "excluded", "--drop") for name in dropped]
        return cls(columns)

    @property
    def used(self) -> list[str]:
        """The columns the model reads, in order."""
        return [c.name for c in self.columns if c.kind in USED_KINDS]

    def kind(self, name: str) -> str:
        """The kind of column ``name``."""
        return next(c.kind for c in self.columns if c.name == name)

    def left_out(self) -> list[ColumnSchema]:
        """The identifier and excluded columns."""
        return [c for c in self.columns if c.kind not in USED_KINDS]

    def to_json(self) -> dict[str, Any]:
        """Plain JSON: the missing markers and, per column, its kind and how it is parsed."""
        return {
            "missing_markers": list(MISSING_MARKERS),
            "columns": [
                {"name": c.name, "kind": c.kind, "parsing": PARSING[c.kind]}
                | ({"reason": c.reason} if c.reason else {})
                for c in self.columns
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Schema:
        """Rebuild from :meth:`to_json`'s output.

        Raises
        ------
        ValueError
            An unknown kind.
        """
        columns = []
        for entry in data["columns"]:
            kind = str(entry["kind"])
            if kind not in KINDS:
                raise ValueError(f"unknown column kind {kind!r} for column {entry['name']!r}")
            columns.append(ColumnSchema(str(entry["name"]), kind, str(entry.get("reason", ""))))
        return cls(columns)
