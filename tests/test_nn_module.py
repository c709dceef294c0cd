"""Module bookkeeping: discovery and names, modes, gradients, state dicts, summary, repr."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import retroprop as rp
import retroprop.nn.functional as F
from retroprop import nn


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(2, 4)
        self.output = nn.Linear(4, 1)
        self.scale = nn.Parameter(np.ones(1, dtype=np.float32))
        self.register_buffer("calls", np.zeros((), dtype=np.int64))
        self.note = "plain attribute"

    def forward(self, x):
        self.calls += 1
        return self.output(F.relu(self.hidden(x))) * self.scale


def course_network() -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 1), nn.Sigmoid()
    )


# ------------------------------------------------------------------------ discovery
def test_parameters_found_by_attribute_in_assignment_order():
    model = TwoLayer()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["scale", "hidden.weight", "hidden.bias", "output.weight", "output.bias"]
    assert [p.shape for p in model.parameters()] == [(1,), (2, 4), (4,), (4, 1), (1,)]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in model.parameters())
    assert model.note == "plain attribute"
    assert "note" not in dict(model.named_parameters())


def test_sequential_names_are_dotted_indices():
    names = [name for name, _ in course_network().named_parameters()]
    assert names == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]


def test_shared_parameters_and_modules_are_listed_once():
    shared = nn.Linear(3, 3)
    model = nn.Sequential(shared, nn.Tanh(), shared)
    assert len(list(model.parameters())) == 2
    assert [name for name, _ in model.named_parameters()] == ["0.weight", "0.bias"]
    assert len(list(model.modules())) == 3  # the Sequential, the Linear once, the Tanh
    assert list(model.state_dict()) == ["0.weight", "0.bias"]
    assert model.summary(print_table=False).total_params == 12


def test_children_modules_and_named_modules():
    model = TwoLayer()
    assert [type(m).__name__ for m in model.children()] == ["Linear", "Linear"]
    assert [name for name, _ in model.named_modules()] == ["", "hidden", "output"]
    nested = nn.Sequential(nn.Residual(nn.Sequential(nn.Linear(2, 2), nn.ReLU())))
    assert [name for name, _ in nested.named_modules()] == [
        "",
        "0",
        "0.block",
        "0.block.0",
        "0.block.1",
    ]
    assert [name for name, _ in nested.named_parameters()] == [
        "0.block.0.weight",
        "0.block.0.bias",
    ]


def test_reassignment_and_deletion_update_the_registries():
    model = TwoLayer()
    model.hidden = nn.Linear(2, 4, bias=False)
    assert "hidden.bias" not in dict(model.named_parameters())
    del model.scale
    assert "scale" not in dict(model.named_parameters())
    with pytest.raises(AttributeError, match="no attribute 'scale'"):
        _ = model.scale
    model.scale = 3.0  # a plain attribute now
    assert "scale" not in dict(model.named_parameters())


def test_assigning_a_plain_tensor_to_a_parameter_name_is_an_error():
    layer = nn.Linear(2, 3)
    with pytest.raises(TypeError, match="to 'weight' of Linear: expected a Parameter or None"):
        layer.weight = layer.weight * 2
    layer.bias = None
    assert [name for name, _ in layer.named_parameters()] == ["weight"]


def test_forgetting_super_init_is_explained():
    class Broken(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\) first in Broken"):
        Broken()


def test_buffers():
    model = TwoLayer()
    assert [name for name, _ in model.named_buffers()] == ["calls"]
    model(np.ones((1, 2), dtype=np.float32))
    assert model.calls == 1
    bn = nn.BatchNorm1d(3)
    assert [name for name, _ in bn.named_buffers()] == [
        "running_mean",
        "running_var",
        "num_batches_tracked",
    ]
    bn.register_buffer("scratch", np.zeros(3), persistent=False)
    assert "scratch" in dict(bn.named_buffers())
    assert "scratch" not in bn.state_dict()


def test_forward_is_required_and_call_runs_it():
    with pytest.raises(NotImplementedError, match="Module does not define forward"):
        nn.Module()(1.0)


def test_forward_hook_sees_and_can_replace_the_output():
    layer = nn.Linear(2, 3)
    seen = []
    remove = layer.register_forward_hook(lambda module, inputs, output: seen.append(output.shape))
    layer(np.ones((4, 2)))
    remove()
    layer(np.ones((4, 2)))
    assert seen == [(4, 3)]
    layer.register_forward_hook(lambda module, inputs, output: output * 0)
    assert np.all(layer(np.ones((1, 2))).data == 0)


# ------------------------------------------------------------------------ modes, gradients
def test_train_and_eval_reach_every_module():
    model = nn.mlp([3, 4, 2], dropout=0.5, batch_norm=True)
    assert model.training and all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    model.train(False)
    assert not model[2].training
    with pytest.raises(TypeError, match="mode must be a bool"):
        model.train("no")


def test_eval_mode_makes_prediction_deterministic():
    _ = rp.manual_seed(0)
    model = nn.mlp([3, 8, 2], dropout=0.5, batch_norm=True)
    x = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    model(x)  # one training batch gives the batch norm running statistics
    model.eval()
    np.testing.assert_array_equal(model(x).data, model(x).data)
    np.testing.assert_allclose(model(x[:1]).data, model(x).data[:1], rtol=1e-6, atol=1e-7)


def test_zero_grad_sets_grad_to_none():
    model = course_network()
    loss = model(np.ones((2, 2), dtype=np.float32)).sum()
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_requires_grad_freezes_parameters():
    model = course_network()
    model[0].requires_grad_(False)
    model(np.ones((2, 2), dtype=np.float32)).sum().backward()
    assert model[0].weight.grad is None and model[0].bias.grad is None
    assert model[2].weight.grad is not None
    assert model.summary(print_table=False).trainable_params == 37 - 12


def test_apply_visits_every_module():
    visited = []
    course_network().apply(lambda m: visited.append(type(m).__name__))
    assert visited[-1] == "Sequential" and visited.count("Linear") == 3


# ------------------------------------------------------------------------ state dicts
def test_state_dict_round_trip_restores_predictions():
    _ = rp.manual_seed(1)
    source = nn.mlp([3, 5, 2], batch_norm=True)
    source(np.random.default_rng(1).standard_normal((8, 3)).astype(np.float32))
    state = source.state_dict(copy=True)
    assert list(state) == [
        "0.weight",
        "0.bias",
        "1.weight",
        "1.bias",
        "1.running_mean",
        "1.running_var",
        "1.num_batches_tracked",
        "3.weight",
        "3.bias",
    ]
    assert int(state["1.num_batches_tracked"]) == 1
    _ = rp.manual_seed(2)
    target = nn.mlp([3, 5, 2], batch_norm=True)
    arrays_before = [p.data for p in target.parameters()]
    result = target.load_state_dict(state)
    assert result == nn.IncompatibleKeys([], [])
    # Copied into the same arrays: an optimiser holding them keeps working.
    assert all(p.data is a for p, a in zip(target.parameters(), arrays_before, strict=True))
    x = np.random.default_rng(3).standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_array_equal(source.eval()(x).data, target.eval()(x).data)


def test_state_dict_returns_live_arrays_unless_copied():
    layer = nn.Linear(2, 2)
    live, snapshot = layer.state_dict(), layer.state_dict(copy=True)
    assert live["weight"] is layer.weight.data
    layer.weight.data[...] = 7
    assert np.all(live["weight"] == 7) and not np.any(snapshot["weight"] == 7)


def test_load_state_dict_shape_mismatch_names_key_and_shapes():
    model = course_network()
    state = course_network().state_dict(copy=True)
    state["2.weight"] = np.zeros((4, 5), dtype=np.float32)
    before = model[0].weight.data.copy()
    with pytest.raises(
        ValueError, match=r"'2.weight': the model has \(4, 4\), the state has \(4, 5\)"
    ):
        model.load_state_dict(state)
    np.testing.assert_array_equal(model[0].weight.data, before)  # nothing was half-loaded


def test_load_state_dict_missing_and_unexpected_keys():
    model = course_network()
    state = model.state_dict(copy=True)
    del state["4.bias"]
    state["9.weight"] = np.zeros(1)
    with pytest.raises(
        KeyError, match=r"missing keys \['4.bias'\] and unexpected keys \['9.weight'\]"
    ):
        model.load_state_dict(state)
    state["0.weight"] = np.full((2, 4), 0.5)
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["4.bias"] and result.unexpected_keys == ["9.weight"]
    assert np.all(model[0].weight.data == 0.5) and model[0].weight.dtype == np.float32


def test_load_state_dict_refuses_float_into_integer_buffer():
    bn = nn.BatchNorm1d(2)
    state = bn.state_dict(copy=True)
    state["num_batches_tracked"] = np.array(1.5)
    with pytest.raises(
        TypeError, match="'num_batches_tracked' is float64 but the model holds int64"
    ):
        bn.load_state_dict(state)


def test_deepcopy_and_pickle_keep_the_model():
    model = course_network()
    x = np.ones((1, 2), dtype=np.float32)
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        np.testing.assert_array_equal(clone(x).data, model(x).data)
        assert clone[0].weight is not model[0].weight
        assert [n for n, _ in clone.named_parameters()] == [n for n, _ in model.named_parameters()]


# ------------------------------------------------------------------------ summary, repr
def test_summary_counts_the_course_network():
    summary = course_network().summary(print_table=False)
    assert summary.total_params == 37
    assert summary.trainable_params == 37
    widths = [row[3] for row in summary.rows]
    assert widths == [4, 4, 4, 4, 1, 1]
    assert "Total params: 37" in str(summary)


def test_summary_counts_784_300_100_10():
    summary = nn.mlp([784, 300, 100, 10]).summary(print_table=False)
    assert summary.total_params == 266_610
    assert [row[4] for row in summary.rows] == [235_500, 0, 30_100, 0, 1_010]
    assert "Total params: 266,610" in str(summary)


def test_summary_of_a_single_layer_and_of_a_custom_module():
    assert nn.Linear(3, 2).summary(print_table=False).rows == [("Linear", 0, "Linear(3->2)", 2, 8)]
    summary = TwoLayer().summary(print_table=False)
    assert summary.total_params == 12 + 5 + 1
    assert [row[0] for row in summary.rows] == ["hidden", "output"]


def test_repr_is_nested_like_pytorch():
    model = nn.Sequential(nn.Linear(2, 3), nn.LeakyReLU(0.2), nn.Residual(nn.Tanh()))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): LeakyReLU(negative_slope=0.2)\n"
        "  (2): Residual(\n"
        "    (block): Tanh()\n"
        "  )\n"
        ")"
    )
    assert repr(nn.Parameter(np.zeros(2, dtype=np.float32))) == (
        "Parameter containing:\ntensor([0., 0.], requires_grad=True)"
    )


def test_summary_prints_by_default(capsys):
    summary = course_network().summary()
    printed = capsys.readouterr().out
    assert printed == str(summary) + "\n"
    assert printed.splitlines()[2].split() == ["0", "Linear(2->4)", "4", "12"]
    assert summary.total_parameters == 37 and summary.trainable_parameters == 37
    assert repr(summary) == "Summary(6 rows, total_params=37, trainable_params=37)"
