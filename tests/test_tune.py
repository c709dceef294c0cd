"""retroprop tune on a real LocalCluster (2 worker processes, started once for this module):
a whole search through the command, the same scores as serially, failed and diverged trials
recorded, Ctrl-C keeping the finished trials."""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import signal

import numpy as np
import pytest

from retroprop.cli import main
from retroprop.tune import SearchSpace, TrialData, base_config, run_search

distributed = pytest.importorskip("distributed")

SECONDS = 120  # the most any test of this module may take, cluster start included


@contextlib.contextmanager
def deadline(seconds: int = SECONDS):
    """Fail (instead of hanging) when the block takes longer than ``seconds``."""

    def expire(signum, frame):
        raise TimeoutError(f"the Dask test took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def cluster():
    with deadline():
        local = distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
    yield local
    local.close(timeout=30)


@pytest.fixture(scope="module")
def moons():
    from retroprop.cli.train import prepare_checked

    base = base_config(dataset="moons", seed=0, epochs=8, no_diagnostics=True)
    return base, TrialData.from_prepared(prepare_checked(base))


SPACE = SearchSpace.from_mapping(
    {"layers": "8;16,8", "optimizer": "adam,sgd", "lr": "1e-3:1e-1", "batch_size": "16,64"}
)


def _scores(search):
    return {t.index: (t.status, t.score, t.seed, tuple(t.settings.items())) for t in search.trials}


def test_the_cluster_gives_the_same_trial_scores_as_one_process(cluster, moons):
    base, data = moons
    with deadline():
        serial = run_search(data, base, SPACE, 4, seed=3, scheduler="serial")
        spread = run_search(data, base, SPACE, 4, seed=3, scheduler=cluster.scheduler_address)
    assert sorted(_scores(spread)) == [0, 1, 2, 3]
    assert _scores(spread) == _scores(serial)  # exactly: same seeds, one BLAS thread
    assert all(t.status == "ok" for t in spread.trials)
    assert len({t.score for t in spread.trials}) == 4


def test_a_diverged_trial_is_recorded_and_the_search_goes_on(cluster, moons):
    base, data = moons
    space = SearchSpace.from_mapping({"optimizer": "sgd", "lr": [1e6, 0.1], "layers": "16,16"})
    with deadline():
        search = run_search(data, base, space, 4, seed=0, scheduler=cluster.scheduler_address)
    statuses = {t.index: t.status for t in search.trials}
    assert len(statuses) == 4 and "ok" in statuses.values()
    diverged = [t for t in search.trials if t.status == "diverged"]
    assert diverged and all(t.settings["lr"] == 1e6 and t.score is None for t in diverged)
    assert "Lower the learning rate" in diverged[0].error
    assert search.best.settings["lr"] == 0.1


def test_a_trial_that_raises_is_recorded_as_failed(moons, monkeypatch):
    import retroprop.tune.trial as trial

    base, data = moons
    real = trial._train

    def flaky(data, config):
        if config.activation == "tanh":
            raise RuntimeError("out of luck")
        return real(data, config)

    monkeypatch.setattr(trial, "_train", flaky)
    space = SearchSpace.from_mapping({"activation": "relu,tanh", "layers": "4"})
    search = run_search(data, base, space, 4, seed=1, scheduler="serial")
    failed = [t for t in search.trials if t.status == "failed"]
    assert failed and all(t.error == "RuntimeError: out of luck" for t in failed)
    assert len(search.trials) == 4 and search.best.settings["activation"] == "relu"


def test_ctrl_c_keeps_the_finished_trials_and_cancels_the_rest(cluster, moons):
    base, data = moons

    def interrupt(result, search):
        raise KeyboardInterrupt

    with deadline():
        search = run_search(
            data, base, SPACE, 8, seed=0, scheduler=cluster.scheduler_address, on_trial=interrupt
        )
    assert search.interrupted and len(search.trials) == 1 and search.requested == 8
    serial = run_search(data, base, SPACE, 8, seed=0, scheduler="serial", on_trial=interrupt)
    assert serial.interrupted and len(serial.trials) == 1


def test_ctrl_c_keeps_the_finished_trials_and_saves_the_best(tmp_path):
    from retroprop.tune import tune

    def interrupt_the_second(result, search):
        if len(search.trials) == 2:
            raise KeyboardInterrupt

    tuned = tune(
        dataset="moons", trials=5, space={"lr": "1e-2:1e-1", "layers": "8"}, epochs=3, seed=0,
        scheduler="serial", on_trial=interrupt_the_second, out=str(tmp_path / "out"),
        no_diagnostics=True,
    )  # fmt: skip
    assert tuned.exit_code == 130 and tuned.model is not None
    saved = json.loads((tmp_path / "out" / "trials.json").read_text())
    assert saved["interrupted"] and saved["finished"] == 2 and saved["requested"] == 5
    assert saved["space"] == {"layers": ["8"], "lr": "0.01:0.1"}
    report = (tmp_path / "out" / "report.html").read_text()
    assert "retroprop.tune.tune(trials=5, dataset=&#x27;moons&#x27;" in report


def _table(path, rows=150):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 2))
    colour = rng.choice(["red", "blue"], size=rows)
    y = np.where(x[:, 0] + x[:, 1] * (colour == "red") > 0, "yes", "no")
    lines = ["a,b,colour,y"] + [
        f"{a:.4f},{b:.4f},{c},{t}" for (a, b), c, t in zip(x, colour, y, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_tune_command_on_the_cluster_saves_the_best_as_a_run(cluster, tmp_path, capsys):
    data, out = _table(tmp_path / "t.csv"), tmp_path / "best"
    with deadline():
        code = main(
            ["tune", "--data", str(data), "--target", "y", "--trials", "4", "--epochs", "10",
             "--layers", "4;8", "--lr", "1e-3:1e-1", "--seed", "2", "--no-diagnostics",
             "--scheduler", cluster.scheduler_address, "--out", str(out)]
        )  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0
    assert sum(line.startswith("[") and "] trial " in line for line in printed.splitlines()) == 4
    trials = json.loads((out / "trials.json").read_text())
    rows = list(csv.DictReader((out / "trials.csv").open()))
    scores = [float(row["score"]) for row in rows]
    assert len(rows) == 4 and scores == sorted(scores) and trials["seed"] == 2
    metrics = json.loads((out / "metrics.json").read_text())
    # the best settings retrained with the trial's seed: the same model, the same score
    assert metrics["metrics"]["validation"]["loss"] == pytest.approx(scores[0], rel=1e-12)
    best = trials["trials"][0]
    assert metrics["settings"]["learning rate"] == best["lr"]
    assert metrics["settings"]["seed"] == best["seed"]
    report = (out / "report.html").read_text()
    assert '<section id="trials"><h2>Trials</h2>' in report
    assert "retroprop tune --data" in report and "--seed 2" in report
    manifest = json.loads((out / "manifest.json").read_text())
    assert "trials.csv" in json.dumps(manifest)
