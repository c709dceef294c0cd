"""Architectures as JSON data: round trips for every module, allowlist, clear refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest

import retroprop as rp
from retroprop import nn
from retroprop.nn.config import MODULE_TYPES, module_from_config, module_to_config


def built_in_modules() -> list[nn.Module]:
    return [
        nn.Linear(3, 2),
        nn.Linear(3, 2, bias=False, init="he_uniform", dtype=np.float64),
        nn.Sigmoid(),
        nn.Tanh(),
        nn.ReLU(),
        nn.LeakyReLU(0.2),
        nn.ELU(0.5),
        nn.GELU("tanh"),
        nn.SiLU(),
        nn.Mish(),
        nn.Softplus(),
        nn.Softmax(axis=0),
        nn.LogSoftmax(),
        nn.Identity(),
        nn.Dropout(0.3),
        nn.BatchNorm1d(4, eps=1e-3, momentum=None, affine=False, dtype=np.float64),
        nn.Flatten(2),
        nn.Residual(nn.Sequential(nn.Linear(4, 4), nn.ReLU())),
        nn.mlp([4, 8, 3], batch_norm=True, dropout=0.1, output_activation="softmax"),
    ]


@pytest.mark.parametrize("module", built_in_modules(), ids=lambda m: type(m).__name__)
def test_config_round_trip_through_json(module):
    config = module_to_config(module)
    text = json.dumps(config)  # JSON-safe: no NumPy scalars, dtypes or objects
    rebuilt = module_from_config(json.loads(text))
    assert type(rebuilt) is type(module)
    assert module_to_config(rebuilt) == config
    assert repr(rebuilt) == repr(module)
    assert [(n, p.shape, p.dtype) for n, p in rebuilt.named_parameters()] == [
        (n, p.shape, p.dtype) for n, p in module.named_parameters()
    ]


def test_every_registered_type_is_covered_by_the_round_trip():
    covered = {type(m).__name__ for root in built_in_modules() for m in root.modules()}
    assert covered == set(MODULE_TYPES)


def test_config_values():
    assert module_to_config(nn.Linear(2, 4, dtype=np.float64)) == {
        "type": "Linear",
        "in_features": 2,
        "out_features": 4,
        "bias": True,
        "init": None,
        "dtype": "float64",
    }
    assert module_to_config(nn.BatchNorm1d(3))["dtype"] == "float32"
    assert module_to_config(nn.Residual(nn.ReLU())) == {
        "type": "Residual",
        "block": {"type": "ReLU"},
    }
    # A callable init is not data: recorded as None (the weights are saved separately).
    assert module_to_config(nn.Linear(2, 2, init=nn.init.xavier_uniform_))["init"] is None


def test_rebuilt_model_with_loaded_weights_predicts_identically():
    _ = rp.manual_seed(0)
    model = nn.mlp([3, 6, 2], batch_norm=True, output_activation="sigmoid")
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    model(x)
    rebuilt = module_from_config(json.loads(json.dumps(module_to_config(model))))
    rebuilt.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(rebuilt.eval()(x).data, model.eval()(x).data)


def test_rebuilding_leaves_the_global_random_stream_alone():
    config = module_to_config(nn.mlp([10, 20, 1]))
    _ = rp.manual_seed(9)
    expected = rp.random.default_generator().random()
    _ = rp.manual_seed(9)
    module_from_config(config)
    assert rp.random.default_generator().random() == expected


def test_user_defined_modules_are_refused():
    class Custom(nn.Module):
        def forward(self, x):
            return x

    class MyLinear(nn.Linear):
        pass

    with pytest.raises(TypeError, match="Custom is not one of retroprop's built-in modules"):
        module_to_config(Custom())
    with pytest.raises(TypeError, match="MyLinear is not one of retroprop's built-in modules"):
        module_to_config(nn.Sequential(nn.ReLU(), MyLinear(2, 2)))
    with pytest.raises(TypeError, match="Custom does not define get_config"):
        Custom().get_config()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"type": "os.system", "command": "rm -rf /"}, "unknown module type 'os.system'"),
        ({"type": "__import__"}, "unknown module type '__import__'"),
        ({"type": "Module"}, "unknown module type 'Module'"),
        ({"in_features": 2}, "unknown module type None"),
        ({"type": "Linear", "in_features": 2}, "invalid config for Linear"),
        ({"type": "Linear", "in_features": "2", "out_features": 1}, "in_features must be an int"),
        ({"type": "Linear", "in_features": 2, "out_features": 1, "dtype": "object"}, "floating"),
        ({"type": "ReLU", "inplace": True}, "invalid config for ReLU"),
        ({"type": "Sequential", "modules": {"type": "ReLU"}}, "Sequential config needs"),
        ({"type": "Sequential", "modules": [{"type": "Evil"}]}, "unknown module type 'Evil'"),
        ({"type": "Residual"}, "Residual config needs exactly the key 'block'"),
    ],
)
def test_invalid_configs_fail_with_value_errors(config, message):
    with pytest.raises(ValueError, match=message):
        module_from_config(config)


def test_non_mapping_config_is_a_type_error():
    with pytest.raises(TypeError, match="expected a dict, got list"):
        module_from_config([{"type": "ReLU"}])
