"""The network a task gets, and what its outputs mean: probabilities, classes or values.

A binary task ends in one sigmoid unit trained with binary cross-entropy (the course's output
layer): ``fit`` trains the network up to the sigmoid's input with the fused, stable form
``binary_cross_entropy_with_logits`` (dJ/dz = sigmoid(z) - y, the course's delta of the output
layer), and the saved model keeps the sigmoid, so it outputs probabilities. A multi-class task
ends in logits trained with the fused cross-entropy (softmax is applied when predicting); a
regression ends in one identity unit trained with MSE on the standardised target.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from retroprop.cli.target import Target

__all__ = [
    "LOSS_OF_TASK",
    "build_network",
    "training_view",
    "predict",
    "evaluate",
    "layer_widths",
]

LOSS_OF_TASK = {
    "binary": "binary_cross_entropy",
    "multiclass": "cross_entropy",
    "regression": "mse",
}
_OUTPUT_ACTIVATION = {"binary": "sigmoid", "multiclass": None, "regression": "identity"}


def build_network(
    n_features: int,
    hidden: Sequence[int],
    target: Target,
    activation: str = "relu",
    init: str | None = None,
    dropout: float = 0.0,
    batch_norm: bool = False,
) -> Any:
    """``nn.mlp`` with the output layer the task needs.

    Examples
    --------
    >>> target = Target("y", "binary", ["no", "yes"])
    >>> build_network(2, [4, 4], target).summary(print_table=False).total_params
    37
    """
    from retroprop import nn

    return nn.mlp(
        [n_features, *hidden, target.output_width],
        activation=activation,
        output_activation=_OUTPUT_ACTIVATION[target.task],
        dropout=dropout,
        batch_norm=batch_norm,
        init=init,
    )


def training_view(model: Any, target: Target) -> tuple[Any, str]:
    """(the module ``fit`` trains, the loss it uses).

    For a binary task that is the network without its final sigmoid (sharing its layers) and
    the fused ``binary_cross_entropy_with_logits``: the same loss, computed stably, so a run that
    diverges is caught as a divergence rather than as probabilities outside [0, 1].

    Examples
    --------
    >>> model = build_network(2, [4], Target("y", "binary", ["a", "b"]))
    >>> view, loss = training_view(model, Target("y", "binary", ["a", "b"]))
    >>> len(model), len(view), view[0] is model[0], loss
    (4, 3, True, 'binary_cross_entropy_with_logits')
    """
    if target.task == "binary":
        return model[:-1], "binary_cross_entropy_with_logits"
    return model, LOSS_OF_TASK[target.task]


def layer_widths(model: Any) -> list[int]:
    """Input width, then each Linear layer's output width.

    Examples
    --------
    >>> layer_widths(nn.mlp([2, 4, 4, 1]))
    [2, 4, 4, 1]
    """
    linears = [m for m in model.modules() if hasattr(m, "in_features")]
    return [linears[0].in_features, *(m.out_features for m in linears)] if linears else []


def raw_outputs(model: Any, X: np.ndarray) -> np.ndarray:
    """The model's outputs on X, shape (n, outputs): evaluation mode, no graph, modes restored."""
    from retroprop.nn.inference import predict as forward

    with np.errstate(all="ignore"):
        output = forward(model, X)
    return output.reshape(len(X), -1)


def _from_outputs(output: np.ndarray, target: Target) -> np.ndarray:
    """Probabilities (n, classes) or values (n,) from the model's raw outputs."""
    from retroprop import tensor
    from retroprop.nn.functional import softmax

    output = output.astype(np.float64)
    with np.errstate(all="ignore"):
        if target.task == "binary":
            p = output[:, 0]
            return np.column_stack([1.0 - p, p])
        if target.task == "multiclass":
            return softmax(tensor(output), axis=1).data
        return output[:, 0] * target.scale + target.mean


def predict(model: Any, X: np.ndarray, target: Target) -> np.ndarray:
    """Per-class probabilities (n, classes) for classification, values (n,) for regression."""
    return _from_outputs(raw_outputs(model, X), target)


def evaluate(model: Any, X: np.ndarray, y: np.ndarray, target: Target) -> dict[str, float]:
    """The loss (as trained) and the task's metrics on one split, from one forward pass.

    Classification: loss, accuracy. Regression: loss (MSE on the standardised target), and
    mae, rmse and r2 in the target's own units.
    """
    import retroprop as rp
    from retroprop.training.objectives import r2_score, resolve_loss

    objective = resolve_loss(LOSS_OF_TASK[target.task])
    output = raw_outputs(model, X)
    encoded = target.encode(y)
    if target.task == "multiclass":
        loss_target = encoded
    else:
        loss_target = encoded.reshape(-1, 1).astype(output.dtype)
    with rp.no_grad(), np.errstate(all="ignore"):
        try:
            loss = float(objective.function(rp.tensor(output), loss_target).item())
        except ValueError:  # non-finite outputs after a divergence
            loss = float("nan")
    metrics = {"loss": loss}
    prediction = _from_outputs(output, target)
    if target.classification:
        metrics["accuracy"] = float(np.mean(prediction.argmax(axis=1) == encoded))
        return metrics
    truth = np.asarray(y, dtype=np.float64)
    with np.errstate(all="ignore"):
        error = prediction - truth
        metrics["mae"] = float(np.mean(np.abs(error)))
        metrics["rmse"] = float(np.sqrt(np.mean(error**2)))
        metrics["r2"] = r2_score(truth, prediction)
    return metrics
