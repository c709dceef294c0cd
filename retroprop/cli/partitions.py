"""``--data 'parts/*.parquet'``: a table larger than memory, read one partition at a time.

A glob or a folder names the partitions (Parquet or CSV files, in sorted order; each file is one
partition). One pass over them fits everything the model is saved with, holding one partition
at a time:

- the schema and the target's kind: inferred from the first partition, then applied to all;
- which split each row belongs to: a seeded hash of its row number in the whole table
  (:func:`row_fractions`), so a row is in the same split in every pass and every run with the
  same seed (not stratified);
- numeric columns: count, mean and sum of squares combined partition by partition (Chan et al.'s
  parallel update: exact up to rounding), minimum, maximum and gaps; their MEDIANS (for missing
  values) from a uniform sample of training rows (reservoir of :data:`SAMPLE_ROWS` rows drawn
  by seeded random keys): exact while the training rows fit in it, else the median of a uniform
  sample (its rank is off by about ``0.5 / sqrt(SAMPLE_ROWS)``, 0.35 % of the rows);
- categorical columns and class names: every distinct value, counted exactly.

Training then streams the partitions (:mod:`retroprop.cli.stream_train`); the validation and
test rows are kept in memory, encoded, and the reservoir's rows stand for the training rows in
the report's figures and the "train" line of the metrics (a sample, said so).
"""

from __future__ import annotations

import glob
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from retroprop.cli.errors import CLIError
from retroprop.cli.prepare import PreparedData
from retroprop.cli.schema import Schema
from retroprop.cli.tabular import MISSING_CATEGORY, PARQUET_SUFFIXES, Preprocessing

__all__ = ["SAMPLE_ROWS", "is_partitioned", "partition_files", "row_fractions", "StreamedData"]

SAMPLE_ROWS = 20_000  # training rows kept: medians and the report's training figures
MAX_NUMERIC_DISTINCT = 1_000  # a numeric target's distinct values counted, enough for its task
SUFFIXES = (*PARQUET_SUFFIXES, ".csv")


def is_partitioned(data: str | None) -> bool:
    """Whether ``--data`` names partitions: a glob pattern, or a folder."""
    return bool(data) and (glob.has_magic(data) or Path(data).is_dir())


def partition_files(data: str) -> list[Path]:
    """The partitions a glob or a folder names, sorted (a folder: its Parquet and CSV files).

    Raises
    ------
    CLIError
        When nothing matches, naming the pattern.
    """
    if Path(data).is_dir():
        files = sorted(p for p in Path(data).iterdir() if p.suffix.lower() in SUFFIXES)
        if not files:
            raise CLIError(f"--data {data}: the folder holds no .parquet or .csv file")
        return files
    files = sorted(Path(p) for p in glob.glob(data, recursive=True) if Path(p).is_file())
    if not files:
        raise CLIError(f"--data {data!r} matches no file")
    return files


def row_fractions(rows: np.ndarray, seed: int) -> np.ndarray:
    """A number in [0, 1) for each row number, from a seeded hash (splitmix64): stable.

    Examples
    --------
    >>> u = row_fractions(np.arange(100_000), seed=0)
    >>> bool(abs(u.mean() - 0.5) < 0.01), bool(np.all(u == row_fractions(np.arange(100_000), 0)))
    (True, True)
    """
    mix = np.array([0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB], np.uint64)
    z = np.asarray(rows, dtype=np.uint64) + np.array([seed], np.uint64) * mix[:1]
    z = (z ^ (z >> np.uint64(30))) * mix[1:2]
    z = (z ^ (z >> np.uint64(27))) * mix[2:3]
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / 2.0**53


