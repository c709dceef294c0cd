"""Issue 10, section 3: a parameter used in several places is one parameter everywhere.

A module reused in a Sequential, and a bare Parameter shared by two modules: counted, updated,
saved and loaded once, and the tie restored after loading.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import retroprop as rp
from retroprop import nn, optim
from retroprop.nn.config import module_from_config, module_to_config


def reused_layer_model(dtype=np.float32) -> nn.Sequential:
    layer = nn.Linear(2, 2, dtype=dtype)
    return nn.Sequential(layer, nn.Tanh(), layer)


def tied_weight_model(dtype=np.float32) -> nn.Sequential:
    first, second = nn.Linear(2, 2, dtype=dtype), nn.Linear(2, 2, dtype=dtype)
    second.weight = first.weight  # the biases stay separate
    return nn.Sequential(first, nn.Tanh(), second)


def test_the_issue_snippet_saves_and_loads_the_tie(tmp_path):
    layer = nn.Linear(2, 2)
    model = nn.Sequential(layer, nn.ReLU(), layer)
    rp.save(model, tmp_path / "m")
    loaded = rp.load(tmp_path / "m")
    assert loaded[0] is loaded[2]
    assert loaded[0].weight is loaded[2].weight and loaded[0].bias is loaded[2].bias
    x = rp.tensor(np.random.default_rng(0).random((5, 2), dtype=np.float32))
    np.testing.assert_array_equal(loaded(x).data, model(x).data)


def test_a_reused_module_is_a_ref_in_the_config():
    config = module_to_config(reused_layer_model())
    assert config["modules"][2] == {"ref": "0"}
    assert "tied_parameters" not in config
    rebuilt = module_from_config(json.loads(json.dumps(config)))
    assert rebuilt[0] is rebuilt[2] and module_to_config(rebuilt) == config


def test_a_module_without_sharing_keeps_its_config():
    config = module_to_config(nn.mlp([2, 3, 1]))
    assert "tied_parameters" not in config and all("ref" not in m for m in config["modules"])


def test_a_nested_reuse_names_the_first_place():
    block = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    inner = nn.Linear(2, 2)
    model = nn.Sequential(block, nn.Residual(nn.Sequential(inner, block)), inner)
    config = module_to_config(model)
    assert config["modules"][1]["block"]["modules"][1] == {"ref": "0"}
    assert config["modules"][2] == {"ref": "1.block.0"}
    rebuilt = module_from_config(config)
    assert rebuilt[1].block[1] is rebuilt[0] and rebuilt[2] is rebuilt[1].block[0]
    assert len(list(rebuilt.parameters())) == len(list(model.parameters())) == 4


def test_a_bare_shared_parameter_is_tied_in_the_config_and_after_loading(tmp_path):
    model = tied_weight_model()
    config = module_to_config(model)
    assert config["tied_parameters"] == {"2.weight": "0.weight"}
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.bias"]
    rp.save(model, tmp_path / "m")
    loaded = rp.load(tmp_path / "m")
    assert loaded[0].weight is loaded[2].weight and loaded[0].bias is not loaded[2].bias
    for key, array in model.state_dict().items():
        np.testing.assert_array_equal(loaded.state_dict()[key], array)


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"ref": "0"}, "outside a model"),
        ({"type": "Sequential", "modules": [{"ref": "1"}, {"type": "ReLU"}]}, "names no module"),
        ({"type": "Sequential", "modules": [{"ref": ""}]}, "contains it"),
        ({"type": "Sequential", "modules": [{"ref": 0}]}, "exactly"),
        ({"type": "Sequential", "modules": [{"ref": "0", "type": "ReLU"}]}, "exactly"),
        ({"type": "Sequential", "modules": [{"type": "Residual", "block": {"ref": "0"}}]},
         "contains it"),
        ({"type": "Sequential", "modules": [{"type": "Linear", "in_features": 2,
          "out_features": 3}, {"ref": "0"}, {"ref": "1"}]}, "itself a ref"),
        ({"type": "Sequential", "modules": [{"type": "Linear", "in_features": 2,
          "out_features": 3}, {"type": "Linear", "in_features": 3, "out_features": 2}],
          "tied_parameters": {"1.weight": "0.weight"}}, "cannot tie"),
        ({"type": "Sequential", "modules": [{"type": "ReLU"}],
          "tied_parameters": {"0.weight": "0.bias"}}, "names no parameter"),
        ({"type": "Sequential", "modules": [{"type": "ReLU"}], "tied_parameters": ["x"]},
         "must be a dict"),
    ],
)  # fmt: skip
def test_bad_references_are_refused(config, match):
    with pytest.raises(ValueError, match=match):
        module_from_config(config)


@pytest.mark.parametrize("make", [reused_layer_model, tied_weight_model])
def test_counted_once_and_updated_once(make):
    model = make()
    params = list(model.parameters())
    assert len(params) == len({id(p) for p in params}) == (2 if make is reused_layer_model else 3)
    total = sum(p.size for p in params)
    assert model.summary(print_table=False).total_params == total
    before = [p.data.copy() for p in params]
    for p in params:
        p.grad = np.ones_like(p.data)
    optim.SGD(model.parameters(), lr=0.5).step()  # each once: moved by exactly lr * grad
    for p, old in zip(params, before, strict=True):
        np.testing.assert_allclose(p.data, old - 0.5)


@pytest.mark.parametrize("make", [reused_layer_model, tied_weight_model])
def test_the_tied_gradient_is_the_sum_over_its_uses(make):
    model = make(np.float64)
    x = rp.tensor(np.random.default_rng(1).standard_normal((4, 2)))
    first, second = model[0], model[2]
    loss = (model(x) ** 2).sum()
    loss.backward()
    weight = first.weight
    # The same network untied: two separate weights with the same values.
    a, b = nn.Linear(2, 2, dtype=np.float64), nn.Linear(2, 2, dtype=np.float64)
    a.load_state_dict(first.state_dict())
    b.load_state_dict(second.state_dict())
    (nn.Sequential(a, nn.Tanh(), b)(x) ** 2).sum().backward()
    np.testing.assert_allclose(weight.grad, a.weight.grad + b.weight.grad, rtol=1e-12)
    # And by central differences on the shared weight.
    numeric = np.zeros_like(weight.data)
    eps = 1e-6
    for index in np.ndindex(weight.shape):
        saved = weight.data[index]
        values = []
        for shift in (eps, -eps):
            weight.data[index] = saved + shift
            values.append(float((model(x) ** 2).sum().item()))
        weight.data[index] = saved
        numeric[index] = (values[0] - values[1]) / (2 * eps)
    np.testing.assert_allclose(weight.grad, numeric, rtol=1e-6, atol=1e-8)


def test_fit_trains_a_tied_model_and_the_tie_survives_a_round_trip(tmp_path):
    rp.manual_seed(0)
    model = tied_weight_model()
    X = np.random.default_rng(0).random((16, 2), dtype=np.float32)
    history = rp.fit(model, X, X, loss="mse", optimizer=optim.SGD(model.parameters(), lr=0.1),
                     epochs=3, batch_size=4, verbose=0)  # fmt: skip
    assert np.isfinite(history["loss"]).all()
    assert model[0].weight is model[2].weight
    rp.save(model, tmp_path / "m")
    loaded = rp.load(tmp_path / "m")
    np.testing.assert_allclose(loaded(rp.tensor(X)).data, model(rp.tensor(X)).data)


def test_the_float64_copies_keep_the_tie():
    from retroprop.diagnostics.gradcheck_model import float64_copy as diagnostics_copy
    from retroprop.sklearn._predictor import float64_copy as estimator_copy

    for make in (reused_layer_model, tied_weight_model):
        model = make()
        for copy in (diagnostics_copy(model), estimator_copy(model)):
            assert copy[0].weight is copy[2].weight and copy[0].weight.dtype == np.float64


def test_the_cli_info_counts_a_tied_model_once(tmp_path, capsys):
    from retroprop.cli import main

    rp.save(reused_layer_model(), tmp_path / "m")
    capsys.readouterr()
    assert main(["info", str(tmp_path / "m")]) == 0
    assert "Total params: 6" in capsys.readouterr().out


def test_a_parameter_tied_between_two_modules_survives_save_and_load(tmp_path):
    first, second = nn.Linear(3, 3), nn.Linear(3, 3)
    second.weight = first.weight
    model = nn.Sequential(first, nn.Tanh(), second)
    loaded = rp.load(rp.save(model, tmp_path / "tied"))
    assert loaded[0].weight is loaded[2].weight
    assert loaded[0].bias is not loaded[2].bias


def test_the_loader_checks_refs_and_ties_before_building():
    from pathlib import Path

    from retroprop._io_validate import architecture_shapes
    from retroprop.io import ModelFileError

    linear = {"type": "Linear", "in_features": 2, "out_features": 2}
    shared = {"type": "Sequential", "modules": [linear, {"type": "ReLU"}, {"ref": "0"}]}
    assert architecture_shapes(shared, Path("c")) == {"0.weight": (2, 2), "0.bias": (2,)}
    tied = {
        "type": "Sequential",
        "modules": [linear, linear],
        "tied_parameters": {"1.weight": "0.weight"},
    }
    assert set(architecture_shapes(tied, Path("c"))) == {"0.weight", "0.bias", "1.bias"}
    with pytest.raises(ModelFileError, match="tied_parameters"):
        architecture_shapes({**tied, "tied_parameters": {"1.weight": "0.bias"}}, Path("c"))
    with pytest.raises(ModelFileError, match="ref"):
        architecture_shapes({"type": "Sequential", "modules": [{"ref": 3}]}, Path("c"))
