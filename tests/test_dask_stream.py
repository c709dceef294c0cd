"""``retroprop train --data 'parts/*.parquet'``: a partitioned table, streamed.

The preprocessing fitted in one pass equals the one fitted on the whole table (medians: exact
while the training rows fit in the reservoir, close otherwise); the split is a stable hash of
the row number; one partition trains exactly as a normal run; bad globs are one line and exit 2.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import retroprop as rp
from retroprop.cli import main
from retroprop.cli.partition_stats import NumericStats, Reservoir
from retroprop.cli.partitions import partition_files
from retroprop.cli.tabular import Preprocessing

pytest.importorskip("pyarrow")

FLAGS = ["--target", "label", "--layers", "6", "--seed", "3", "--quiet"]


def table(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Numeric columns with gaps, a categorical one with gaps, a string label."""
    rng = np.random.default_rng(seed)
    age = rng.uniform(20, 70, n).round(1)
    income = rng.lognormal(3, 0.5, n)
    colour = rng.choice(["red", "green", "blue"], n).astype(object)
    score = (age - 45) / 10 + np.where(colour == "red", 2.0, -1.0) + rng.normal(0, 0.3, n)
    age[rng.random(n) < 0.1] = np.nan
    colour[rng.random(n) < 0.05] = None
    label = np.where(score > 0, "buys", "leaves")
    return pd.DataFrame({"age": age, "income": income, "colour": colour, "label": label})


def write_parts(frame: pd.DataFrame, folder: Path, parts: int, suffix=".parquet") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, piece in enumerate(np.array_split(np.arange(len(frame)), parts)):
        chunk = frame.iloc[piece]
        if suffix == ".parquet":
            chunk.to_parquet(folder / f"part-{i:02d}.parquet", index=False)
        else:
            chunk.to_csv(folder / f"part-{i:02d}.csv", index=False)
    return folder


def test_streamed_run_writes_the_same_folder_as_a_normal_run(tmp_path, capsys):
    parts = write_parts(table(), tmp_path / "parts", 4)
    out = tmp_path / "run"
    code = main(["train", "--data", str(parts / "*.parquet"), *FLAGS, "--epochs", "30",
                 "--batch-size", "32", "--early-stopping", "2", "--out", str(out)])  # fmt: skip
    assert code == 0
    assert {"config.json", "model.safetensors", "history.csv", "metrics.json", "report.html"} <= {
        p.name for p in out.iterdir()
    }
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["metrics"]) == {"train", "validation", "test"}
    assert metrics["metrics"]["test"]["accuracy"] > 0.8
    history = pd.read_csv(out / "history.csv")
    assert "val_loss" in history.columns and len(history) <= 30
    # the model predicts from a plain file, as any other run's
    predictions = tmp_path / "pred.csv"
    assert main(["predict", "--model", str(out), "--data", str(parts / "part-00.parquet"),
                 "--output", str(predictions)]) == 0  # fmt: skip
    assert len(pd.read_csv(predictions)) == 100


def test_early_stopping_stops_a_streamed_run_and_keeps_its_best_epoch(tmp_path):
    frame = table(240, seed=6).assign(label=np.random.default_rng(0).choice(["a", "b"], 240))
    parts = write_parts(frame, tmp_path / "noise", 3)  # labels are noise: validation worsens
    out = tmp_path / "run"
    main(["train", "--data", str(parts), *FLAGS, "--layers", "64", "--lr", "0.05",
          "--epochs", "40", "--batch-size", "8", "--early-stopping", "2",
          "--out", str(out)])  # fmt: skip
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["best_epoch"] < metrics["epochs_run"] < 40
    assert "early stopping" in metrics["status"].lower()
    best = pd.read_csv(out / "history.csv").set_index("epoch").loc[metrics["best_epoch"]]
    saved = metrics["metrics"]["validation"]["loss"]  # the weights kept are the best epoch's
    assert saved == pytest.approx(best["val_loss"], rel=1e-5)


