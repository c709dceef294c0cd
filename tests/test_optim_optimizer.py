"""The machinery every optimiser shares: groups, zero_grad, state dict, dtypes, validation."""

import re
from typing import Any

import numpy as np
import pytest

import retroprop as rp
from retroprop import optim
from retroprop.optim import SGD, Adagrad, Adam, AdamW, RMSprop, get_optimizer

# Options that switch on every state buffer of each optimiser.
ALL_BUFFERS = [
    (SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    (RMSprop, {"lr": 0.01, "momentum": 0.9, "centered": True, "weight_decay": 0.01}),
    (Adam, {"lr": 0.01, "amsgrad": True, "weight_decay": 0.01}),
    (AdamW, {"lr": 0.01, "amsgrad": True}),
    (Adagrad, {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.01}),
]
IDS = [cls.__name__ for cls, _ in ALL_BUFFERS]


def run(cls: type, options: dict[str, Any], dtype: type, steps: int = 5) -> tuple[Any, Any]:
    """Minimise 0.5 * ||w - target||^2 from a fixed start; return the parameter and optimiser."""
    target = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]], dtype=dtype)
    w = rp.tensor(np.zeros((2, 3), dtype=dtype), requires_grad=True)
    optimizer = cls([w], **options)
    for _ in range(steps):
        w.grad = w.data - target
        optimizer.step()
    return w, optimizer


@pytest.mark.parametrize(("cls", "options"), ALL_BUFFERS, ids=IDS)
def test_float32_parameters_and_state_stay_float32(cls: type, options: dict[str, Any]):
    w32, optimizer = run(cls, options, np.float32)
    assert w32.data.dtype == np.float32
    buffers = [v for v in optimizer.state[w32].values() if isinstance(v, np.ndarray)]
    assert len(buffers) >= 1
    assert all(buffer.dtype == np.float32 for buffer in buffers)
    w64, _ = run(cls, options, np.float64)
    np.testing.assert_allclose(w32.data, w64.data, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("cls", "options"), ALL_BUFFERS, ids=IDS)
def test_updates_in_place_and_buffers_allocated_once(cls: type, options: dict[str, Any]):
    w, optimizer = run(cls, options, np.float64, steps=1)
    data = w.data
    buffers = {k: v for k, v in optimizer.state[w].items() if isinstance(v, np.ndarray)}
    before = {k: v.copy() for k, v in buffers.items()}
    w.grad = np.ones_like(w.data)
    optimizer.step()
    assert w.data is data
    for name, buffer in buffers.items():
        assert optimizer.state[w][name] is buffer
        assert not np.array_equal(buffer, before[name]), name  # ... and it was updated


@pytest.mark.parametrize(("cls", "options"), ALL_BUFFERS, ids=IDS)
def test_gradient_is_not_modified(cls: type, options: dict[str, Any]):
    w = rp.tensor(np.ones(3), requires_grad=True)
    grad = np.array([0.5, -1.0, 2.0])
    w.grad = grad.copy()
    optimizer = cls([w], **options)
    optimizer.step()
    optimizer.step()
    np.testing.assert_array_equal(w.grad, grad)


def test_parameters_without_gradient_are_skipped():
    w = rp.tensor(np.ones(2), requires_grad=True)
    frozen = rp.tensor(np.ones(2), requires_grad=True)
    optimizer = Adam([w, frozen], lr=0.1)
    w.grad = np.ones(2)
    optimizer.step()
    np.testing.assert_array_equal(frozen.data, [1.0, 1.0])
    assert frozen not in optimizer.state
    assert optimizer.state[w]["step"] == 1
    np.testing.assert_allclose(w.data, [0.9, 0.9])


def test_zero_grad_sets_none_by_default():
    w = rp.tensor(np.ones(2), requires_grad=True)
    optimizer = SGD([w], lr=0.1)
    w.grad = np.ones(2)
    optimizer.zero_grad()
    assert w.grad is None


def test_zero_grad_in_place_keeps_the_array():
    w = rp.tensor(np.ones(2), requires_grad=True)
    b = rp.tensor(np.ones(1), requires_grad=True)
    optimizer = SGD([w, b], lr=0.1)
    grad = w.grad = np.array([1.0, 2.0])
    optimizer.zero_grad(set_to_none=False)
    assert w.grad is grad
    np.testing.assert_array_equal(grad, [0.0, 0.0])
    assert b.grad is None


def test_zero_grad_stops_accumulation_across_backward_calls():
    w = rp.tensor(np.array([2.0]), requires_grad=True)
    optimizer = SGD([w], lr=0.1)
    for _ in range(2):
        optimizer.zero_grad()
        (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad, [4.0])  # 2w once, not twice


