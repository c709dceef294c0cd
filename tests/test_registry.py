"""Registries: a new activation (an op and a module) and a new optimiser, defined here and
nowhere else, work everywhere: fit, save/load, the estimators, the command line."""

from __future__ import annotations

import json
import warnings
from typing import Any

import numpy as np
import pytest

import retroprop as rp
from retroprop import nn, optim
from retroprop.cli import build_parser, main
from retroprop.cli.options import check_options
from retroprop.io import ModelFileError
from retroprop.nn.activation import ACTIVATIONS, unregister_activation
from retroprop.nn.config import MODULE_TYPES, module_from_config, module_to_config
from retroprop.optim.optimizer import OPTIMIZERS, Optimizer, gradient
from retroprop.registry import Registry
from retroprop.sklearn import MLPClassifier


@pytest.fixture
def softsign_and_signsgd():
    """Define the new activation (2 things: op, module) and the new optimiser (1 class)."""

    class SoftsignOp(rp.Function):
        """a = z / (1 + |z|);  da/dz = 1 / (1 + |z|)**2."""

        @staticmethod
        def forward(ctx, z):
            ctx.save_for_backward(z)
            return z / (1 + np.abs(z))

        @staticmethod
        def backward(ctx, grad_output):
            (z,) = ctx.saved_tensors
            return grad_output / (1 + np.abs(z)) ** 2

    class Softsign(nn.Activation, name="softsign"):
        """z / (1 + |z|), in (-1, 1)."""

        def forward(self, x: Any) -> rp.Tensor:
            return SoftsignOp.apply(x)

    class SignSGD(Optimizer, name="signsgd"):
        """p <- p - lr * sign(g)."""

        def __init__(self, params, lr=0.01, eps=1e-8, weight_decay=0.0):
            super().__init__(params, {"lr": lr, "eps": eps, "weight_decay": weight_decay})

        def _update(self, param, state, group):
            g = gradient(param, group["weight_decay"], False)
            param.data -= group["lr"] * np.sign(g)

    yield Softsign, SignSGD
    unregister_activation("softsign")
    OPTIMIZERS.unregister("signsgd")