def test_one_partition_trains_as_a_normal_run(tmp_path):
    """Same seed, same rows, same order: identical weights.

    The streamed mean and scale are summed in another order than scikit-learn's
    StandardScaler's (they may differ by 1e-15 relative, as they do here for 'age'); the
    float32 inputs absorb that, so the steps and the weights are the same to the bit.
    """
    frame = table(300, seed=1)
    write_parts(frame, tmp_path / "one", 1, suffix=".csv")
    runs = {}
    for name, data in [
        ("normal", tmp_path / "one" / "part-00.csv"),
        ("streamed", tmp_path / "one"),
    ]:
        out = tmp_path / name
        code = main(["train", "--data", str(data), *FLAGS, "--epochs", "5", "--batch-size", "16",
                     "--test-size", "0", "--validation-size", "0", "--out", str(out)])  # fmt: skip
        assert code == 0
        runs[name] = (rp.load(out), json.loads((out / "config.json").read_text()))
    (normal, normal_config), (streamed, streamed_config) = runs["normal"], runs["streamed"]
    for (key, mine), theirs in zip(streamed.state_dict().items(), normal.state_dict().values(),
                                   strict=True):  # fmt: skip
        np.testing.assert_array_equal(mine, theirs, err_msg=key)
    normal_prep = Preprocessing.from_json(normal_config["metadata"]["preprocessing"])
    streamed_prep = Preprocessing.from_json(streamed_config["metadata"]["preprocessing"])
    assert streamed_prep.medians == normal_prep.medians  # every row in the reservoir: exact
    assert streamed_prep.categorical == normal_prep.categorical
    assert streamed_prep.indicators == normal_prep.indicators
    assert streamed_prep.ranges == normal_prep.ranges
    for column, (mean, scale) in normal_prep.numeric.items():
        np.testing.assert_allclose(streamed_prep.numeric[column], [mean, scale], rtol=1e-12)


def test_the_pass_over_partitions_fits_what_the_whole_table_fits():
    frame = table(1000, seed=2)
    features = frame.drop(columns=["label"])
    whole = Preprocessing.fit(features)
    numeric = ["age", "income"]
    stats, sample = NumericStats(numeric), Reservoir(size=10_000, seed=0)
    parsed = whole.parse(features)
    for rows in np.array_split(np.arange(len(frame)), 7):
        stats.update(parsed.iloc[rows][numeric].to_numpy(dtype=np.float64))
        sample.add(parsed.iloc[rows], frame["label"].iloc[rows], rows)
    fitted = stats.fitted(sample.medians(numeric))
    assert fitted["medians"] == whole.medians and fitted["indicators"] == whole.indicators
    assert fitted["ranges"] == whole.ranges
    for column in numeric:
        np.testing.assert_allclose(fitted["numeric"][column], whole.numeric[column], rtol=1e-12)


def test_reservoir_medians_are_close_when_the_rows_do_not_fit():
    """A sample of k rows puts the median within a few 0.5/sqrt(k) of rank 0.5."""
    rng = np.random.default_rng(5)
    values = rng.lognormal(0, 1, 50_000)
    sample = Reservoir(size=2_000, seed=0)
    for rows in np.array_split(np.arange(len(values)), 25):
        part = pd.DataFrame({"x": values[rows]})
        sample.add(part, pd.Series(np.zeros(len(rows))), rows)
    assert len(sample.rows) == 2_000 and len(np.unique(sample.rows)) == 2_000
    estimate = sample.medians(["x"])["x"]
    rank = np.mean(values < estimate)
    assert abs(rank - 0.5) < 4 * 0.5 / np.sqrt(2_000)  # 4.5 %: four standard errors
    assert estimate != np.median(values)  # an estimate indeed, not the full column


def test_the_split_is_a_stable_hash_of_the_row_number(tmp_path):
    """The same table cut in 5 or in 2 partitions holds out the same rows."""
    from retroprop.cli.partitions import prepare_partitions

    frame = table(300, seed=3).assign(row=np.arange(300).astype(float))
    held_out = []
    for parts in (5, 2):
        folder = write_parts(frame, tmp_path / f"by{parts}", parts)
        args = _args(str(folder / "*.parquet"))
        data = prepare_partitions(args)
        held_out.append(sorted(data.frames["validation"]["row"].tolist()))
        assert (
            sum(data.train_rows) + sum(len(data.frames[s]) for s in ("validation", "test")) == 300
        )
    assert held_out[0] == held_out[1] and 40 < len(held_out[0]) < 80  # about 20 % of 300


def _args(data: str):
    import argparse

    from retroprop.cli.config import TrainConfig
    from retroprop.cli.options import add_train_arguments

    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    return TrainConfig.from_args(
        parser.parse_args(["--data", data, "--target", "label", "--keep", "row", "--seed", "0"])
    )


@pytest.mark.parametrize("pattern", ["nowhere/*.parquet", "{tmp}/*.parquet", "{tmp}/empty"])
def test_a_glob_that_matches_no_file_is_one_line_and_exit_2(pattern, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    data = pattern.format(tmp=tmp_path)
    assert main(["train", "--data", data, "--target", "y", "--quiet"]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("retroprop: error: --data")


def test_partition_files_of_a_folder_are_its_tables_in_order(tmp_path):
    for name in ("b.csv", "a.parquet", "notes.txt"):
        (tmp_path / name).write_text("x")
    assert [p.name for p in partition_files(str(tmp_path))] == ["a.parquet", "b.csv"]