def test_param_groups_take_their_own_options():
    w = rp.tensor(np.array([1.0]), requires_grad=True)
    b = rp.tensor(np.array([1.0]), requires_grad=True)
    optimizer = SGD([{"params": [w]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.9)
    assert optimizer.param_groups[1]["momentum"] == 0.9
    assert optimizer.param_groups[1]["params"] == [b]
    w.grad, b.grad = np.array([1.0]), np.array([1.0])
    optimizer.step()
    np.testing.assert_allclose([w.data[0], b.data[0]], [0.9, 0.5])
    optimizer.param_groups[0]["lr"] = 0.01  # what a scheduler does
    optimizer.step()
    np.testing.assert_allclose(w.data, [0.9 - 0.01 * 1.9])


def test_add_param_group():
    w = rp.tensor(np.array([1.0]), requires_grad=True)
    b = rp.tensor(np.array([1.0]), requires_grad=True)
    optimizer = Adagrad([w], lr=0.1)
    optimizer.add_param_group({"params": [b], "lr": 1.0})
    assert [group["lr"] for group in optimizer.param_groups] == [0.1, 1.0]
    assert optimizer.param_groups[1]["eps"] == 1e-10
    with pytest.raises(ValueError, match="appears twice"):
        optimizer.add_param_group({"params": [w]})


def test_closure_is_evaluated_and_its_loss_returned():
    w = rp.tensor(np.array([2.0]), requires_grad=True)
    optimizer = SGD([w], lr=0.25)

    def closure():
        optimizer.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    loss = optimizer.step(closure)
    assert float(loss.item()) == 4.0
    np.testing.assert_allclose(w.data, [1.0])


@pytest.mark.parametrize(("cls", "options"), ALL_BUFFERS, ids=IDS)
def test_state_dict_round_trip_continues_the_same_trajectory(cls: type, options: dict[str, Any]):
    w, optimizer = run(cls, options, np.float64, steps=3)
    saved = optimizer.state_dict()
    snapshot = {k: v.copy() for k, v in saved["state"][0].items() if isinstance(v, np.ndarray)}

    clone = rp.tensor(w.data.copy(), requires_grad=True)
    restored = cls([clone], lr=123.0)  # hyper-parameters come back from the state dict too
    restored.load_state_dict(saved)
    assert restored.param_groups[0]["lr"] == options["lr"]
    for _ in range(3):
        for param, opt in ((w, optimizer), (clone, restored)):
            param.grad = param.data - 1.0
            opt.step()
    np.testing.assert_array_equal(clone.data, w.data)
    for name, value in snapshot.items():  # the state dict is a snapshot, not a view
        np.testing.assert_array_equal(saved["state"][0][name], value)


def test_state_dict_layout_numbers_parameters_across_groups():
    w = rp.tensor(np.array([1.0]), requires_grad=True)
    b = rp.tensor(np.array([1.0, 2.0]), requires_grad=True)
    optimizer = Adam([{"params": [w]}, {"params": [b], "lr": 0.5}])
    b.grad = np.array([1.0, 1.0])
    optimizer.step()
    state = optimizer.state_dict()
    assert [group["params"] for group in state["param_groups"]] == [[0], [1]]
    assert state["param_groups"][1]["lr"] == 0.5
    assert list(state["state"]) == [1]
    assert state["state"][1]["step"] == 1
    np.testing.assert_allclose(state["state"][1]["exp_avg"], [0.1, 0.1])


def test_load_state_dict_casts_and_checks_shapes():
    w = rp.tensor(np.zeros(2, dtype=np.float32), requires_grad=True)
    optimizer = SGD([w], lr=0.1, momentum=0.9)
    state = {
        "state": {0: {"momentum_buffer": np.array([1.0, 2.0])}},
        "param_groups": [{**optimizer.state_dict()["param_groups"][0]}],
    }
    optimizer.load_state_dict(state)
    assert optimizer.state[w]["momentum_buffer"].dtype == np.float32
    state["state"][0]["momentum_buffer"] = np.zeros(3)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        optimizer.load_state_dict(state)
    with pytest.raises(ValueError, match="has 2 parameter groups, the optimizer 1"):
        optimizer.load_state_dict({"state": {}, "param_groups": [{}, {}]})
    np.testing.assert_array_equal(optimizer.state[w]["momentum_buffer"], [1.0, 2.0])  # untouched


INVALID = [
    (SGD, {"lr": -0.1}, "lr=-0.1"),
    (SGD, {"lr": float("nan")}, "lr=nan"),
    (SGD, {"lr": 0.1, "momentum": -0.5}, "momentum=-0.5"),
    (SGD, {"lr": 0.1, "weight_decay": -1.0}, "weight_decay=-1.0"),
    (SGD, {"lr": 0.1, "nesterov": True}, "momentum=0"),
    (SGD, {"lr": 0.1, "nesterov": True, "momentum": 0.9, "dampening": 0.1}, "dampening=0.1"),
    (RMSprop, {"alpha": 1.0}, "alpha=1.0"),
    (RMSprop, {"alpha": -0.1}, "alpha=-0.1"),
    (RMSprop, {"eps": -1e-8}, "eps=-1e-08"),
    (RMSprop, {"momentum": -0.9}, "momentum=-0.9"),
    (Adam, {"lr": -1e-3}, "lr=-0.001"),
    (Adam, {"betas": (1.0, 0.999)}, "betas[0]=1.0"),
    (Adam, {"betas": (0.9, -0.1)}, "betas[1]=-0.1"),
    (Adam, {"eps": -1.0}, "eps=-1.0"),
    (AdamW, {"weight_decay": -0.01}, "weight_decay=-0.01"),
    (Adagrad, {"lr_decay": -0.1}, "lr_decay=-0.1"),
    (Adagrad, {"initial_accumulator_value": -1.0}, "initial_accumulator_value=-1.0"),
    (Adagrad, {"eps": -1e-10}, "eps=-1e-10"),
]


@pytest.mark.parametrize(("cls", "options", "message"), INVALID)
def test_invalid_hyperparameters_raise(cls: type, options: dict[str, Any], message: str):
    with pytest.raises(ValueError, match=re.escape(message)):
        cls([rp.tensor([1.0], requires_grad=True)], **options)


def test_invalid_group_option_raises():
    w = rp.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match=re.escape("lr=-2")):
        SGD([{"params": [w], "lr": -2}], lr=0.1)


def test_invalid_params_raise():
    w = rp.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError, match=r"pass \[tensor\]"):
        SGD(w, lr=0.1)
    with pytest.raises(ValueError, match="appears twice"):
        SGD([w, w], lr=0.1)
    with pytest.raises(ValueError, match="not a leaf"):
        SGD([w * 2], lr=0.1)
    with pytest.raises(TypeError, match="needs Tensors"):
        SGD([np.zeros(2)], lr=0.1)


