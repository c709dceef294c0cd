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
    "logits",
    "from_logits",
    "loss_from_logits",
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


def config_network(config: Any, n_features: int, target: Target) -> Any:
    """The network a train config describes, its weights drawn after ``manual_seed(config.seed)``.

    ``config`` needs ``seed``, ``hidden``, ``activation``, ``init``, ``dropout`` and
    ``batch_norm`` (a ``TrainConfig``, or a tune trial's settings): ``retroprop train`` and a
    tune trial build the same network from the same settings.
    """
    import retroprop as rp

    rp.manual_seed(config.seed)
    return build_network(
        n_features,
        list(config.hidden),
        target,
        config.activation,
        config.init,
        config.dropout,
        config.batch_norm,
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


def logits(model: Any, X: np.ndarray, target: Target) -> np.ndarray:
    """What the loss was trained on, float64 (n, outputs): for a binary task the input of the
    final sigmoid, otherwise the model's outputs. One forward pass."""
    trained = model[:-1] if target.task == "binary" else model
    return raw_outputs(trained, X).astype(np.float64)


def from_logits(z: np.ndarray, target: Target) -> np.ndarray:
    """Probabilities (n, classes) or values (n,) from :func:`logits`, in float64.

    Examples
    --------
    >>> from_logits(np.array([[0.0], [np.log(3.0)]]), Target("y", "binary", ["a", "b"]))
    array([[0.5 , 0.5 ],
           [0.25, 0.75]])
    """
    with np.errstate(all="ignore"):
        if target.task == "binary":
            p = 0.5 * (1.0 + np.tanh(0.5 * z[:, 0]))  # sigmoid, without overflow
            return np.column_stack([1.0 - p, p])
        if target.task == "multiclass":
            shifted = z - z.max(axis=1, keepdims=True)
            e = np.exp(shifted)
            return e / e.sum(axis=1, keepdims=True)
        return z[:, 0] * target.scale + target.mean


def loss_from_logits(
    z: np.ndarray, encoded: np.ndarray, target: Target, weights: np.ndarray | None = None
) -> float:
    """The training loss in float64, from the logits: binary ``max(z,0) - z y + log1p(e^-|z|)``,
    multi-class ``logsumexp(z) - z_y``, regression the squared error on the standardised target;
    the mean over rows, weighted by ``weights`` as training weighs them.

    Examples
    --------
    >>> target = Target("y", "binary", ["a", "b"])
    >>> round(loss_from_logits(np.array([[40.0]]), np.array([0]), target), 6)  # p = 1 - 4e-18
    40.0
    """
    z = np.asarray(z, dtype=np.float64)
    with np.errstate(all="ignore"):
        if target.task == "binary":
            y = np.asarray(encoded, dtype=np.float64)
            per_row = np.maximum(z[:, 0], 0) - z[:, 0] * y + np.log1p(np.exp(-np.abs(z[:, 0])))
        elif target.task == "multiclass":
            top = z.max(axis=1, keepdims=True)
            log_sum = np.log(np.exp(z - top).sum(axis=1)) + top[:, 0]
            per_row = log_sum - z[np.arange(len(z)), np.asarray(encoded, dtype=np.int64)]
        else:
            per_row = (z[:, 0] - np.asarray(encoded, dtype=np.float64)) ** 2
    if weights is None:
        return float(np.mean(per_row))
    weights = np.asarray(weights, dtype=np.float64)
    return float(np.dot(per_row, weights) / weights.sum())


def predict(model: Any, X: np.ndarray, target: Target) -> np.ndarray:
    """Per-class probabilities (n, classes) for classification, values (n,) for regression."""
    return from_logits(logits(model, X, target), target)


def evaluate(
    model: Any,
    X: np.ndarray,
    y: np.ndarray,
    target: Target,
    weights: np.ndarray | None = None,
    threshold: float = 0.5,
) -> dict[str, float]:
    """The loss (as trained, from the logits) and the task's headline metrics on one split,
    from one forward pass.

    Classification: loss, accuracy (binary: positive when p >= ``threshold``). Regression:
    loss (MSE on the standardised target), and mae, rmse and r2 in the target's own units.
    The full scores are :func:`retroprop.cli.outputs.evaluate_splits`'s.
    """
    from retroprop.cli.metrics import decide
    from retroprop.training.objectives import r2_score

    z = logits(model, X, target)
    encoded = target.encode(y)
    metrics = {"loss": loss_from_logits(z, encoded, target, weights)}
    prediction = from_logits(z, target)
    if target.classification:
        metrics["accuracy"] = float(np.mean(decide(prediction, threshold) == encoded))
        return metrics
    truth = np.asarray(y, dtype=np.float64)
    with np.errstate(all="ignore"):
        error = prediction - truth
        metrics["mae"] = float(np.mean(np.abs(error)))
        metrics["rmse"] = float(np.sqrt(np.mean(error**2)))
        metrics["r2"] = r2_score(truth, prediction)
    return metrics
