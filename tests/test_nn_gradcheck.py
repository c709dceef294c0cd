"""Every layer's gradients against central finite differences, in float64.

``rp.gradcheck`` perturbs float64 copies of its inputs, so the module's parameters are passed
as inputs too and swapped into the module for the duration of each call.
"""

from __future__ import annotations

import numpy as np
import pytest

import retroprop as rp
from retroprop import nn
from retroprop.random import using_generator


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values in +-[0.2, 1.2]: no element near the kink of ReLU-like functions."""
    return rng.choice([-1.0, 1.0], size=shape) * (0.2 + rng.random(shape))


def check_module(module: nn.Module, x: np.ndarray, params: bool = True, reseed: bool = False):
    """Gradcheck ``module`` w.r.t. its input and (``params``) every parameter."""
    slots = [
        (owner, name)
        for _, owner in module.named_modules()
        for name, value in owner._parameters.items()
        if value is not None
    ]
    if not params:
        slots = []
    originals = [owner._parameters[name] for owner, name in slots]

    def fn(x_tensor, *tensors):
        for (owner, name), tensor in zip(slots, tensors, strict=True):
            owner._parameters[name] = tensor
        if reseed:
            with using_generator(np.random.default_rng(7)):
                return module(x_tensor)
        return module(x_tensor)

    try:
        assert rp.gradcheck(fn, [x, *[p.data.copy() for p in originals]])
    finally:
        for (owner, name), original in zip(slots, originals, strict=True):
            owner._parameters[name] = original


@pytest.mark.parametrize("bias", [True, False])
def test_linear(rng, bias):
    layer = nn.Linear(3, 2, bias=bias, dtype=np.float64)
    check_module(layer, rng.standard_normal((4, 3)))
    assert len(list(layer.parameters())) == (2 if bias else 1)


def test_linear_single_example(rng):
    check_module(nn.Linear(3, 2, dtype=np.float64), rng.standard_normal(3))


@pytest.mark.parametrize(
    "activation",
    [
        nn.Sigmoid(),
        nn.Tanh(),
        nn.ReLU(),
        nn.LeakyReLU(0.1),
        nn.ELU(0.7),
        nn.GELU(),
        nn.GELU("tanh"),
        nn.SiLU(),
        nn.Mish(),
        nn.Softplus(),
        nn.Softmax(),
        nn.Softmax(axis=0),
        nn.LogSoftmax(),
        nn.Identity(),
    ],
    ids=repr,
)
def test_activation(rng, activation):
    check_module(activation, away_from_zero(rng, (3, 4)))


@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm_train_mode(rng, affine):
    bn = nn.BatchNorm1d(3, affine=affine, dtype=np.float64)
    if affine:
        bn.weight.data[...] = [0.5, 2.0, -1.0]
        bn.bias.data[...] = [0.1, -0.3, 0.0]
    check_module(bn, rng.standard_normal((5, 3)) * 2 + 1)


def test_batchnorm_train_mode_three_dimensional(rng):
    bn = nn.BatchNorm1d(2, dtype=np.float64)
    bn.weight.data[...] = [1.5, -0.5]
    check_module(bn, rng.standard_normal((3, 2, 4)))


def test_batchnorm_eval_mode(rng):
    bn = nn.BatchNorm1d(3, dtype=np.float64)
    bn.running_mean[...] = [0.5, -1.0, 2.0]
    bn.running_var[...] = [0.25, 4.0, 1.0]
    bn.weight.data[...] = [0.5, 2.0, -1.0]
    check_module(bn.eval(), rng.standard_normal((4, 3)))


def test_residual(rng):
    block = nn.Sequential(nn.Linear(3, 3, dtype=np.float64), nn.Tanh())
    check_module(nn.Residual(block), rng.standard_normal((4, 3)))


def test_dropout_with_a_fixed_generator(rng):
    drop = nn.Dropout(0.4)
    # Dropout alone would be linear in x; the product makes the check meaningful.
    model = nn.Sequential(nn.Linear(4, 3, dtype=np.float64), drop, nn.Tanh())
    check_module(model, rng.standard_normal((5, 4)), reseed=True)
    with using_generator(np.random.default_rng(7)):
        dropped = drop(rp.tensor(np.ones((5, 3))))
    assert 0 < np.count_nonzero(dropped.data) < 15  # the mask really dropped some units


def test_flatten(rng):
    model = nn.Sequential(nn.Flatten(), nn.Linear(6, 2, dtype=np.float64))
    check_module(model, rng.standard_normal((3, 2, 3)))


def test_sequential_mlp_with_everything(rng):
    _ = rp.manual_seed(3)
    model = nn.mlp(
        [3, 4, 2],
        activation="tanh",
        output_activation="sigmoid",
        batch_norm=True,
        dtype=np.float64,
    )
    check_module(model, rng.standard_normal((5, 3)))


def test_input_only_check_leaves_parameters_alone(rng):
    layer = nn.Linear(2, 2, dtype=np.float64)
    before = layer.weight.data.copy()
    check_module(layer, rng.standard_normal((3, 2)), params=False)
    np.testing.assert_array_equal(layer.weight.data, before)


def test_residuals_between_layers_and_nested(rng):
    f64 = np.float64
    inner = nn.Residual(nn.Sequential(nn.Linear(3, 3, dtype=f64), nn.Tanh()))
    model = nn.Sequential(
        nn.Linear(2, 3, dtype=f64),
        nn.Tanh(),
        nn.Residual(nn.Sequential(inner, nn.Linear(3, 3, dtype=f64))),
        nn.Residual(nn.Sigmoid()),
        nn.Linear(3, 1, dtype=f64),
    )
    check_module(model, rng.standard_normal((4, 2)))
