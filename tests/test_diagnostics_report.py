"""diagnose(): quiet on a healthy network, names each planted pathology with its figures.

The thresholds (``Thresholds()``) were chosen from these measurements, at initialisation, on
256 standard normal examples of 10 features:

- healthy ReLU + He, 3 hidden layers of 32 units, 20 seeds: first/last ||dJ/dz|| ratio in
  [0.53, 1.56], dead fraction at most 0.22, nothing saturates (during training, small healthy
  networks reach ratios of 35 on two-feature problems, hence the exploding threshold of 100);
- vanishing (6 sigmoid layers, W ~ N(0, 0.1**2)): ratio about 1e-5 (threshold 1e-2);
- exploding (6 ReLU layers, He weights times 4): ratio 700 to 1700 (threshold 100);
- dead (a ReLU layer with bias -100): dead fraction 1.0 (threshold 0.5);
- saturated (tanh, W ~ N(0, 3**2)): saturated fraction 0.75 to 0.88 (threshold 0.4).
"""

from __future__ import annotations

import matplotlib.figure
import numpy as np
import pytest

import retroprop as rp
import retroprop.nn.functional as F
from retroprop import nn
from retroprop.diagnostics import REMEDIES, Thresholds, diagnose, problems
from retroprop.diagnostics.stats import LayerStats

LIMITS = Thresholds()


@pytest.fixture
def data(rng):
    X = rng.normal(size=(256, 10))
    return X, X[:, :3].sum(axis=1)


def _ratio(report) -> float:
    return report.layers[0].grad_norm / report.layers[-1].grad_norm


def _kinds(report) -> list[str]:
    return [problem.kind for problem in report.problems]


@pytest.mark.parametrize("seed", range(5))
def test_healthy_relu_he_network_stays_quiet_with_margin(data, seed):
    X, y = data
    rp.manual_seed(seed)
    model = nn.mlp([10, 32, 32, 32, 1])  # ReLU, He initialisation by default
    report = diagnose(model, X, y, loss="mse", optimizer=rp.optim.SGD(model.parameters(), lr=0.01))
    assert report.problems == []
    assert report.ok
    # well inside every threshold, not just under it
    assert 10 * LIMITS.vanishing_ratio < _ratio(report) < LIMITS.exploding_ratio / 10
    assert max(layer.dead_fraction for layer in report.layers[:-1]) < LIMITS.dead_fraction / 2
    assert all(layer.saturated_fraction is None for layer in report.layers)
    assert max(layer.update_ratio for layer in report.layers) < LIMITS.update_ratio / 4
    assert "No problem found" in str(report)


def test_many_sigmoid_layers_with_small_weights_vanish(data):
    X, y = data
    rp.manual_seed(0)
    small = lambda w: nn.init.normal_(w, 0.0, 0.1)  # noqa: E731
    layers = [nn.Linear(10, 32, init=small), nn.Sigmoid()]
    for _ in range(5):
        layers += [nn.Linear(32, 32, init=small), nn.Sigmoid()]
    model = nn.Sequential(*layers, nn.Linear(32, 1))
    report = diagnose(model, X, y, loss="mse")
    assert _ratio(report) < LIMITS.vanishing_ratio / 100  # measured 1.3e-5
    assert _kinds(report) == ["vanishing_gradient"]
    problem = report.problems[0]
    assert problem.layers[0] == "0: Linear 10->32"
    assert "first/last layer ratio 1." in problem.message and "e-05" in problem.message
    assert "ReLU" in problem.remedy and "He" in problem.remedy
    assert "batch normalisation" in problem.remedy and "residual" in problem.remedy


def test_relu_layers_with_weights_four_times_too_large_explode(data):
    X, y = data
    rp.manual_seed(0)
    model = nn.mlp([10] + [32] * 6 + [1])
    for layer in list(model)[:-1]:
        if isinstance(layer, nn.Linear):
            layer.weight.data *= 4.0
    report = diagnose(model, X, y, loss="mse")
    assert _ratio(report) > 5 * LIMITS.exploding_ratio  # measured 1660
    assert _kinds(report) == ["exploding_gradient"]
    assert "grows toward the input" in report.problems[0].message
    assert "clip" in report.problems[0].remedy and "learning rate" in report.problems[0].remedy


