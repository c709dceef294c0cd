"""retroprop.tune without a cluster: the space, the trial results, the Trials panel, the
command's bad inputs (one line, exit 2)."""

from __future__ import annotations

import json
import re

import pytest

from retroprop.cli import main
from retroprop.report import RunRecord
from retroprop.report.trials import score_charts, trials_panel
from retroprop.tune import (
    DEFAULT_SPACE,
    Choice,
    LogUniform,
    SearchResult,
    SearchSpace,
    TrialResult,
    load_space,
)


def test_a_trial_draws_from_the_search_seed_and_its_index_only():
    space = SearchSpace.default()
    first = [space.sample(seed=5, index=i) for i in range(6)]
    assert [space.sample(seed=5, index=i) for i in reversed(range(6))][::-1] == first
    assert space.sample(seed=6, index=0) != first[0]
    assert len({seed for _, seed in first}) == 6  # each trial its own training seed
    assert len({str(settings) for settings, _ in first}) > 1


def test_log_uniform_draws_spread_over_the_decades_within_the_range():
    space = SearchSpace.from_mapping({"lr": "1e-4:1e-1"})
    values = [space.sample(seed=0, index=i)[0]["lr"] for i in range(300)]
    assert min(values) >= 1e-4 and max(values) <= 1e-1
    decades = [sum(10**-k <= v < 10 ** (-k + 1) for v in values) for k in (4, 3, 2)]
    assert all(60 <= n <= 140 for n in decades), decades  # about 100 each: uniform in log


def test_the_default_space_names_only_registered_activations_and_optimisers():
    from retroprop.nn.activation import HIDDEN_ACTIVATIONS
    from retroprop.optim.optimizer import OPTIMIZERS

    space = dict(SearchSpace.default().dimensions)
    assert set(space) == set(DEFAULT_SPACE)
    assert all(name in HIDDEN_ACTIVATIONS for name in space["activation"].values)
    assert all(name in OPTIMIZERS for name in space["optimizer"].values)


def test_a_space_file_in_json_or_toml_reads_the_same(tmp_path):
    (tmp_path / "s.json").write_text(
        '{"lr": {"low": 0.001, "high": 0.1}, "layers": [[8], [8, 8]], "dropout": 0.1}'
    )
    (tmp_path / "s.toml").write_text('lr = "1e-3:1e-1"\nlayers = ["8", "8,8"]\ndropout = 0.1\n')
    from_json, from_toml = load_space(tmp_path / "s.json"), load_space(tmp_path / "s.toml")
    assert from_json == from_toml
    assert dict(from_json.dimensions) == {
        "layers": Choice(("8", "8,8")),
        "lr": LogUniform(0.001, 0.1),
        "dropout": Choice((0.1,)),
    }


@pytest.mark.parametrize(
    "spec, words",
    [
        ({"lr": "0:1"}, "positive"),
        ({"lr": "0.1:0.01"}, "0 < low < high"),
        ({"l2": "0:0.1"}, "0 < low < high"),
        ({"dropout": [0.5, 1.0]}, "[0, 1)"),
        ({"activation": ["relu", "swishy"]}, "unknown activation 'swishy'"),
        ({"optimizer": "adam,lbfgs"}, "unknown optimizer 'lbfgs'"),
        ({"layers": "8;-2"}, "positive integer"),
        ({"batch_size": ["32", "x"]}, "positive integer"),
        ({"epochs": [1, 2]}, "unknown setting 'epochs'"),
        ({"lr": []}, "at least one value"),
    ],
)
def test_a_bad_space_names_the_setting_and_the_value(spec, words):
    with pytest.raises(ValueError, match="space") as error:
        SearchSpace.from_mapping(spec)
    assert words in str(error.value)


def test_flags_replace_the_settings_of_a_file():
    space = SearchSpace.default().updated({"lr": "1e-3:1e-2", "activation": "tanh"})
    dimensions = dict(space.dimensions)
    assert dimensions["lr"] == LogUniform(1e-3, 1e-2)
    assert dimensions["activation"] == Choice(("tanh",))
    assert dimensions["layers"] == dict(SearchSpace.default().dimensions)["layers"]


def _trial(index, score, status="ok", lr=0.01):
    scores = {"loss": score, "accuracy": 0.9} if score is not None else {}
    return TrialResult(index, 100 + index, {"lr": lr, "layers": "8"}, status, score, scores)


def test_the_best_trial_is_the_lowest_score_and_unscored_trials_rank_last():
    search = SearchResult([_trial(0, 0.5), _trial(1, None, "diverged"), _trial(2, 0.2)], 3)
    assert [t.index for t in search.ranked()] == [2, 0, 1]
    assert search.best.index == 2
    assert SearchResult([_trial(0, None, "failed")], 1).best is None


def test_the_trials_panel_shows_the_trials_best_first_and_a_chart():
    rows = [t.row() for t in SearchResult([_trial(0, 0.5), _trial(1, 0.2, lr=0.1)], 2).ranked()]
    record = RunRecord("t", "done", {}, {}, [], {}, trials=rows)
    section = trials_panel(record)
    assert section.title == "Trials" and section.body.count("<svg") == 2  # lr, layers
    assert "data:image/png" not in section.body and 'data-label="best trial"' in section.body
    table = section.body[section.body.index("<table>") :]
    assert table.index("<td>1</td><td>1</td><td>0.2</td>") < table.index("<td>0.5</td>")
    assert trials_panel(RunRecord("t", "done", {}, {}, [], {})) is None


