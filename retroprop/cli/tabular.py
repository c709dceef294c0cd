"""Tables in, arrays out: reading CSV/Parquet and the feature preprocessing a model is saved with.

A CSV is read as text; the schema (:mod:`retroprop.cli.schema`) parses each column by its kind.
Missing numeric values are imputed with the training median (plus a missing-indicator feature),
missing categorical ones get a category of their own; numeric columns are then standardised and
categorical ones (text, booleans) one-hot encoded, by scikit-learn's ``SimpleImputer``,
``StandardScaler`` and ``OneHotEncoder`` fitted on the training rows only. What they learned
(medians, means, scales, categories, column order, the schema) is kept as plain JSON in the
model's metadata, never pickled, and :meth:`Preprocessing.transform` applies it with NumPy, at
training time and at prediction time alike, so both see exactly the same features.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from retroprop.cli.errors import CLIError
from retroprop.cli.schema import Schema, parse_column

__all__ = [
    "read_table",
    "split_target",
    "describe_rows",
    "is_numeric_column",
    "Preprocessing",
]

PARQUET_SUFFIXES = (".parquet", ".pq")


def read_table(path: str | os.PathLike[str]) -> Any:
    """Read a CSV (as text, every cell a string) or, with pyarrow installed, a Parquet file.

    CSV cells stay text so that the schema (:mod:`retroprop.cli.schema`) decides how each column
    is parsed, the same way at training and at prediction.

    Raises
    ------
    CLIError
        When the file is missing, empty, unreadable, not a table, or has duplicate column names.
    """
    import pandas as pd

    path = Path(path)
    if not path.exists():
        raise CLIError(f"no such file: {path}")
    if path.is_dir():
        raise CLIError(f"{path} is a directory, not a data file")
    try:
        if path.suffix.lower() in PARQUET_SUFFIXES:
            frame = _read_parquet(path)
        else:
            # header=None: pandas would rename a repeated name 'a' to 'a.1' without a word
            cells = pd.read_csv(
                path, header=None, dtype=str, keep_default_na=False, skipinitialspace=True
            )
            frame = cells.iloc[1:].reset_index(drop=True)
            frame.columns = [
                str(name).strip() or f"Unnamed: {i}"  # as pandas names a blank header
                for i, name in enumerate(cells.iloc[0].tolist())
            ]
    except pd.errors.EmptyDataError as error:
        raise CLIError(f"{path} is empty") from error
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
        raise CLIError(f"cannot read {path} as a table: {str(error).splitlines()[0]}") from error
    except OSError as error:
        raise CLIError(f"cannot read {path}: {error.strerror or error}") from error
    frame.columns = [str(column).strip() for column in frame.columns]
    _refuse_duplicates(list(frame.columns), path)
    if len(frame) == 0:
        raise CLIError(f"{path} has a header but no rows")
    return frame


def _refuse_duplicates(names: list[str], path: Path) -> None:
    """CLIError naming the column names given twice or more, with their positions (1-based)."""
    seen: dict[str, list[int]] = {}
    for position, name in enumerate(names, start=1):
        seen.setdefault(name, []).append(position)
    twice = {name: at for name, at in seen.items() if len(at) > 1}
    if twice:
        shown = "; ".join(
            f"{name!r} (columns {', '.join(map(str, at))})" for name, at in twice.items()
        )
        raise CLIError(
            f"{path.name} has duplicate column names: {shown}",
            hint="give each column its own name",
        )


def _read_parquet(path: Path) -> Any:
    import pandas as pd

    try:
        return pd.read_parquet(path)
    except ImportError as error:
        raise CLIError(
            f"reading {path.name} needs a Parquet engine",
            hint="install one with `pip install pyarrow`, or save the data as CSV",
        ) from error


def _column_list(columns: Sequence[str]) -> str:
    shown = ", ".join(repr(c) for c in list(columns)[:40])
    return shown + (f" ... ({len(columns)} in all)" if len(columns) > 40 else "")


def split_target(frame: Any, target: str, drop: Sequence[str] = ()) -> tuple[Any, Any]:
    """(features, target) from a table, without the ``drop`` columns.

    Raises
    ------
    CLIError
        When the target or a dropped column is not in the table (listing those there are), or no
        feature column is left.
    """
    columns = list(frame.columns)
    for name, what in [(target, "target column"), *((d, "column to drop") for d in drop)]:
        if name not in columns:
            raise CLIError(
                f"no {what} {name!r} in the data", hint=f"its columns are: {_column_list(columns)}"
            )
    features = frame.drop(columns=[target, *drop])
    if features.shape[1] == 0:
        raise CLIError(f"no feature column left besides the target {target!r}")
    return features, frame[target]


def is_numeric_column(column: Any) -> bool:
    """Numbers are standardised; text, booleans and categories are one-hot encoded."""
    import pandas as pd

    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def describe_rows(rows: np.ndarray, source: str | None = None, limit: int = 8) -> str:
    """'rows 3, 17' (0-based) and, for a file, the line numbers an editor shows.

    Examples
    --------
    >>> describe_rows(np.array([3, 17]), "data.csv")
    'rows 3, 17 (lines 5, 19 of data.csv)'
    >>> describe_rows(np.arange(12))
    'rows 0, 1, 2, 3, 4, 5, 6, 7 and 4 more'
    """
    shown = [int(r) for r in rows[:limit]]
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    text = f"row{'s' if len(rows) > 1 else ''} {', '.join(map(str, shown))}{more}"
    if source:
        lines = ", ".join(str(r + 2) for r in shown)  # line 1 is the header
        text += f" (line{'s' if len(rows) > 1 else ''} {lines}{more and ', ...'} of {source})"
    return text


MISSING_CATEGORY = "(missing)"


def _absent_columns(features: Any, needed: Sequence[str]) -> None:
    absent = [c for c in needed if c not in features.columns]
    if absent:
        raise CLIError(
            f"the data lack{'' if len(absent) > 1 else 's'} the column"
            f"{'s' if len(absent) > 1 else ''} {_column_list(absent)} the model was trained on",
            hint=f"the model needs: {_column_list(list(needed))}",
        )


@dataclass
class Preprocessing:
    """The feature preprocessing of a model: how each input column is parsed and encoded.

    Fitted on the training rows by scikit-learn's ``SimpleImputer`` (median of numeric columns,
    with a missing-indicator feature for a column that had gaps in training; a ``"(missing)"``
    category for categorical ones), ``StandardScaler`` and ``OneHotEncoder``; what they learned
    is kept as plain JSON and applied with NumPy.

    Attributes
    ----------
    columns : list of str
        The input columns the model reads, in the order they are encoded.
    numeric : dict
        ``{column: [mean, scale]}``: standardised as (x - mean) / scale, after imputation.
    categorical : dict
        ``{column: [category, ...]}``: one 0/1 feature per category (unknown ones: all 0).
    medians : dict
        ``{column: median}`` of the numeric columns' training values, for missing values.
    indicators : list of str
        The numeric columns with a 0/1 "is missing" feature after their value.
    ranges : dict
        ``{column: [min, max]}`` of the numeric columns' training values: a new value beyond
        them is clipped to the nearest bound (a network extrapolates unreliably beyond what it
        saw, e.g. one ReLU unit's slope times a typo), and ``predict`` says how many rows were.
    schema : Schema or None
        Every input column's kind and parsing; None for a model saved before schemas existed.

    Examples
    --------
    >>> import pandas as pd
    >>> train = pd.DataFrame({"age": [20.0, 40.0, None], "colour": ["red", "blue", "red"]})
    >>> prep = Preprocessing.fit(train)
    >>> prep.feature_names
    ['age', 'age (missing)', 'colour=blue', 'colour=red']
    >>> prep.transform(pd.DataFrame({"age": ["NA"], "colour": ["red"]})).tolist()
    [[0.0, 1.0, 0.0, 1.0]]
    >>> Preprocessing.from_json(prep.to_json()) == prep
    True
    """

    columns: list[str]
    numeric: dict[str, list[float]] = field(default_factory=dict)
    categorical: dict[str, list[str]] = field(default_factory=dict)
    medians: dict[str, float] = field(default_factory=dict)
    indicators: list[str] = field(default_factory=list)
    schema: Schema | None = None
    ranges: dict[str, list[float]] = field(default_factory=dict)

    @classmethod
    def fit(cls, features: Any, schema: Schema | None = None) -> Preprocessing:
        """Fit the imputers, StandardScaler and OneHotEncoder on the training rows ``features``.

        ``schema`` (default: inferred from ``features``) says how each column is parsed.
        """
        from sklearn.impute import SimpleImputer
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        schema = schema or Schema.infer(features, keep=list(features.columns))
        prep = cls(columns=schema.used, schema=schema)
        parsed = prep.parse(features)
        numeric = [c for c in prep.columns if schema.kind(c) == "numeric"]
        categorical = [c for c in prep.columns if c not in numeric]
        if numeric:
            values = parsed[numeric].to_numpy(dtype=np.float64)
            imputer = SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)
            imputer.fit(values)
            filled = imputer.transform(values)[:, : len(numeric)]
            scaler = StandardScaler().fit(filled)
            for j, name in enumerate(numeric):
                prep.numeric[name] = [float(scaler.mean_[j]), float(scaler.scale_[j])]
                prep.medians[name] = float(imputer.statistics_[j])
                prep.ranges[name] = [float(filled[:, j].min()), float(filled[:, j].max())]
            if imputer.indicator_ is not None:
                prep.indicators = [numeric[j] for j in imputer.indicator_.features_]
        if categorical:
            imputer = SimpleImputer(strategy="constant", fill_value=MISSING_CATEGORY)
            text = imputer.fit_transform(parsed[categorical].astype(object))
            encoder = OneHotEncoder(handle_unknown="ignore").fit(text)
            for name, categories in zip(categorical, encoder.categories_, strict=True):
                prep.categorical[name] = [str(c) for c in categories]
        return prep

    @property
    def feature_names(self) -> list[str]:
        """The names of the encoded features, the model's inputs, in order."""
        names = []
        for column in self.columns:
            if column in self.numeric:
                names.append(column)
                if column in self.indicators:
                    names.append(f"{column} (missing)")
            else:
                names.extend(f"{column}={c}" for c in self.categorical[column])
        return names

    def parse(self, features: Any, source: str | None = None) -> Any:
        """The model's columns parsed by the schema: float64 (NaN: missing) or text (NaN).

        Raises
        ------
        CLIError
            When a column the model needs is absent, or holds a value its kind cannot parse
            (a word in a numeric column, 'maybe' in a boolean one), naming column and rows.
        """
        import pandas as pd

        _absent_columns(features, self.columns)
        parsed = {}
        for column in self.columns:
            if self.schema is not None:
                kind = self.schema.kind(column)
            else:  # saved before schemas: as pandas read it then
                kind = "numeric" if column in self.numeric else "categorical"
            values, bad = parse_column(features[column], kind)
            if bad.any():
                example = features[column][bad].iloc[0]
                what = "numbers" if kind == "numeric" else f"{kind} values"
                raise CLIError(
                    f"column {column!r} should hold {what} but has {example!r} at "
                    f"{describe_rows(np.flatnonzero(bad), source)}"
                )
            parsed[column] = values
        return pd.DataFrame(parsed, index=range(len(features)))

    def transform(
        self, features: Any, dtype: Any = np.float32, source: str | None = None
    ) -> np.ndarray:
        """Parse a table's rows by the schema and encode them with what was fitted.

        Missing numeric values become the training median (and set the column's missing
        indicator); missing categorical values become the ``"(missing)"`` category.

        Raises
        ------
        CLIError
            As :meth:`parse`; or missing values for a model saved before they were handled.
        """
        return self.encode(self.parse(features, source), dtype, source)

    def encode(self, parsed: Any, dtype: Any = np.float32, source: str | None = None) -> np.ndarray:
        """Encode rows already parsed by :meth:`parse` (see :meth:`transform`)."""
        import pandas as pd

        blocks = []
        for column in self.columns:
            values = parsed[column].to_numpy()
            if column in self.numeric:
                numbers = values.astype(np.float64)
                gaps = np.isnan(numbers)
                if gaps.any() and column not in self.medians:
                    raise CLIError(
                        f"column {column!r} has missing values at "
                        f"{describe_rows(np.flatnonzero(gaps), source)}, and this model was "
                        "saved by a retroprop that did not fill them in",
                        hint="fill them in, or train the model again with this version",
                    )
                numbers = np.where(gaps, self.medians.get(column, 0.0), numbers)
                if column in self.ranges:
                    numbers = np.clip(numbers, *self.ranges[column])
                mean, scale = self.numeric[column]
                blocks.append(((numbers - mean) / scale)[:, None])
                if column in self.indicators:
                    blocks.append(gaps[:, None].astype(np.float64))
            else:
                categories = self.categorical[column]
                text = pd.Series(values, dtype=object).fillna(MISSING_CATEGORY)
                codes = pd.Index(categories).get_indexer(text)  # -1: unknown
                one_hot = np.zeros((len(text), len(categories) + 1))
                one_hot[np.arange(len(text)), codes] = 1.0
                blocks.append(one_hot[:, :-1])
        return np.ascontiguousarray(np.concatenate(blocks, axis=1), dtype=dtype)

    def unknown_counts(self, parsed: Any) -> dict[str, dict[str, int]]:
        """Per categorical column of rows parsed by :meth:`parse`, each value not seen in
        training and how many rows hold it (those rows match no category of that column: all
        its features are 0)."""
        unknown = {}
        for column, categories in self.categorical.items():
            seen = set(categories)
            values = parsed[column].fillna(MISSING_CATEGORY)
            counts = values[~values.isin(seen)].value_counts()
            if len(counts):
                unknown[column] = {str(k): int(n) for k, n in sorted(counts.items())}
        return unknown

    def out_of_range_counts(self, parsed: Any) -> dict[str, int]:
        """Per numeric column of rows parsed by :meth:`parse`, how many hold a value beyond its
        training range (those values are clipped to the range by :meth:`encode`)."""
        counts = {}
        for column, (low, high) in self.ranges.items():
            numbers = parsed[column].to_numpy(dtype=np.float64)
            outside = int(((numbers < low) | (numbers > high)).sum())  # NaN: neither
            if outside:
                counts[column] = outside
        return counts

    def unknown_categories(self, features: Any) -> dict[str, list[str]]:
        """Per categorical column, the values not seen in training (encoded as all zeros)."""
        counts = self.unknown_counts(self.parse(features))
        return {column: list(values) for column, values in counts.items()}

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data (no pickle)."""
        data = {
            "columns": list(self.columns),
            "numeric": {k: list(v) for k, v in self.numeric.items()},
            "categorical": {k: list(v) for k, v in self.categorical.items()},
            "medians": dict(self.medians),
            "indicators": list(self.indicators),
            "ranges": {k: list(v) for k, v in self.ranges.items()},
        }
        if self.schema is not None:
            data["schema"] = self.schema.to_json()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Preprocessing:
        """Rebuild from :meth:`to_json`'s output (or an older one, without a schema).

        Raises
        ------
        KeyError, TypeError, ValueError
            When ``data`` is not such an output.
        """
        schema = data.get("schema")
        return cls(
            columns=[str(c) for c in data["columns"]],
            numeric={str(k): [float(x) for x in v] for k, v in data.get("numeric", {}).items()},
            categorical={
                str(k): [str(x) for x in v] for k, v in data.get("categorical", {}).items()
            },
            medians={str(k): float(v) for k, v in data.get("medians", {}).items()},
            indicators=[str(c) for c in data.get("indicators", [])],
            schema=None if schema is None else Schema.from_json(schema),
            ranges={str(k): [float(x) for x in v] for k, v in data.get("ranges", {}).items()},
        )