@dataclass
class Partition:
    """One partition parsed: features (by the schema), target, global row numbers, splits."""

    features: Any
    target: Any
    rows: np.ndarray
    split: np.ndarray  # "train", "validation" or "test" per row
    size: int = 0  # rows in the file, those left out included
    missing: Any = None  # per used column, its gaps in every row of the file
    left_out: int = 0  # rows left out (no target, or --dropna)
    target_missing: int = 0

    def take(self, name: str) -> tuple[Any, Any, np.ndarray]:
        keep = self.split == name
        return (
            self.features[keep].reset_index(drop=True),
            self.target[keep].reset_index(drop=True),
            self.rows[keep],
        )


@dataclass
class PartitionReader:
    """How every partition is read: the files, schema, target kind and split fractions."""

    files: list[Path]
    target_name: str
    drop: list[str]
    schema: Schema
    target_kind: str
    seed: int
    test_size: float
    validation_size: float
    dropna: bool
    offsets: list[int] = field(default_factory=list)  # first row number of each file

    def read(self, index: int) -> Partition:
        """Partition ``index``: read, parsed, rows without a target (or, --dropna, with a gap)
        left out, each row's split decided."""
        from retroprop.cli.schema import parse_column
        from retroprop.cli.tabular import read_table, split_target

        path = self.files[index]
        raw, target_raw = split_target(read_table(path), self.target_name, self.drop)
        parser = Preprocessing(self.schema.used, schema=self.schema)
        features = parser.parse(raw, path.name)
        values, bad = parse_column(target_raw, self.target_kind)
        if bad.any():
            raise CLIError(f"{path.name}: the target column holds values of another kind")
        rows = self.offsets[index] + np.arange(len(features))
        gaps = features.isna().to_numpy().any(axis=1) if self.dropna else False
        keep = ~_isna(values) & ~np.asarray(gaps, dtype=bool)
        u = row_fractions(rows, self.seed)
        split = np.where(
            u < self.test_size,
            "test",
            np.where(u < self.test_size + self.validation_size, "validation", "train"),
        )
        import pandas as pd

        dtype = np.float64 if self.target_kind == "numeric" else object
        target = pd.Series(values, name=self.target_name, dtype=dtype)
        return Partition(
            features[keep].reset_index(drop=True),
            target[keep].reset_index(drop=True),
            rows[keep],
            split[keep],
            size=len(features),
            missing=features.isna().sum(),
            left_out=int((~keep).sum()),
            target_missing=int(_isna(values).sum()),
        )


def _isna(values: np.ndarray) -> np.ndarray:
    import pandas as pd

    return pd.isna(values)