def test_the_score_charts_put_a_range_on_a_log_axis_and_choices_at_positions():
    rows = [
        {"trial": 0, "score": 0.5, "lr": 0.001, "layers": "64,64"},
        {"trial": 1, "score": 0.2, "lr": 0.01, "layers": "8"},
        {"trial": 2, "score": 0.4, "lr": 0.1, "layers": "64,64"},
        {"trial": 3, "score": None, "lr": 1.0, "layers": "128", "status": "diverged"},
    ]
    lr_chart, layers_chart = re.findall("<svg.*?</svg>", score_charts(rows))
    assert ">1e-3</text>" in lr_chart and ">0.01</text>" in lr_chart  # powers of ten
    dots = re.findall(r'<circle cx="([\d.]+)" cy="[\d.]+" r="(?:2.5|4)"/>', lr_chart)
    x = sorted(float(value) for value in dots)  # 1e-3, 1e-2, 1e-1: evenly spaced on a log axis
    assert len(x) == 3 and x[1] - x[0] == pytest.approx(x[2] - x[1], abs=0.2)
    assert ">8</text>" in layers_chart and ">64,64</text>" in layers_chart
    assert ">128</text>" not in layers_chart  # the unscored trial's choice is not drawn
    # the best trial (layers "8", the first position) drawn larger in red, left of the others
    best = re.search(r'"best trial" fill="#d62728"[^>]*><circle cx="([\d.]+)"', layers_chart)
    others = re.findall(r'<circle cx="([\d.]+)" cy="[\d.]+" r="2.5"/>', layers_chart)
    assert best and len(others) == 2 and float(best.group(1)) < min(map(float, others))
    assert score_charts(rows[:1]) is None


@pytest.mark.parametrize(
    "arguments, words",
    [
        (["--lr", "0:1"], "--lr '0:1'"),
        (["--lr", "1e-1:1e-3"], "0 < low < high"),
        (["--activation", "relu,nope"], "unknown activation 'nope'"),
        (["--space", "SPACE.json"], "not a valid space file"),
        (["--space", "SPACE.toml"], "not a valid space file"),
        (["--space", "missing.toml"], "cannot read it"),
        (["--trials", "0"], "--trials"),
        (["--validation-size", "0"], "--validation-size"),
        (["--out", "SPACE.json"], "it is a file"),  # refused before any trial
    ],
)
def test_the_command_refuses_bad_input_in_one_line(tmp_path, capsys, arguments, words):
    (tmp_path / "SPACE.json").write_text('{"lr": [0.1,')
    (tmp_path / "SPACE.toml").write_text("lr = [\n")
    arguments = [a.replace("SPACE", str(tmp_path / "SPACE")) for a in arguments]
    code = main(["tune", "--dataset", "xor", "--workers", "0", *arguments])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and words in err, err


def test_a_search_without_a_score_keeps_its_trials_beside_an_earlier_run(
    tmp_path, capsys, monkeypatch
):
    import retroprop.tune.trial as trial
    from retroprop._io_publish import staged_folder

    def fail(data, config):
        raise FloatingPointError("the loss is nan")

    monkeypatch.setattr(trial, "_train", fail)  # every trial fails: none scores
    earlier = tmp_path / "run"
    with staged_folder(earlier) as folder:  # a run saved before, in the --out given
        (folder / "notes.txt").write_text("the earlier run")
    before = sorted(p.name for p in earlier.iterdir())
    failing = ["tune", "--dataset", "xor", "--trials", "2", "--workers", "0", "--seed", "0"]
    assert main([*failing, "--out", str(earlier)]) == 1
    assert sorted(p.name for p in earlier.iterdir()) == before  # nothing written loose into it
    (kept,) = [p for p in tmp_path.iterdir() if p.name.startswith("run-trials-")]
    assert {"trials.csv", "trials.json", "manifest.json"} <= {p.name for p in kept.iterdir()}
    trials = json.loads((kept / "trials.json").read_text())["trials"]
    assert [row["status"] for row in trials] == ["failed", "failed"]
    assert f"no trial finished; see {kept}/trials.csv" in capsys.readouterr().err
    fresh = tmp_path / "new"  # a new --out: the trials are published there, as one folder
    assert main([*failing, "--out", str(fresh)]) == 1
    assert {"trials.csv", "trials.json", "manifest.json"} <= {p.name for p in fresh.iterdir()}


def test_tune_help_names_its_seed_the_search_seed_and_train_keeps_its_own(capsys):
    helps = {}
    for command in ("tune", "train"):
        assert main([command, "--help"]) == 0
        helps[command] = " ".join(capsys.readouterr().out.split())
    assert "--seed SEED the search seed: the split's seed, and trial i's settings" in helps["tune"]
    assert "--seed SEED seed for the split, the weights" in helps["train"]
    assert "seed for the split, the weights" not in helps["tune"]