def test_relu_layer_with_hugely_negative_bias_is_dead(data):
    X, y = data
    rp.manual_seed(0)
    model = nn.mlp([10, 32, 32, 32, 1])
    model[2].bias.data[:] = -100.0
    report = diagnose(model, X, y, loss="mse")
    dead = {layer.name: layer.dead_fraction for layer in report.layers}
    assert dead["2: Linear 32->32"] == 1.0
    # the next ReLU layer only ever sees zeros and its zero bias: it is dead too
    assert dead == {
        "0: Linear 10->32": 0.0,
        "2: Linear 32->32": 1.0,
        "4: Linear 32->32": 1.0,
        "6: Linear 32->1": None,  # a linear output unit passes its gradient whatever its value
    }
    assert _kinds(report) == ["dead_units"]
    problem = report.problems[0]
    assert problem.layers == ["2: Linear 32->32", "4: Linear 32->32"]
    assert "2: Linear 32->32 (ReLU): 100%" in problem.message
    assert "no gradient reaches the layers below" in problem.message
    assert "Leaky ReLU" in problem.remedy


def test_tanh_with_very_large_weights_saturates(data):
    X, y = data
    rp.manual_seed(0)
    model = nn.mlp(
        [10, 32, 32, 32, 1], activation="tanh", init=lambda w: nn.init.normal_(w, 0.0, 3.0)
    )
    report = diagnose(model, X, y, loss="mse")
    fractions = [layer.saturated_fraction for layer in report.layers[:-1]]
    assert min(fractions) > 1.8 * LIMITS.saturated_fraction  # measured 0.77 to 0.88
    assert _kinds(report) == ["saturated_units"]
    saturated = report.problems[0]
    assert saturated.layers == ["0: Linear 10->32", "2: Linear 32->32", "4: Linear 32->32"]
    assert "Glorot" in saturated.remedy


def test_nan_weight_is_reported_as_non_finite_and_alone(data):
    X, y = data
    rp.manual_seed(0)
    model = nn.mlp([10, 32, 32, 1])
    model[2].weight.data[0, 0] = np.nan
    report = diagnose(model, X, y, loss="mse")
    assert _kinds(report) == ["non_finite"]
    problem = report.problems[0]
    assert problem.layers[0] == "2: Linear 32->32"
    assert "first in the weights of layer 2: Linear 32->32" in problem.message
    assert "the loss is nan" in problem.message
    assert not np.isfinite(report.loss)


def test_a_step_larger_than_the_weights_is_flagged(data):
    X, y = data
    rp.manual_seed(0)
    model = nn.mlp([10, 16, 1])
    report = diagnose(model, X, y, loss="mse", optimizer=50.0)
    assert max(layer.update_ratio for layer in report.layers) > LIMITS.update_ratio
    assert _kinds(report) == ["exploding_gradient"]
    assert "||step|| / ||W||" in report.problems[0].message


def test_update_ratio_is_lr_times_gradient_over_weights(data):
    X, y = data
    rp.manual_seed(0)
    model = nn.mlp([10, 8, 1])
    optimizer = rp.optim.SGD(model.parameters(), lr=0.03)
    report = diagnose(model, X, y, loss="mse", optimizer=optimizer)
    F.mse_loss(model(X.astype(np.float32)), y.reshape(-1, 1).astype(np.float32)).backward()
    for layer, linear in zip(report.layers, [model[0], model[2]], strict=True):
        expected = 0.03 * np.linalg.norm(linear.weight.grad) / np.linalg.norm(linear.weight.data)
        assert layer.update_ratio == pytest.approx(expected, rel=1e-4)
        assert layer.weight_grad_norm == pytest.approx(np.linalg.norm(linear.weight.grad), 1e-4)
    assert diagnose(model, X, y, loss="mse").layers[0].update_ratio is None


def test_diagnose_leaves_the_model_as_it_was(data):
    X, y = data
    rp.manual_seed(0)
    model = nn.mlp([10, 8, 8, 1], dropout=0.5, batch_norm=True).eval()
    for p in model.parameters():
        p.grad = np.full_like(p.data, 7.0)
    state = {key: value.copy() for key, value in model.state_dict().items()}
    stream = rp.random.default_generator().bit_generator.state
    report = diagnose(model, X, y, loss="mse")
    assert len(report.layers) == 3
    assert not model.training
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, state[key], err_msg=key)
    assert all((p.grad == 7.0).all() for p in model.parameters())
    assert rp.random.default_generator().bit_generator.state == stream
    assert all(len(m._forward_hooks) == 0 for m in model.modules())


def test_losses_by_name_and_as_callables(rng):
    X = rng.normal(size=(64, 4))
    labels = rng.integers(0, 3, size=64)
    rp.manual_seed(0)
    model = nn.mlp([4, 8, 3])
    by_name = diagnose(model, X, labels, loss="cross_entropy")
    assert by_name.problems == [] and by_name.loss == pytest.approx(
        F.cross_entropy(model(X.astype(np.float32)), labels).item(), rel=1e-6
    )
    regression = nn.mlp([4, 8, 1])
    called = diagnose(regression, X, X[:, 0], loss=F.pseudo_mse_loss)
    named = diagnose(regression, X, X[:, 0], loss="pseudo_mse")
    assert called.loss == pytest.approx(named.loss)
    assert called.layers[0].grad_norm == pytest.approx(named.layers[0].grad_norm)