@dataclass
class StreamedData(PreparedData):
    """:class:`~retroprop.cli.prepare.PreparedData` of a partitioned table.

    ``X["train"]`` (and ``frames``/``targets``) hold the sample of training rows; the
    training itself streams every partition through :attr:`reader`.

    Attributes
    ----------
    reader : PartitionReader
    train_rows : list of int
        Training rows of each partition.
    cached : dict
        Partition index -> its training Dataset, kept when there is a single partition.
    """

    reader: Any = None
    train_rows: list[int] = field(default_factory=list)
    cached: dict[int, Any] = field(default_factory=dict)

    @property
    def total_train_rows(self) -> int:
        return int(sum(self.train_rows))

    def total_batches(self, batch_size: int | None) -> int:
        """Steps in one epoch: each partition's rows in batches (None: one per partition)."""
        return sum(-(-n // (batch_size or n)) for n in self.train_rows if n)

    def encoded_train(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """(X, y) of partition ``index``'s training rows, encoded as the model takes them."""
        features, target, _ = self.reader.read(index).take("train")
        return self.preprocessing.encode(features), self.target.encode(target)


def _sum_squares(values: np.ndarray, present: np.ndarray, mean: np.ndarray) -> np.ndarray:
    return (np.where(present, values - mean, 0.0) ** 2).sum(axis=0)


@dataclass
class FirstPass:
    """What the pass over every partition found (the training rows' statistics, every
    class, the held-out rows, the counts for the data summary)."""

    numeric: Any
    categories: dict[str, set]
    classes: dict[Any, int] = field(default_factory=dict)  # target value -> rows
    target_moments: tuple = (np.zeros(1), np.zeros(1), np.zeros(1))
    held_out: dict[str, list] = field(default_factory=dict)
    train_rows: list[int] = field(default_factory=list)
    rows: int = 0
    left_out: int = 0
    target_missing: int = 0
    missing: Any = 0


def _first_pass(reader: PartitionReader, sample: Any, numeric: list[str]) -> FirstPass:
    """Read every partition once, holding one at a time (and the held-out rows)."""
    from retroprop.cli.partition_stats import NumericStats, combine_moments

    categorical = [c for c in reader.schema.used if c not in numeric]
    found = FirstPass(NumericStats(numeric), {c: set() for c in categorical})
    found.held_out = {"validation": [], "test": []}
    reader.offsets = [0]
    for index in range(len(reader.files)):
        part = reader.read(index)
        reader.offsets.append(reader.offsets[-1] + part.size)
        found.rows += part.size
        found.left_out += part.left_out
        found.target_missing += part.target_missing
        found.missing = found.missing + part.missing
        for value, count in part.target.value_counts().items():
            if reader.target_kind != "numeric" or len(found.classes) < MAX_NUMERIC_DISTINCT:
                found.classes[value] = found.classes.get(value, 0) + int(count)
        for name in found.held_out:
            if (part.split == name).any():
                found.held_out[name].append(part.take(name))
        features, target, rows = part.take("train")
        found.train_rows.append(len(features))
        found.numeric.update(features[numeric].to_numpy(dtype=np.float64))
        for name in categorical:
            found.categories[name].update(features[name].fillna(MISSING_CATEGORY).unique())
        if reader.target_kind == "numeric":
            values = target.to_numpy(dtype=np.float64)[:, None]
            found.target_moments = combine_moments(*found.target_moments, values)
        sample.add(features, target, rows)
    return found


def _target_kind(values: Any, source: str) -> str:
    """As the normal run parses a target: numbers, booleans stored as such, or text."""
    import pandas as pd

    from retroprop.cli.schema import infer_kind

    kind = infer_kind(values, identifiers=False, source=source).kind
    if kind != "numeric":
        kind = "boolean" if pd.api.types.is_bool_dtype(values) else "categorical"
    return kind


def _reader(args: Any, files: list[Path]) -> PartitionReader:
    """The schema and the target's kind, inferred from the first partition."""
    from retroprop.cli.prepare import _names
    from retroprop.cli.tabular import read_table, split_target

    first = read_table(files[0])
    if not args.target:
        raise CLIError(
            "--data needs --target COLUMN: the column to predict",
            hint=f"the columns of {files[0].name} are: {', '.join(map(repr, first.columns[:40]))}",
        )
    drop = _names(args.drop)
    features, target = split_target(first, args.target, drop)
    schema = Schema.infer(features, keep=_names(args.keep), dropped=drop, source=files[0].name)
    if not schema.used:
        raise CLIError("no feature column left", hint="name a column to use with --keep COLUMN")
    kind = _target_kind(target, files[0].name)
    return PartitionReader(
        files, args.target, drop, schema, kind, args.seed, args.test_size, args.validation_size,
        args.dropna,
    )  # fmt: skip


def _target(found: FirstPass, reader: PartitionReader, task: str) -> Any:
    """The task and classes from every row's target; a regression's scale from the training
    rows' (as ``Target.fit_scale``: mean and population standard deviation)."""
    import pandas as pd

    from retroprop.cli.target import Target

    dtype = np.float64 if reader.target_kind == "numeric" else object
    target = Target.infer(
        pd.Series(list(found.classes), name=reader.target_name, dtype=dtype), task
    )
    if target.task == "regression":
        count, mean, m2 = found.target_moments
        target.mean = float(mean[0])
        target.scale = float(np.sqrt(m2[0] / max(count[0], 1.0))) or 1.0
    return target


def _preprocessing(reader: PartitionReader, found: FirstPass, medians: dict) -> Preprocessing:
    prep = Preprocessing(columns=reader.schema.used, schema=reader.schema)
    fitted = found.numeric.fitted(medians)
    prep.numeric, prep.ranges = fitted["numeric"], fitted["ranges"]
    prep.medians, prep.indicators = fitted["medians"], fitted["indicators"]
    prep.categorical = {
        name: sorted(str(v) for v in values) for name, values in found.categories.items()
    }
    return prep


def _summary(reader: PartitionReader, found: FirstPass, target: Any) -> dict:
    """The data summary (see :func:`~retroprop.cli.data_summary.summarise_data`) from the
    counts of the pass; distinct values are counted for categorical columns only."""
    from retroprop.cli.data_summary import _note
    from retroprop.cli.target import _class_name

    columns = []
    for column in reader.schema.columns:
        used = column.name in reader.schema.used
        missing = int(found.missing[column.name]) if used else None
        values = found.categories.get(column.name)
        entry = {"name": column.name, "kind": column.kind, "missing": missing}
        entry["distinct"] = None if values is None else len(values - {MISSING_CATEGORY})
        entry["note"] = _note(column.name, column.kind, column.reason, missing or 0, found.rows)
        columns.append(entry)
    summary_target: dict[str, Any] = {
        "name": target.name,
        "task": target.task,
        "missing": found.target_missing,
    }
    if target.classification:
        counts: dict[str, int] = {}
        for value, count in found.classes.items():
            counts[_class_name(value)] = counts.get(_class_name(value), 0) + count
        summary_target["classes"] = {c: counts.get(c, 0) for c in target.classes}
    return {"rows": found.rows, "columns": columns, "target": summary_target}


def _splits(sample: Any, found: FirstPass) -> tuple[dict, dict]:
    """(frames, targets) of each split: the sample of training rows, the held-out rows."""
    import pandas as pd

    frames, targets = {}, {}
    frames["train"], targets["train"], _ = sample.in_table_order()
    for name, parts in found.held_out.items():
        if parts:
            frames[name] = pd.concat([p[0] for p in parts], ignore_index=True)
            targets[name] = pd.concat([p[1] for p in parts], ignore_index=True)
    return frames, targets


def prepare_partitions(args: Any) -> StreamedData:
    """:func:`~retroprop.cli.prepare.prepare_data` for ``--data`` naming partitions.

    Raises
    ------
    CLIError
        No file matches; the first partition lacks the target; no training rows are left.
    """
    from retroprop.cli.partition_stats import Reservoir

    files = partition_files(args.data)
    reader = _reader(args, files)
    numeric = [c for c in reader.schema.used if reader.schema.kind(c) == "numeric"]
    sample = Reservoir(SAMPLE_ROWS, args.seed)
    found = _first_pass(reader, sample, numeric)
    if not sum(found.train_rows):
        raise CLIError(f"--data {args.data}: no training rows", hint="lower --test-size")
    if found.left_out:
        what = "missing values (--dropna)" if args.dropna else f"no value in {args.target!r}"
        print(f"retroprop: left out {found.left_out:,} of {found.rows:,} rows with {what}",
              file=sys.stderr)  # fmt: skip
    target = _target(found, reader, args.task)
    prep = _preprocessing(reader, found, sample.medians(numeric))
    frames, targets = _splits(sample, found)
    total = sum(found.train_rows)
    description = (
        f"{args.data}: {len(files)} partitions, {found.rows:,} rows, target column "
        f"{args.target!r}; training streams {total:,} rows (train figures: a sample of "
        f"{len(frames['train']):,})"
    )
    return StreamedData(
        source=Path(files[0]).parent.name or "data",
        description=description,
        target=target,
        preprocessing=prep,
        frames=frames,
        targets=targets,
        X={name: prep.encode(frame) for name, frame in frames.items()},
        dropped_rows=found.left_out if args.dropna else 0,
        summary=_summary(reader, found, target),
        reader=reader,
        train_rows=found.train_rows,
    )
