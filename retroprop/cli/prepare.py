"""From ``--dataset`` or ``--data``/``--target`` to the arrays ``fit`` trains on.

Load, decide each column's kind (the schema: identifiers are left out unless ``--keep``), parse
the columns by it, refuse rows without a target (or drop every row with a gap, ``--dropna``),
work out the task from the target, split into seeded, stratified train / validation / test
rows, then fit the preprocessing on the training rows only and apply it to every split.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from retroprop.cli.data_summary import summarise_data
from retroprop.cli.errors import CLIError
from retroprop.cli.schema import Schema, infer_kind, parse_column
from retroprop.cli.tabular import Preprocessing, describe_rows, split_target
from retroprop.cli.target import Target

__all__ = ["PreparedData", "prepare_data", "split_indices", "SPLITS"]

SPLITS = ("train", "validation", "test")


@dataclass
class PreparedData:
    """Everything a run needs from its data.

    Attributes
    ----------
    source : str
        The dataset name or the file's name (for the output folder and the report).
    description : str
    target : Target
    preprocessing : Preprocessing
    frames : dict
        Split name -> the raw feature rows (a DataFrame); empty splits are left out.
    targets : dict
        Split name -> the raw target values (class names or numbers).
    X : dict
        Split name -> the encoded features (float32), the model's inputs.
    dropped_rows : int
        Rows removed by ``--dropna``.
    summary : dict
        Each column's kind and missing values, and the class balance (all rows, before
        ``--dropna``): see :func:`retroprop.cli.data_summary.summarise_data`.
    """

    source: str
    description: str
    target: Target
    preprocessing: Preprocessing
    frames: dict[str, Any] = field(default_factory=dict)
    targets: dict[str, Any] = field(default_factory=dict)
    X: dict[str, np.ndarray] = field(default_factory=dict)
    dropped_rows: int = 0
    summary: dict[str, Any] = field(default_factory=dict)

    def y(self, split: str) -> np.ndarray:
        """The encoded targets of a split (class indices or standardised values)."""
        return self.target.encode(self.targets[split])

    @property
    def n_features(self) -> int:
        """Width of the encoded features."""
        return self.X["train"].shape[1]


def _names(text: str | None) -> list[str]:
    """'a, b' -> ['a', 'b'] (a comma-separated option such as --drop or --keep)."""
    return [c.strip() for c in (text or "").split(",") if c.strip()]


def _load(args: Any) -> tuple[Any, Any, str, str, str | None]:
    """(features, target, source name, description, file name for messages)."""
    from pathlib import Path

    from retroprop.cli.datasets import load_dataset
    from retroprop.cli.tabular import read_table

    drop = _names(args.drop)
    if args.dataset:
        data = load_dataset(args.dataset)
        features = data.features.drop(columns=[c for c in drop if c in data.features.columns])
        return features, data.target, data.name, data.description, None
    path = Path(args.data)
    frame = read_table(path)
    if not args.target:
        raise CLIError(
            "--data needs --target COLUMN: the column to predict",
            hint=f"the columns of {path.name} are: {', '.join(map(repr, frame.columns[:40]))}",
        )
    features, target = split_target(frame, args.target, drop)
    description = f"{path.name}: {len(frame):,} rows, target column {args.target!r}"
    return features, target, path.stem, description, path.name


def _parse_target(values: Any, source: str | None) -> Any:
    """The target column parsed: numbers, or text (class names as written, so 'Yes'/'No' stay
    'Yes'/'No'); NaN where missing."""
    import pandas as pd

    kind = infer_kind(values, identifiers=False, source=source).kind
    if kind != "numeric":  # True/False stored as such (Parquet) become 'True'/'False'
        kind = "boolean" if pd.api.types.is_bool_dtype(values) else "categorical"
    parsed, _ = parse_column(values, kind)
    return pd.Series(parsed, name=values.name, dtype=np.float64 if kind == "numeric" else object)


def _handle_missing(features: Any, target: Any, dropna: bool, source: str | None):
    """Leave out the rows without a target (nothing to learn from them), with a notice naming
    them; with ``--dropna`` also the rows with a missing feature value.

    Missing feature values are otherwise kept: the preprocessing fills them in.
    """
    target_missing = target.isna().to_numpy()
    bad_rows = target_missing | (features.isna().to_numpy().any(axis=1) if dropna else False)
    if not bad_rows.any():
        return features, target, 0
    keep = ~bad_rows
    rows = describe_rows(np.flatnonzero(bad_rows), source)
    reason = "missing values" if dropna else f"no value in column '{target.name}' (the target)"
    flag = "--dropna: " if dropna else ""
    if keep.sum() < 4:
        raise CLIError(
            f"only {int(keep.sum())} rows are left after leaving out those with {reason}",
            hint="fill in the missing values" + ("" if dropna else " of the target"),
        )
    print(
        f"retroprop: {flag}left out {int(bad_rows.sum())} of {len(bad_rows)} rows with "
        f"{reason} ({rows})",
        file=sys.stderr,
    )
    return (
        features[keep].reset_index(drop=True),
        target[keep].reset_index(drop=True),
        int(bad_rows.sum()),
    )


def _parse_features(args: Any, features: Any, source: str | None) -> tuple[Schema, Any]:
    """The schema of the feature columns (identifiers found, ``--keep`` applied) and the
    used columns parsed by it."""
    schema = Schema.infer(
        features, keep=_names(args.keep), dropped=_names(args.drop), source=source
    )
    if not schema.used:
        left = ", ".join(f"{c.name!r} ({c.kind})" for c in schema.left_out()[:10])
        raise CLIError(
            f"no feature column left: {left}",
            hint="name a column to use anyway with --keep COLUMN",
        )
    return schema, Preprocessing(schema.used, schema=schema).parse(features, source)


def split_indices(
    n: int,
    labels: np.ndarray | None,
    test_size: float,
    validation_size: float,
    seed: int,
) -> dict[str, np.ndarray]:
    """Seeded (stratified when ``labels`` are given) row indices of each split.

    ``test_size`` and ``validation_size`` are fractions of all rows.

    Examples
    --------
    >>> parts = split_indices(100, np.arange(100) % 2, 0.2, 0.1, seed=0)
    >>> {name: len(rows) for name, rows in parts.items()}
    {'train': 70, 'validation': 10, 'test': 20}
    """
    from sklearn.model_selection import train_test_split

    rows = np.arange(n)
    parts: dict[str, np.ndarray] = {}
    try:
        if test_size > 0:
            rows, parts["test"] = train_test_split(
                rows, test_size=test_size, random_state=seed, stratify=labels
            )
        if validation_size > 0:
            fraction = validation_size / (1.0 - test_size)
            rows, parts["validation"] = train_test_split(
                rows,
                test_size=fraction,
                random_state=seed,
                stratify=None if labels is None else labels[rows],
            )
    except ValueError as error:
        raise CLIError(
            f"cannot split {n} rows into train/validation/test: {error}",
            hint="use more data, a smaller --test-size/--validation-size, or set them to 0",
        ) from error
    return {"train": np.sort(rows), **{k: np.sort(v) for k, v in reversed(parts.items())}}


def _check_classes(target: Target, labels: np.ndarray, args: Any) -> None:
    counts = np.bincount(labels, minlength=len(target.classes))
    if counts.min() < 2 and (args.test_size > 0 or args.validation_size > 0):
        rare = target.classes[int(counts.argmin())]
        raise CLIError(
            f"class {rare!r} of {target.name!r} has a single row: a stratified split needs "
            "at least 2 rows per class",
            hint="remove that row or pass --test-size 0 --validation-size 0",
        )


def prepare_data(args: Any) -> PreparedData:
    """Load, parse by the inferred schema, check, split and encode the data the options name.

    ``--data`` naming partitions (a glob or a folder) is read one partition at a time:
    :func:`retroprop.cli.partitions.prepare_partitions`.
    """
    from retroprop.cli.partitions import is_partitioned, prepare_partitions

    if not args.dataset and is_partitioned(args.data):
        return prepare_partitions(args)
    raw, target_raw, source, description, file_name = _load(args)
    schema, features = _parse_features(args, raw, file_name)
    target_values = _parse_target(target_raw, file_name)
    all_features, all_targets = features, target_values  # for the summary: before --dropna
    features, target_values, dropped = _handle_missing(
        features, target_values, args.dropna, file_name
    )
    target = Target.infer(target_values, args.task)
    labels = target.encode(target_values) if target.classification else None
    if labels is not None:
        _check_classes(target, labels, args)
    parts = split_indices(len(features), labels, args.test_size, args.validation_size, args.seed)
    frames = {name: features.iloc[rows].reset_index(drop=True) for name, rows in parts.items()}
    targets = {
        name: target_values.iloc[rows].reset_index(drop=True) for name, rows in parts.items()
    }
    target.fit_scale(targets["train"])
    preprocessing = Preprocessing.fit(frames["train"], schema)
    for column, categories in preprocessing.categorical.items():
        if len(categories) > 100:
            print(
                f"retroprop: warning: column {column!r} has {len(categories)} distinct values, "
                "one input each; drop it with --drop if it is an identifier",
                file=sys.stderr,
            )
    X = {name: preprocessing.transform(frame) for name, frame in frames.items()}
    return PreparedData(
        source=source,
        description=description,
        target=target,
        preprocessing=preprocessing,
        frames=frames,
        targets=targets,
        X=X,
        dropped_rows=dropped,
        summary=summarise_data(schema, raw, all_features, target, all_targets),
    )