def test_large_inputs_are_subsampled_reproducibly(rng):
    X = rng.normal(size=(3000, 4))
    model = nn.mlp([4, 8, 1])
    first = diagnose(model, X, X[:, 0], loss="mse", max_samples=500)
    again = diagnose(model, X, X[:, 0], loss="mse", max_samples=500)
    assert first.n_samples == 500
    assert first.loss == again.loss


def test_errors_name_what_is_wrong(rng):
    X = rng.normal(size=(16, 3))
    with pytest.raises(ValueError, match="holds no Linear layer"):
        diagnose(nn.Sequential(nn.ReLU()), X, X[:, 0], loss="mse")
    with pytest.raises(ValueError, match="X has 3 columns but the first Linear layer expects"):
        diagnose(nn.mlp([2, 4, 1]), X, X[:, 0], loss="mse")
    with pytest.raises(ValueError, match="unknown loss"):
        diagnose(nn.mlp([3, 4, 1]), X, X[:, 0], loss="hinge")
    with pytest.raises(TypeError, match="optimizer must be"):
        diagnose(nn.mlp([3, 4, 1]), X, X[:, 0], loss="mse", optimizer=object())


def test_report_table_lists_every_layer_and_figure(data):
    X, y = data
    rp.manual_seed(0)
    model = nn.mlp([10, 32, 32, 32, 1])
    model[2].bias.data[:] = -100.0
    text = str(diagnose(model, X, y, loss="mse"))
    lines = text.splitlines()
    assert (
        lines[0] == f"Diagnosis on 256 examples (loss {diagnose(model, X, y, loss='mse').loss:.5g})"
    )
    assert lines[1].split() == [
        "Layer", "Act.", "a", "mean", "a", "std", "||dJ/dz||", "std", "dJ/dz", "||dJ/dW||",
        "update", "dead", "saturated",
    ]  # fmt: skip
    row = next(line for line in lines if line.startswith("2: Linear 32->32"))
    assert row.split()[-2:] == ["100%", "-"]
    assert "1 problem(s):" in text and "[dead_units]" in text and "remedy:" in text


def test_plot_draws_activation_and_gradient_histograms(data, tmp_path):
    X, y = data
    rp.manual_seed(0)
    report = diagnose(nn.mlp([10, 16, 16, 1], activation="tanh"), X, y, loss="mse")
    figure = report.plot()
    assert isinstance(figure, matplotlib.figure.Figure)
    activations, gradients = figure.axes
    # one curve per hidden layer; the output layer's logits are left out
    assert [patch.get_label() for patch in activations.patches] == [
        "0: Linear 10->16",
        "2: Linear 16->16",
    ]
    assert len(gradients.patches) == 2
    assert "Figure 6" in activations.get_title() and "Figure 7" in gradients.get_title()
    path = tmp_path / "health.png"
    report.plot(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_problems_from_figures_alone():
    def layer(index, grad_norm, dead=0.0, saturated=None):
        return LayerStats(
            f"{index}: Linear 4->4", index, "ReLU", 4, 0.5, 0.2, grad_norm, 0.1,
            1.0, 1.0, None, dead, saturated,
        )  # fmt: skip

    assert problems([layer(0, 1.0), layer(1, 1.2)]) == []
    assert problems([layer(0, 1.0)]) == []  # one layer: no ratio to judge
    exploding = problems([layer(0, 500.0), layer(1, 20.0), layer(2, 1.0)])
    assert [(p.kind, p.layers) for p in exploding] == [("exploding_gradient", ["0: Linear 4->4"])]
    assert problems([layer(0, 50.0), layer(1, 1.0)]) == []
    assert problems([layer(0, 50.0), layer(1, 1.0)], Thresholds(exploding_ratio=20.0)) != []
    assert set(REMEDIES) == {
        "vanishing_gradient",
        "exploding_gradient",
        "dead_units",
        "saturated_units",
        "non_finite",
    }


def test_scratch_pass_restores_the_model_when_the_pass_fails():
    from retroprop.diagnostics.report import scratch_pass

    rp.manual_seed(0)
    model = nn.mlp([3, 4, 1], batch_norm=True).eval()
    for p in model.parameters():
        p.grad = np.full_like(p.data, 7.0)
    state = {key: value.copy() for key, value in model.state_dict().items()}
    with pytest.raises(RuntimeError, match="midway"):
        with scratch_pass(model, training=True, keep_state=True):
            assert model.training and all(p.grad is None for p in model.parameters())
            model(rp.tensor(np.ones((4, 3), np.float32))).sum().backward()  # moves BatchNorm
            raise RuntimeError("midway")
    assert not model.training
    assert all((p.grad == 7.0).all() for p in model.parameters())
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, state[key], err_msg=key)