@pytest.mark.parametrize(
    ("name", "cls", "expected"),
    [
        ("sgd", SGD, {"lr": 0.01, "momentum": 0, "nesterov": False}),
        ("momentum", SGD, {"lr": 0.01, "momentum": 0.9, "nesterov": False}),
        ("nesterov", SGD, {"lr": 0.01, "momentum": 0.9, "nesterov": True}),
        ("rmsprop", RMSprop, {"lr": 0.01, "alpha": 0.99}),
        ("adam", Adam, {"lr": 0.001, "betas": (0.9, 0.999)}),
        ("AdamW", AdamW, {"lr": 0.001, "weight_decay": 0.01}),
        ("adagrad", Adagrad, {"lr": 0.01, "eps": 1e-10}),
    ],
)
def test_get_optimizer(name: str, cls: type, expected: dict[str, Any]):
    optimizer = get_optimizer(name, [rp.tensor([1.0], requires_grad=True)])
    assert type(optimizer) is cls
    assert {key: optimizer.defaults[key] for key in expected} == expected


def test_get_optimizer_options_override_defaults_and_unknown_names_raise():
    w = rp.tensor([1.0], requires_grad=True)
    assert get_optimizer("momentum", [w], lr=0.5, momentum=0.5).defaults["momentum"] == 0.5
    with pytest.raises(ValueError, match="sgd, momentum, nesterov, rmsprop, adam, adamw, adagrad"):
        get_optimizer("adadelta", [w])


def test_repr_lists_groups():
    optimizer = SGD([rp.tensor([1.0], requires_grad=True)], lr=0.1)
    assert repr(optimizer).splitlines() == [
        "SGD (",
        "Parameter Group 0",
        "    dampening: 0",
        "    lr: 0.1",
        "    maximize: False",
        "    momentum: 0",
        "    nesterov: False",
        "    weight_decay: 0",
        ")",
    ]


def test_public_api():
    for name in [
        "SGD",
        "RMSprop",
        "Adam",
        "AdamW",
        "Adagrad",
        "Optimizer",
        "lr_scheduler",
        "clip_grad_norm_",
        "clip_grad_value_",
        "get_optimizer",
    ]:
        assert hasattr(optim, name), name
