"""The one pass over a partitioned table's training rows: statistics that combine partition by
partition (see :mod:`retroprop.cli.partitions` for what each one is and how exact it is)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["NumericStats", "Reservoir", "combine_moments"]


def combine_moments(
    count: np.ndarray, mean: np.ndarray, m2: np.ndarray, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(count, mean, sum of squared deviations) of the values seen so far and ``values``
    (rows x columns, NaN: missing), by Chan, Golub & LeVeque's pairwise update.

    Examples
    --------
    >>> data = np.array([[1.0], [2.0], [np.nan], [4.0], [8.0]])
    >>> state = (np.zeros(1), np.zeros(1), np.zeros(1))
    >>> for part in (data[:2], data[2:]):
    ...     state = combine_moments(*state, part)
    >>> count, mean, m2 = state
    >>> count.tolist(), mean.tolist(), (m2 / count).tolist() == [np.nanvar(data)]
    ([4.0], [3.75], True)
    """
    present = ~np.isnan(values)
    part_count = present.sum(axis=0).astype(np.float64)
    part_mean = np.where(present, values, 0.0).sum(axis=0) / np.maximum(part_count, 1.0)
    part_m2 = (np.where(present, values - part_mean, 0.0) ** 2).sum(axis=0)
    total = count + part_count
    share = part_count / np.maximum(total, 1.0)
    delta = part_mean - mean
    return total, mean + delta * share, m2 + part_m2 + delta**2 * count * share


class NumericStats:
    """Count, mean, spread, range and gaps of numeric columns, updated partition by partition.

    Parameters
    ----------
    names : list of str
        The numeric columns, in order.
    """

    def __init__(self, names: list[str]) -> None:
        width = len(names)
        self.names = names
        self.rows = 0
        self.count, self.mean, self.m2 = np.zeros(width), np.zeros(width), np.zeros(width)
        self.low, self.high = np.full(width, np.inf), np.full(width, -np.inf)

    def update(self, values: np.ndarray) -> None:
        """Add rows (rows x columns, float64, NaN: missing)."""
        if len(values) == 0:
            return
        self.rows += len(values)
        self.count, self.mean, self.m2 = combine_moments(self.count, self.mean, self.m2, values)
        present = ~np.isnan(values)
        self.low = np.minimum(self.low, np.where(present, values, np.inf).min(axis=0))
        self.high = np.maximum(self.high, np.where(present, values, -np.inf).max(axis=0))

    def fitted(self, medians: dict[str, float]) -> dict[str, dict[str, Any]]:
        """What :class:`~retroprop.cli.tabular.Preprocessing` keeps, as ``Preprocessing.fit``
        computes it: the imputer's medians and indicators, then the scaler's mean and scale
        and the ranges, of the values with the gaps filled by the median."""
        numeric, ranges, kept_medians, indicators = {}, {}, {}, []
        for j, name in enumerate(self.names):
            count, missing = self.count[j], self.rows - self.count[j]
            median = medians.get(name, 0.0) if count else 0.0
            mean = (count * self.mean[j] + missing * median) / max(self.rows, 1)
            m2 = self.m2[j] + (median - self.mean[j]) ** 2 * count * missing / max(self.rows, 1)
            scale = float(np.sqrt(m2 / max(self.rows, 1)))
            if scale < 10 * np.finfo(np.float64).eps:  # constant column, as StandardScaler
                scale = 1.0
            low = min(self.low[j], median) if missing else self.low[j]
            high = max(self.high[j], median) if missing else self.high[j]
            if not count:
                low = high = 0.0
            numeric[name] = [float(mean), scale]
            ranges[name] = [float(low), float(high)]
            kept_medians[name] = float(median)
            if missing:
                indicators.append(name)
        return {
            "numeric": numeric,
            "ranges": ranges,
            "medians": kept_medians,
            "indicators": indicators,
        }


class Reservoir:
    """A uniform sample of at most ``size`` rows: each row gets a seeded random key and the
    rows with the smallest keys are kept (sampling without replacement, in one pass).

    Examples
    --------
    >>> import pandas as pd
    >>> sample = Reservoir(size=3, seed=0)
    >>> for start in (0, 4, 8):
    ...     rows = np.arange(start, start + 4)
    ...     sample.add(pd.DataFrame({"x": rows * 1.0}), pd.Series(rows % 2), rows)
    >>> features, target, rows = sample.in_table_order()
    >>> len(features), bool(np.all(np.diff(rows) > 0))
    (3, True)
    """

    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self.rng = np.random.default_rng(seed)
        self.keys = np.empty(0)
        self.rows = np.empty(0, dtype=np.int64)
        self.features: Any = None
        self.target: Any = None

    def add(self, features: Any, target: Any, rows: np.ndarray) -> None:
        """Offer rows (a parsed features frame, target series and their row numbers)."""
        import pandas as pd

        keys = self.rng.random(len(features))
        if len(self.keys) >= self.size:  # only rows that would displace a kept one
            chance = np.flatnonzero(keys < self.keys.max())
            keys, rows = keys[chance], rows[chance]
            features, target = features.iloc[chance], target.iloc[chance]
        if self.features is None:
            self.features, self.target = features.iloc[:0], target.iloc[:0]
        keys = np.concatenate([self.keys, keys])
        self.rows = np.concatenate([self.rows, rows])
        self.features = pd.concat([self.features, features], ignore_index=True)
        self.target = pd.concat([self.target, target], ignore_index=True)
        keep = np.sort(np.argsort(keys, kind="stable")[: self.size])
        self.keys, self.rows = keys[keep], self.rows[keep]
        self.features = self.features.iloc[keep].reset_index(drop=True)
        self.target = self.target.iloc[keep].reset_index(drop=True)

    def in_table_order(self) -> tuple[Any, Any, np.ndarray]:
        """(features, target, row numbers) of the sample, sorted by row number."""
        order = np.argsort(self.rows, kind="stable")
        return (
            self.features.iloc[order].reset_index(drop=True),
            self.target.iloc[order].reset_index(drop=True),
            self.rows[order],
        )

    def medians(self, names: list[str]) -> dict[str, float]:
        """The median of each numeric column's present values in the sample."""
        medians = {}
        for name in names:
            values = self.features[name].to_numpy(dtype=np.float64)
            values = values[~np.isnan(values)]
            if len(values):
                medians[name] = float(np.median(values))
        return medians
