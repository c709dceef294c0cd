"""Every optimiser follows PyTorch's trajectory step for step, in float64.

The problem is least squares, J(W, b) = mean over samples of 0.5 * ||x W + b - y||^2, with its
gradients computed by NumPy, so PyTorch only runs the optimiser. Skipped without torch.
"""

from typing import Any

import numpy as np
import pytest

import retroprop as rp
from retroprop import optim

torch = pytest.importorskip("torch")

STEPS = 20


def least_squares() -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(16, 3))
    Y = X @ rng.normal(size=(3, 2)) + 0.5 + 0.1 * rng.normal(size=(16, 2))
    W0 = rng.normal(size=(3, 2))
    b0 = rng.normal(size=(2,))
    return X, Y, W0, b0


def gradients(X: np.ndarray, Y: np.ndarray, W: np.ndarray, b: np.ndarray) -> list[np.ndarray]:
    residual = (X @ W + b - Y) / len(X)
    return [X.T @ residual, residual.sum(axis=0)]


def compare(
    ours_class: type,
    torch_class: type,
    options: dict[str, Any],
    lr_of_bias: float | None = None,
    skip_bias_every: int = 0,
) -> None:
    """Run both optimisers STEPS times and compare the parameters after every step."""
    X, Y, W0, b0 = least_squares()
    ours = [rp.tensor(W0.copy(), requires_grad=True), rp.tensor(b0.copy(), requires_grad=True)]
    theirs = [
        torch.tensor(W0.copy(), requires_grad=True),
        torch.tensor(b0.copy(), requires_grad=True),
    ]
    if lr_of_bias is None:
        ours_optimizer = ours_class(ours, **options)
        torch_optimizer = torch_class(theirs, **options)
    else:
        ours_optimizer = ours_class(
            [{"params": [ours[0]]}, {"params": [ours[1]], "lr": lr_of_bias}], **options
        )
        torch_optimizer = torch_class(
            [{"params": [theirs[0]]}, {"params": [theirs[1]], "lr": lr_of_bias}], **options
        )
    for step in range(1, STEPS + 1):
        our_grads = gradients(X, Y, ours[0].data, ours[1].data)
        torch_grads = gradients(X, Y, *(p.detach().numpy() for p in theirs))
        for ours_p, torch_p, our_grad, torch_grad in zip(
            ours, theirs, our_grads, torch_grads, strict=True
        ):
            ours_p.grad, torch_p.grad = our_grad, torch.from_numpy(torch_grad)
        if skip_bias_every and step % skip_bias_every == 0:
            ours[1].grad = theirs[1].grad = None  # a parameter without gradient is left alone
        ours_optimizer.step()
        torch_optimizer.step()
        for ours_p, torch_p in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(
                ours_p.data,
                torch_p.detach().numpy(),
                rtol=1e-12,
                atol=1e-12,
                err_msg=f"step {step}",
            )
    # the run moved the parameters: the comparison was not of two idle optimisers
    assert np.abs(ours[0].data - W0).max() > 1e-3


SGD_OPTIONS = [
    {"lr": 0.1},
    {"lr": 0.1, "momentum": 0.9},
    {"lr": 0.1, "momentum": 0.9, "dampening": 0.5},
    {"lr": 0.1, "momentum": 0.9, "nesterov": True},
    {"lr": 0.1, "weight_decay": 0.1},
    {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.1, "nesterov": True},
    {"lr": 0.05, "momentum": 0.5, "dampening": 0.1, "weight_decay": 0.2},
    {"lr": 0.01, "maximize": True},
    {"lr": 0.01, "maximize": True, "momentum": 0.9, "weight_decay": 0.1},
]
RMSPROP_OPTIONS = [
    {"lr": 0.01},
    {"lr": 0.01, "centered": True},
    {"lr": 0.01, "momentum": 0.9},
    {"lr": 0.01, "momentum": 0.9, "centered": True},
    {"lr": 0.01, "weight_decay": 0.1, "alpha": 0.9, "eps": 1e-3},
    {"lr": 0.01, "weight_decay": 0.1, "momentum": 0.5, "centered": True, "maximize": True},
]
ADAM_OPTIONS = [
    {"lr": 0.05},
    {"lr": 0.05, "amsgrad": True},
    {"lr": 0.05, "weight_decay": 0.1},
    {"lr": 0.05, "weight_decay": 0.1, "amsgrad": True},
    {"lr": 0.05, "betas": (0.5, 0.9), "eps": 1e-3},
    {"lr": 0.05, "maximize": True, "weight_decay": 0.1},
]
ADAGRAD_OPTIONS = [
    {"lr": 0.1},
    {"lr": 0.1, "lr_decay": 0.1},
    {"lr": 0.1, "initial_accumulator_value": 0.5},
    {"lr": 0.1, "weight_decay": 0.1, "lr_decay": 0.05, "initial_accumulator_value": 0.1},
    {"lr": 0.1, "eps": 1e-3, "maximize": True},
]
CASES = [
    *[("SGD", options) for options in SGD_OPTIONS],
    *[("RMSprop", options) for options in RMSPROP_OPTIONS],
    *[("Adam", options) for options in ADAM_OPTIONS],
    *[("AdamW", options) for options in ADAM_OPTIONS],
    ("AdamW", {"lr": 0.05}),  # AdamW's default weight_decay=0.01
    *[("Adagrad", options) for options in ADAGRAD_OPTIONS],
]


@pytest.mark.parametrize(("name", "options"), CASES, ids=[f"{n}-{o}" for n, o in CASES])
def test_same_trajectory_as_torch(name: str, options: dict[str, Any]):
    compare(getattr(optim, name), getattr(torch.optim, name), options)


@pytest.mark.parametrize("name", ["SGD", "RMSprop", "Adam", "AdamW", "Adagrad"])
def test_param_groups_and_missing_grads_as_torch(name: str):
    options = {"lr": 0.02, "momentum": 0.9} if name in ("SGD", "RMSprop") else {"lr": 0.02}
    compare(getattr(optim, name), getattr(torch.optim, name), options, 0.1, skip_bias_every=3)


@pytest.mark.parametrize("name", ["SGD", "RMSprop", "Adam", "AdamW", "Adagrad"])
def test_pytorch_default_hyperparameters(name: str):
    import inspect

    ours = inspect.signature(getattr(optim, name)).parameters
    theirs = inspect.signature(getattr(torch.optim, name)).parameters
    for parameter in ours.values():
        if parameter.default is not inspect.Parameter.empty:
            assert parameter.default == theirs[parameter.name].default, parameter.name
