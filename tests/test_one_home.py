"""One concept, one home: the leftovers of issue 9 read the registries and the shared helpers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import retroprop as rp
from retroprop import nn
from retroprop._io_validate import ModelFileError, architecture_shapes
from retroprop.cli.train import _loss_description
from retroprop.diagnostics.experiments import _init_name
from retroprop.nn.config import MODULE_TYPES, register_module
from retroprop.nn.functional import LOSSES, mse_loss, register_loss
from retroprop.optim.optimizer import OPTIMIZERS, Optimizer, gradient
from retroprop.report.figures import titled_with_r2
from retroprop.sklearn import MLPClassifier
from retroprop.training.objectives import r2_score


def test_the_command_line_describes_a_loss_from_the_loss_registry():
    register_loss("tiny_loss", task="regression", output="value", description="a tiny loss")(
        mse_loss
    )
    try:
        assert _loss_description("tiny_loss") == "a tiny loss"
    finally:
        LOSSES.unregister("tiny_loss")
    assert _loss_description("cross_entropy") == LOSSES["cross_entropy"].description
    assert _loss_description("my_callable_loss") == "my_callable_loss"


def test_the_report_titles_the_r2_that_the_metrics_use():
    y_true, y_pred = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.5, 2.0, 2.5, 4.5])
    assert titled_with_r2("test", y_true, y_pred) == f"test: R² = {r2_score(y_true, y_pred):.3f}"
    # a constant target: r2_score's 0.0, as in metrics.json (the report's own formula said nan)
    assert titled_with_r2("test", np.ones(3), np.array([1.0, 2.0, 0.0])) == "test: R² = 0.000"


@pytest.fixture
def scale_module():
    """A module type with a parameter, defined and registered here only."""

    @register_module
    class Scale(nn.Module):
        """y = x * weight, one weight per feature."""

        def __init__(self, width: int) -> None:
            super().__init__()
            self.width = width
            self.weight = nn.Parameter(np.full(width, 2.0, np.float32))

        def forward(self, x: Any) -> rp.Tensor:
            return x * self.weight

        def get_config(self) -> dict[str, Any]:
            return {"width": self.width}

        @classmethod
        def config_shapes(cls, config, width):
            return {"weight": (width("width"),)}

    yield Scale
    MODULE_TYPES.unregister("Scale")


def test_a_registered_module_type_declares_its_own_shapes(scale_module, tmp_path):
    architecture = {
        "type": "Sequential",
        "modules": [
            {"type": "Linear", "in_features": 2, "out_features": 3},
            {"type": "Scale", "width": 3},
        ],
    }
    assert architecture_shapes(architecture, Path("c")) == {
        "0.weight": (2, 3),
        "0.bias": (3,),
        "1.weight": (3,),
    }
    with pytest.raises(ModelFileError, match=r"modules\[0\]\.width must be a positive integer"):
        architecture_shapes(
            {"type": "Sequential", "modules": [{"type": "Scale", "width": 0}]}, Path("c")
        )
    model = nn.Sequential(nn.Linear(2, 3), scale_module(3))
    rp.save(model, tmp_path / "m")
    loaded = rp.load(tmp_path / "m")
    np.testing.assert_array_equal(loaded[1].weight.data, model[1].weight.data)


def test_an_unregistered_or_parameterless_type_declares_nothing():
    assert architecture_shapes({"type": "ReLU"}, Path("c")) == {}
    assert architecture_shapes({"type": "Unknown", "width": 5}, Path("c")) == {}


@pytest.fixture
def plain_sgd():
    """An optimiser that takes no eps, betas or momentum."""

    class PlainSGD(Optimizer, name="plain_sgd"):
        """p <- p - lr * g."""

        def __init__(self, params, lr=0.01):
            super().__init__(params, {"lr": lr})

        def _update(self, param, state, group):
            param.data -= group["lr"] * gradient(param, 0.0, False)

    yield PlainSGD
    OPTIMIZERS.unregister("plain_sgd")


def test_an_estimator_passes_an_optimiser_only_the_options_it_takes(plain_sgd):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    estimator = MLPClassifier(
        hidden_layer_sizes=(4,), solver="plain_sgd", max_iter=3, random_state=0
    )
    with pytest.warns(Warning):  # max_iter reached before convergence
        estimator.fit(X, y)
    assert isinstance(estimator.optimizer_, plain_sgd)
    assert estimator.optimizer_.param_groups[0]["lr"] == estimator.learning_rate_init


def test_the_experiments_resolve_inits_through_the_registry():
    assert _init_name("xavier") == "xavier_uniform"  # the paper's short word
    assert _init_name("glorot_uniform") == "xavier_uniform"  # a registry alias, now canonical
    assert _init_name("he_normal") == "he_normal"
    with pytest.raises(ValueError, match="unknown init 'bogus'"):
        _init_name("bogus")


def test_the_command_lines_loss_of_each_task_is_registered_for_that_task():
    from retroprop.cli.network import LOSS_OF_TASK

    assert {task: LOSSES[name].task for task, name in LOSS_OF_TASK.items()} == {
        task: task for task in LOSS_OF_TASK
    }