def blobs(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.concatenate([rng.normal(-2, 1, (60, 2)), rng.normal(2, 1, (60, 2))])
    return X.astype(np.float32), np.repeat([0, 1], 60)


def test_the_new_names_are_known_everywhere(softsign_and_signsgd):
    Softsign, SignSGD = softsign_and_signsgd
    assert ACTIVATIONS["softsign"] is Softsign and MODULE_TYPES["Softsign"] is Softsign
    assert isinstance(nn.get_activation("softsign"), Softsign)
    assert optim.OPTIMIZER_CLASSES["signsgd"] is SignSGD
    assert isinstance(optim.get_optimizer("signsgd", [rp.tensor([1.0])]), SignSGD)


def test_fit_and_save_load_round_trip(softsign_and_signsgd, tmp_path):
    Softsign, _ = softsign_and_signsgd
    X, y = blobs()
    _ = rp.manual_seed(0)
    model = nn.mlp([2, 8, 1], activation="softsign")
    assert isinstance(model[1], Softsign)
    assert model[0].weight_init == "xavier_normal"  # Activation's default linear_init
    history = rp.fit(
        model,
        X,
        y,
        loss="binary_cross_entropy_with_logits",
        optimizer="signsgd",
        epochs=20,
        batch_size=32,
        verbose=0,
    )
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    rp.save(model, tmp_path / "model")
    loaded = rp.load(tmp_path / "model")
    assert isinstance(loaded[1], Softsign)
    np.testing.assert_array_equal(loaded(X).data, model.eval()(X).data)
    assert json.loads(json.dumps(module_to_config(model))) == module_to_config(loaded)


def test_estimator_accepts_the_new_activation_and_solver(softsign_and_signsgd):
    Softsign, SignSGD = softsign_and_signsgd
    X, y = blobs(1)
    clf = MLPClassifier(
        (8,),
        activation="softsign",
        solver="signsgd",
        max_iter=30,
        learning_rate_init=0.05,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning
        clf.fit(X, y)
    assert isinstance(clf.model_[1], Softsign) and isinstance(clf.optimizer_, SignSGD)
    assert clf.score(X, y) > 0.9
    assert clf.predict(X).shape == (120,)


def test_estimator_rejects_names_that_are_not_registered():
    X, y = blobs()
    with pytest.raises(ValueError, match="'activation' parameter .* Got 'softsign'"):
        MLPClassifier(activation="softsign").fit(X, y)
    with pytest.raises(ValueError, match="'solver' parameter .* Got 'signsgd'"):
        MLPClassifier(solver="signsgd").fit(X, y)


def test_command_line_accepts_them(softsign_and_signsgd, tmp_path):
    parser = build_parser()
    argv = ["train", "--dataset", "xor", "--activation", "softsign", "--optimizer", "signsgd"]
    args = parser.parse_args(argv)
    check_options(args)  # the activation is checked here, the optimiser by argparse
    assert "signsgd" in parser.format_help() or "signsgd" in _train_help(parser)
    out = tmp_path / "run"
    code = main([*argv, "--epochs", "2", "--seed", "0", "--quiet", "--out", str(out)])
    assert code == 0
    assert isinstance(rp.load(out)[1], softsign_and_signsgd[0])


def _train_help(parser) -> str:
    for action in parser._subparsers._group_actions:
        return action.choices["train"].format_help()
    return ""


def test_command_line_rejects_an_unknown_optimizer(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--dataset", "xor", "--optimizer", "signsgd"])
    assert "invalid choice: 'signsgd'" in capsys.readouterr().err


def test_duplicate_names_are_errors():
    with pytest.raises(ValueError, match="activation 'relu' is already registered"):

        class MyReLU(nn.Activation, name="relu"):
            pass

    with pytest.raises(ValueError, match="module type 'ReLU' is already registered"):

        class ReLU(nn.Activation, name="my_relu"):
            pass

    with pytest.raises(ValueError, match="optimizer 'adam' is already registered"):

        class MyAdam(optim.Adam, name="adam"):
            pass

    with pytest.raises(ValueError, match="init 'glorot_normal' is already registered"):
        nn.init.register("glorot_normal", nn.init.xavier_normal_)
    with pytest.raises(ValueError, match="loss 'bce' is already registered"):
        nn.functional.register_loss("bce", task="binary", output="probability")(lambda o, t: o)
    assert "my_relu" not in ACTIVATIONS and "MyAdam" not in OPTIMIZERS  # nothing half-added


def test_a_file_naming_an_unregistered_type_is_refused(softsign_and_signsgd, tmp_path):
    model = nn.Sequential(nn.Linear(2, 2), softsign_and_signsgd[0]())
    rp.save(model, tmp_path / "model")
    config = module_to_config(model)
    unregister_activation("softsign")
    try:
        with pytest.raises(ModelFileError, match="unknown module type 'Softsign'"):
            rp.load(tmp_path / "model")
        with pytest.raises(ValueError, match="unknown module type 'Softsign'"):
            module_from_config(config)
        with pytest.raises(TypeError, match="Softsign is not one of retroprop's built-in"):
            module_to_config(model)
    finally:  # the fixture's teardown unregisters it again
        ACTIVATIONS.register("softsign", softsign_and_signsgd[0])
        MODULE_TYPES.register("Softsign", softsign_and_signsgd[0])


def test_a_subclass_without_a_name_is_not_registered():
    class Scaled(nn.Tanh):
        pass

    assert "Scaled" not in MODULE_TYPES
    with pytest.raises(TypeError, match="Scaled is not one of retroprop's built-in"):
        module_to_config(Scaled())


def test_new_loss_and_initialiser_are_known_to_fit():
    @nn.functional.register_loss("half_mse", task="regression", output="value")
    def half_mse(output, target, reduction="mean"):
        return nn.functional.mse_loss(output, target, reduction=reduction) * 0.5

    nn.init.register("tiny", lambda w, generator=None: nn.init.normal_(w, 0, 1e-3, generator))
    try:
        X = np.linspace(-1, 1, 40, dtype=np.float32).reshape(-1, 1)
        model = nn.mlp([1, 4, 1], init="tiny")
        assert float(np.abs(model[0].weight.data).max()) < 0.01
        history = rp.fit(model, X, 2 * X, loss="half_mse", optimizer="sgd", epochs=2, verbose=0)
        assert len(history.history["loss"]) == 2
    finally:
        nn.functional.LOSSES.unregister("half_mse")
        nn.init.INITIALIZERS.unregister("tiny")


def test_registry_views_are_live():
    things = Registry("thing")
    odd = things.view(where=lambda name, n: n % 2 == 1)
    assert set(odd) == set() and len(odd) == 0
    things.register("one", 1, aliases=("uno",))
    things.register("two", 2)
    assert sorted(odd) == ["one", "uno"] and odd["uno"] == 1 and "two" not in odd
    assert set() - odd == set() and not isinstance(odd - {"one"}, type(odd))
    with pytest.raises(KeyError):
        odd["two"]
    assert things.canonical("uno") == "one" and things.entries() == {"one": 1, "two": 2}
    assert things.unregister("one") == 1 and "uno" not in things
    with pytest.raises(KeyError, match="'one' is not registered"):
        things.unregister("one")
    with pytest.raises(TypeError, match="non-empty strings"):
        things.register("", 3)
