"""Tables in, arrays out: reading CSV/Parquet, checking for missing values, and the feature
preprocessing a model is saved with.

Numeric columns are standardised and categorical ones (text, booleans) one-hot encoded, by
scikit-learn's ``StandardScaler`` and ``OneHotEncoder`` fitted on the training rows only. What they
learned (means, scales, categories, column order) is kept as plain JSON in the model's metadata,
never pickled, and :meth:`Preprocessing.transform` applies it with NumPy, at training time and
at prediction time alike, so both see exactly the same features.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from retroprop.cli.errors import CLIError

__all__ = [
    "read_table",
    "split_target",
    "missing_mask",
    "describe_rows",
    "is_numeric_column",
    "Preprocessing",
]

PARQUET_SUFFIXES = (".parquet", ".pq")


def read_table(path: str | os.PathLike[str], text_columns: Sequence[str] = ()) -> Any:
    """Read a CSV (or, with pyarrow installed, a Parquet) file into a DataFrame.

    Parameters
    ----------
    path : path-like
    text_columns : sequence of str
        Columns to read as text whatever they look like (the categorical columns of a model).

    Raises
    ------
    CLIError
        When the file is missing, empty, unreadable or not a table.
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
            for column in text_columns:
                if column in frame.columns:
                    frame[column] = frame[column].map(lambda v: v if _is_missing(v) else str(v))
        else:
            dtypes = {column: str for column in text_columns}
            frame = pd.read_csv(path, dtype=dtypes or None, skipinitialspace=True)
    except pd.errors.EmptyDataError as error:
        raise CLIError(f"{path} is empty") from error
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
        raise CLIError(f"cannot read {path} as a table: {str(error).splitlines()[0]}") from error
    except OSError as error:
        raise CLIError(f"cannot read {path}: {error.strerror or error}") from error
    frame.columns = [str(column).strip() for column in frame.columns]
    if len(frame) == 0:
        raise CLIError(f"{path} has a header but no rows")
    return frame


def _read_parquet(path: Path) -> Any:
    import pandas as pd

    try:
        return pd.read_parquet(path)
    except ImportError as error:
        raise CLIError(
            f"reading {path.name} needs a Parquet engine",
            hint="install one with `pip install pyarrow`, or save the data as CSV",
        ) from error


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


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


def missing_mask(frame: Any) -> np.ndarray:
    """(rows, columns) mask of missing cells: NaN/None anywhere, inf in numeric columns."""
    mask = frame.isna().to_numpy().copy()
    for j, name in enumerate(frame.columns):
        if is_numeric_column(frame[name]):
            values = frame[name].to_numpy(dtype=np.float64, na_value=np.nan)
            mask[:, j] |= np.isinf(values)
    return mask


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


@dataclass
class Preprocessing:
    """The feature preprocessing of a model: what each input column becomes.

    Attributes
    ----------
    columns : list of str
        The input columns, in the order they are encoded.
    numeric : dict
        ``{column: [mean, scale]}``: standardised as (x - mean) / scale.
    categorical : dict
        ``{column: [category, ...]}``: one 0/1 feature per category (unknown ones: all 0).

    Examples
    --------
    >>> import pandas as pd
    >>> train = pd.DataFrame({"age": [20.0, 40.0], "colour": ["red", "blue"]})
    >>> prep = Preprocessing.fit(train)
    >>> prep.feature_names
    ['age', 'colour=blue', 'colour=red']
    >>> prep.transform(pd.DataFrame({"age": [30.0], "colour": ["red"]})).tolist()
    [[0.0, 0.0, 1.0]]
    >>> Preprocessing.from_json(prep.to_json()) == prep
    True
    """

    columns: list[str]
    numeric: dict[str, list[float]] = field(default_factory=dict)
    categorical: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def fit(cls, features: Any) -> Preprocessing:
        """Fit StandardScaler and OneHotEncoder on the training rows ``features``."""
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        columns = [str(c) for c in features.columns]
        numeric = [c for c in columns if is_numeric_column(features[c])]
        categorical = [c for c in columns if c not in numeric]
        prep = cls(columns=columns)
        if numeric:
            scaler = StandardScaler().fit(features[numeric].to_numpy(dtype=np.float64))
            for name, mean, scale in zip(numeric, scaler.mean_, scaler.scale_, strict=True):
                prep.numeric[name] = [float(mean), float(scale)]
        if categorical:
            text = features[categorical].astype(str).to_numpy()
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
            else:
                names.extend(f"{column}={c}" for c in self.categorical[column])
        return names

    def transform(self, features: Any, dtype: Any = np.float32) -> np.ndarray:
        """Encode a table's rows with the fitted means, scales and categories.

        Raises
        ------
        CLIError
            When a column the model needs is missing, or a numeric column holds text.
        """
        import pandas as pd

        absent = [c for c in self.columns if c not in features.columns]
        if absent:
            raise CLIError(
                f"the data lacks the column{'s' if len(absent) > 1 else ''} "
                f"{_column_list(absent)} the model was trained on",
                hint=f"the model needs: {_column_list(self.columns)}",
            )
        blocks = []
        for column in self.columns:
            values = features[column]
            if column in self.numeric:
                numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
                bad = np.isnan(numbers) & ~values.isna().to_numpy()
                if bad.any():
                    example = values[bad].iloc[0]
                    raise CLIError(
                        f"column {column!r} should hold numbers but has {example!r} at "
                        f"{describe_rows(np.flatnonzero(bad))}"
                    )
                mean, scale = self.numeric[column]
                blocks.append(((numbers - mean) / scale)[:, None])
            else:
                categories = np.asarray(self.categorical[column], dtype=object)
                text = values.astype(str).to_numpy(dtype=object)
                blocks.append((text[:, None] == categories[None, :]).astype(np.float64))
        return np.ascontiguousarray(np.concatenate(blocks, axis=1), dtype=dtype)

    def unknown_categories(self, features: Any) -> dict[str, list[str]]:
        """Per categorical column, the values not seen in training (encoded as all zeros)."""
        unknown = {}
        for column, categories in self.categorical.items():
            seen = set(categories)
            values = features[column].dropna().astype(str).unique().tolist()
            new = sorted(v for v in values if v not in seen)
            if new:
                unknown[column] = new
        return unknown

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data (no pickle)."""
        return {
            "columns": list(self.columns),
            "numeric": {k: list(v) for k, v in self.numeric.items()},
            "categorical": {k: list(v) for k, v in self.categorical.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Preprocessing:
        """Rebuild from :meth:`to_json`'s output."""
        return cls(
            columns=[str(c) for c in data["columns"]],
            numeric={str(k): [float(x) for x in v] for k, v in data.get("numeric", {}).items()},
            categorical={
                str(k): [str(x) for x in v] for k, v in data.get("categorical", {}).items()
            },
        )
