"""benchmarks/bench_step.py runs end to end (``--quick``) and its table holds what it claims.

Not a speed test: the figures depend on the machine and its load; the structure does not.
"""

import doctest
import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_step.py"
CONTENDERS = ("floor", "floor, W written", "numpy loop", "rp.fit", "sklearn")


def load_script():
    if str(SCRIPT.parent) not in sys.path:
        sys.path.insert(0, str(SCRIPT.parent))  # as when run: its folder first on the path
    spec = importlib.util.spec_from_file_location("bench_step", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "step.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--threads", "1", "--json", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, json.loads(path.read_text(encoding="utf-8"))


def test_quick_run_times_every_configuration_and_contender(quick_run):
    stdout, report = quick_run
    bench = load_script()
    assert report["rounds"] == 2 and report["rows"] == 128
    assert [row["key"] for row in report["results"]] == list(bench.BY_KEY)
    expected = [*CONTENDERS, "torch"] if report["machine"]["torch"] else list(CONTENDERS)
    for row in report["results"]:
        assert sorted(row["seconds"]) == sorted(expected)
        for figures in row["seconds"].values():
            assert len(figures["all"]) == 2
            assert figures["min"] == min(figures["all"]) > 0
            assert figures["min"] <= figures["median"] <= max(figures["all"])
        names = ["rp/floor", "rp/floor W", "rp/numpy", "written/floor"]
        names += ["rp/torch"] if "torch" in expected else []
        assert sorted(row["ratios"]) == sorted(names)
        for name, ratio in row["ratios"].items():
            assert math.isfinite(ratio) and ratio > 0, (row["key"], name, ratio)
        fit = row["seconds"]["rp.fit"]["min"]
        assert row["ratios"]["rp/floor"] == pytest.approx(fit / row["seconds"]["floor"]["min"])
        written, floor = (row["seconds"][name]["min"] for name in ("floor, W written", "floor"))
        assert row["ratios"]["rp/floor W"] == pytest.approx(fit / written)
        assert row["ratios"]["written/floor"] == pytest.approx(written / floor)
        memory = row["memory"]
        assert memory["required"] == bench.required_bytes(bench.BY_KEY[row["key"]], 128)
        assert memory["peak"] > 0 and math.isfinite(memory["ratio"]) and memory["ratio"] > 0
        assert memory["ratio"] == pytest.approx(memory["peak"] / memory["required"]["total"])
    # the printed table: a header naming every column, one line per configuration, both tables
    header = next(line for line in stdout.splitlines() if line.startswith("| configuration |"))
    for column in (*expected, "rp/floor", "rp/floor W", "rp/torch", "rp/numpy", "written/floor"):
        assert f" {column} |" in header
    for row in report["results"]:
        assert sum(line.startswith(f"| {row['label']} |") for line in stdout.splitlines()) == 2
    assert "measured / required" in stdout


def test_required_bytes_counts_the_step_from_the_shapes():
    bench = load_script()
    assert doctest.testmod(bench).failed == 0
    config = bench.Config("mnist", (784, 300, 100, 10), "adam", 0.001, 128)
    params = 784 * 300 + 300 + 300 * 100 + 100 + 100 * 10 + 10
    required = bench.required_bytes(config)
    assert required["weights"] == required["gradients"] == 4 * params
    assert required["optimizer_state"] == 2 * 4 * params
    assert required["activations"] == 4 * 128 * (784 + 410 + 400)
    assert required["activation_gradients"] == 4 * 128 * (410 + 400)
    assert required["total"] == 4 * (4 * params + 128 * (784 + 2 * 810))
    assert bench.required_bytes(config, 100)["activations"] == 4 * 100 * (784 + 410 + 400)


def test_floor_step_performs_the_products_of_backpropagation():
    """With identity activations and a given output delta, the floor's products are a
    hand-written backward pass's: every forward product, weight gradient, input gradient."""
    load_script()
    from step_contenders import floor_step

    rng = np.random.default_rng(0)
    sizes, size, m = (6, 5, 4, 3), 4, 3  # a last batch smaller than the batch size
    weights = [rng.standard_normal((a, b)) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    outputs = [np.zeros((size, b)) for b in sizes[1:]]
    deltas = [np.zeros((size, b)) for b in sizes[1:-1]] + [rng.standard_normal((size, 3))]
    grads = [np.zeros_like(W) for W in weights]
    batch = rng.standard_normal((m, 6))
    floor_step(batch, weights, outputs, deltas, grads)
    a1 = batch @ weights[0]
    a2 = a1 @ weights[1]
    delta2 = deltas[2][:m]
    delta1 = delta2 @ weights[2].T
    delta0 = delta1 @ weights[1].T
    np.testing.assert_allclose(outputs[2][:m], a2 @ weights[2])
    for grad, a, delta in zip(grads, (batch, a1, a2), (delta0, delta1, delta2), strict=True):
        np.testing.assert_allclose(grad, a.T @ delta)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_floor_step_with_update_writes_the_weights_after_the_input_gradient(dtype):
    """``update``: each W_k becomes W_k - update * a_k^T delta_k (the product's update), the
    input gradient having read W_k before; ``grads`` is left alone."""
    load_script()
    from step_contenders import floor_step

    rng = np.random.default_rng(1)
    sizes, m = (6, 5, 4, 3), 4
    weights = [
        rng.standard_normal((a, b)).astype(dtype) for a, b in zip(sizes, sizes[1:], strict=False)
    ]
    before = [W.copy() for W in weights]
    outputs = [np.zeros((m, b), dtype) for b in sizes[1:]]
    deltas = [np.zeros((m, b), dtype) for b in sizes[1:-1]]
    deltas.append(rng.standard_normal((m, 3)).astype(dtype))
    grads = [np.full_like(W, 7.0) for W in weights]
    batch = rng.standard_normal((m, 6)).astype(dtype)
    floor_step(batch, weights, outputs, deltas, grads, update=0.5)
    a1 = batch @ before[0]
    a2 = a1 @ before[1]
    delta1 = deltas[2] @ before[2].T
    delta0 = delta1 @ before[1].T
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    for W, old, a, delta in zip(
        weights, before, (batch, a1, a2), (delta0, delta1, deltas[2]), strict=True
    ):
        assert W.dtype == dtype
        np.testing.assert_allclose(W, old - 0.5 * a.T @ delta, rtol=tolerance, atol=tolerance)
    assert all((grad == 7.0).all() for grad in grads)


def test_the_profile_splits_an_epoch_into_phases_that_add_up():
    """``--profile``'s table: rp.fit's phases (the captured step's methods, timed) and the
    floor's forward and backward products; the methods are put back afterwards."""
    bench = load_script()
    from step_contenders import BY_KEY, make_data

    from retroprop.training.captured import CapturedStep

    before = {name: getattr(CapturedStep, name) for name in bench.PHASES}
    X, y = make_data(512)
    spent = bench.phases(X, y, BY_KEY["sgd128"], rounds=1)
    assert {getattr(CapturedStep, name) for name in bench.PHASES} == set(before.values())
    assert all(spent[name] > 0 for name in bench.PHASES)  # the captured step ran
    total = sum(spent[name] for name in (*bench.PHASES, "rest"))
    assert math.isclose(total, spent["rp.fit"])
    assert 0 < spent["floor forward"] < spent["floor"]
    assert math.isclose(spent["floor forward"] + spent["floor backward"], spent["floor"])


def test_the_written_weights_probe_times_both_targets():
    bench = load_script()
    from step_contenders import BY_KEY

    probe = bench.written_weights(BY_KEY["sgd32"], repeats=2, rounds=1)
    assert set(probe) == {"same W", "other W"} and all(v > 0 for v in probe.values())


def test_adam_passes_times_an_epoch_of_the_seven_passes():
    """The bound the profile prints for Adam: seconds, positive and finite, for one epoch."""
    bench = load_script()
    seconds = bench.adam_passes(bench.BY_KEY["adam128"], rows=256, rounds=1)
    assert math.isfinite(seconds) and seconds > 0


def test_the_written_floor_keeps_the_floors_values():
    """The written floor's step (1e-20) writes every weight but changes none: over many steps
    of a deep network without activations its values stay finite and the floor's."""
    bench = load_script()
    from step_contenders import floor_step, initial_weights

    config = bench.BY_KEY["deep128"]
    weights = [W for W, _ in initial_weights(config.sizes)]
    before = [W.copy() for W in weights]
    rng = np.random.default_rng(1)
    outputs = [np.empty((32, W.shape[1]), np.float32) for W in weights]
    deltas = [rng.standard_normal((32, W.shape[1]), dtype=np.float32) for W in weights]
    batch = rng.random((32, config.sizes[0]), dtype=np.float32)
    for _ in range(20):
        floor_step(batch, weights, outputs, deltas, [], update=1e-20)
    assert all(np.array_equal(W, old) for W, old in zip(weights, before, strict=True))
    assert all(np.isfinite(z).all() for z in outputs)


def test_barrier_wait_times_a_meeting_of_two_threads():
    bench = load_script()
    microseconds = bench.barrier_wait(repeats=50, rounds=1)
    assert math.isfinite(microseconds) and microseconds > 0
