"""Activations and losses as functions on tensors, with PyTorch's names and semantics.

Losses take ``reduction="mean" | "sum" | "none"``. Targets are data, not parameters: they are
converted to the prediction's dtype, so a float64 label array never upcasts a float32 model.
Each loss registers itself by name (``@register_loss``) in :data:`LOSSES`, with the task it
serves and what the model's output must be; ``fit(loss=name)`` and the faces read that registry.

Examples
--------
>>> import retroprop.nn.functional as F
>>> F.softmax(rp.tensor([1000.0, 5000.0, 6000.0]))
tensor([0., 0., 1.])
>>> F.binary_cross_entropy_with_logits(rp.tensor([1000.0, -1000.0]), rp.tensor([1.0, 1.0]),
...                                    reduction="none")
tensor([   0., 1000.])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal, NamedTuple

import numpy as np

from retroprop.backend import is_floating
from retroprop.function import ShapeError
from retroprop.ops import activation as _act
from retroprop.ops import loss as _loss
from retroprop.registry import Registry
from retroprop.tensor import Tensor

__all__ = [
    "LOSSES",
    "LossSpec",
    "register_loss",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "elu",
    "gelu",
    "silu",
    "swish",
    "mish",
    "softplus",
    "softmax",
    "log_softmax",
    "identity",
    "mse_loss",
    "pseudo_mse_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
]

Reduction = Literal["mean", "sum", "none"]
_REDUCTIONS = ("mean", "sum", "none")


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


# ------------------------------------------------------------------------ activations
def sigmoid(x: Tensor) -> Tensor:
    """Logistic function sigma(z) = 1 / (1 + exp(-z)); derivative sigma(z) (1 - sigma(z))."""
    return _act.Sigmoid.apply(_as_tensor(x))


def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent; derivative 1 - tanh(z)**2."""
    return _act.Tanh.apply(_as_tensor(x))


def relu(x: Tensor) -> Tensor:
    """Rectified linear unit max(z, 0); derivative 1 for z > 0, else 0."""
    return _act.ReLU.apply(_as_tensor(x))


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """z for z > 0, else negative_slope * z: a dead ReLU still gets a gradient."""
    return _act.LeakyReLU.apply(_as_tensor(x), negative_slope=float(negative_slope))


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """Exponential linear unit: z for z > 0, else alpha (exp(z) - 1)."""
    return _act.ELU.apply(_as_tensor(x), alpha=float(alpha))


def gelu(x: Tensor, approximate: Literal["none", "tanh"] = "none") -> Tensor:
    """Gaussian error linear unit z Phi(z) (``approximate="tanh"``: the tanh formula)."""
    return _act.GELU.apply(_as_tensor(x), approximate=approximate)


def silu(x: Tensor) -> Tensor:
    """SiLU, also called Swish: z sigmoid(z)."""
    return _act.SiLU.apply(_as_tensor(x))


swish = silu


def mish(x: Tensor) -> Tensor:
    """Mish: z tanh(softplus(z))."""
    return _act.Mish.apply(_as_tensor(x))


def softplus(x: Tensor) -> Tensor:
    """log(1 + exp(z)), a smooth ReLU; derivative sigmoid(z)."""
    return _act.Softplus.apply(_as_tensor(x))


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """exp(z_i) / sum_j exp(z_j) along ``axis``, computed with the max subtracted (stable)."""
    return _act.Softmax.apply(_as_tensor(x), axis=axis)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """log softmax(z) = z - logsumexp(z) along ``axis``, stable."""
    return _act.LogSoftmax.apply(_as_tensor(x), axis=axis)


def identity(x: Tensor) -> Tensor:
    """The identity g(z) = z, the output activation of a regression."""
    return _as_tensor(x)


# ------------------------------------------------------------------------ losses
class LossSpec(NamedTuple):
    """A registered loss: ``function(output, target, reduction=...)`` and what it expects.

    Attributes
    ----------
    function : callable
    task : {"regression", "binary", "multiclass"}
        What the targets are: values, 0/1 labels (or probabilities), class indices.
    output : {"value", "probability", "logit"}
        What the model's last layer must produce.
    description : str
        A few words for a reader ("mean squared error").
    """

    function: Callable[..., Tensor]
    task: str
    output: str
    description: str


#: The losses by name (and alias), each a :class:`LossSpec`.
LOSSES: Registry[LossSpec] = Registry("loss")


def register_loss(
    name: str, *, task: str, output: str, description: str = "", aliases: Sequence[str] = ()
) -> Callable[[Callable[..., Tensor]], Callable[..., Tensor]]:
    """Decorator: register a loss ``function(output, target, reduction="mean")`` as ``name``.

    Raises
    ------
    ValueError
        For a taken name, or a ``task`` or ``output`` outside the documented values.
    """
    if task not in ("regression", "binary", "multiclass"):
        raise ValueError(f"register_loss({name!r}): unknown task {task!r}")
    if output not in ("value", "probability", "logit"):
        raise ValueError(f"register_loss({name!r}): unknown output {output!r}")

    def register(function: Callable[..., Tensor]) -> Callable[..., Tensor]:
        spec = LossSpec(function, task, output, description or name.replace("_", " "))
        LOSSES.register(name, spec, aliases=tuple(aliases))
        return function

    return register


def _check_reduction(reduction: str, loss: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{loss}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _target_like(target: Any, prediction: Tensor, loss: str, same_shape: bool = True) -> Any:
    """The target as an array (or grad-requiring tensor) of the prediction's dtype and shape."""
    if isinstance(target, Tensor) and target.requires_grad:
        if target.dtype != prediction.dtype:
            raise TypeError(f"{loss}: target is {target.dtype} but input is {prediction.dtype}")
        array = target.data
    else:
        array = np.asarray(target.data if isinstance(target, Tensor) else target)
        if array.dtype != prediction.dtype:
            array = array.astype(prediction.dtype)
        target = array
    if same_shape and array.shape != prediction.shape:
        raise ShapeError(
            f"{loss}: input has shape {prediction.shape} but target has shape {array.shape}; "
            "they must match (reshape the target, e.g. y.reshape(-1, 1) for one output)"
        )
    return target


def _weight_like(weight: Any, prediction: Tensor) -> np.ndarray | None:
    if weight is None:
        return None
    array = np.asarray(weight.data if isinstance(weight, Tensor) else weight)
    return array.astype(prediction.dtype, copy=False)


@register_loss(
    "mse",
    task="regression",
    output="value",
    description="mean squared error",
    aliases=("mean_squared_error",),
)
def mse_loss(input: Tensor, target: Any, reduction: Reduction = "mean") -> Tensor:  # noqa: A002
    """Mean squared error: mean of (input - target)**2.

    Parameters
    ----------
    input : Tensor
        Predictions.
    target : array-like or Tensor
        Targets, same shape as ``input``.
    reduction : {"mean", "sum", "none"}, default "mean"

    Examples
    --------
    >>> mse_loss(rp.tensor([1.0, 3.0]), [0.0, 1.0])
    tensor(2.5)
    """
    _check_reduction(reduction, "mse_loss")
    input = _as_tensor(input)  # noqa: A001
    target = _target_like(target, input, "mse_loss")
    return _loss.SquaredError.apply(input, target, reduction=reduction, scale=1.0)


@register_loss("pseudo_mse", task="regression", output="value", description="half squared error")
def pseudo_mse_loss(input: Tensor, target: Any, reduction: Reduction = "mean") -> Tensor:  # noqa: A002
    """The course's pseudo-MSE, 1/2 (y_hat - y)**2, whose gradient is epsilon = y_hat - y.

    ``reduction="sum"`` gives the course's l = 1/2 sum_i (y_hat_i - y_i)**2.

    Examples
    --------
    >>> pseudo_mse_loss(rp.tensor([1.0, 3.0]), [0.0, 1.0], reduction="sum")
    tensor(2.5)
    """
    _check_reduction(reduction, "pseudo_mse_loss")
    input = _as_tensor(input)  # noqa: A001
    target = _target_like(target, input, "pseudo_mse_loss")
    return _loss.SquaredError.apply(input, target, reduction=reduction, scale=0.5)


@register_loss(
    "binary_cross_entropy",
    task="binary",
    output="probability",
    aliases=("bce",),
    description="binary cross-entropy",
)
def binary_cross_entropy(
    input: Tensor,  # noqa: A002
    target: Any,
    weight: Any = None,
    reduction: Reduction = "mean",
) -> Tensor:
    """Binary cross-entropy on probabilities: -[y log p + (1 - y) log(1 - p)].

    Each log is clamped at -100 (PyTorch's rule), so p = 0 or 1 gives a large finite loss.
    Prefer :func:`binary_cross_entropy_with_logits`, which is exact for any logit.

    Raises
    ------
    ValueError
        When an element of ``input`` lies outside [0, 1].
    """
    _check_reduction(reduction, "binary_cross_entropy")
    input = _as_tensor(input)  # noqa: A001
    data = input.data
    outside = ~((data >= 0) & (data <= 1))
    if outside.any():
        where = np.argwhere(outside)[:5].tolist()
        raise ValueError(
            f"binary_cross_entropy: input must hold probabilities in [0, 1]; found values "
            f"outside at {where} (did you pass logits? use binary_cross_entropy_with_logits)"
        )
    target = _target_like(target, input, "binary_cross_entropy")
    return _loss.BinaryCrossEntropy.apply(
        input, _plain(target), _weight_like(weight, input), reduction=reduction
    )


@register_loss(
    "binary_cross_entropy_with_logits",
    task="binary",
    output="logit",
    aliases=("bce_with_logits",),
    description="binary cross-entropy (fused with the sigmoid)",
)
def binary_cross_entropy_with_logits(
    input: Tensor,  # noqa: A002
    target: Any,
    weight: Any = None,
    reduction: Reduction = "mean",
    pos_weight: Any = None,
) -> Tensor:
    """BCE of sigmoid(z), fused and stable: max(z, 0) - z y + log(1 + exp(-|z|)).

    Its gradient is the course's dJ/dz = sigmoid(z) - y. ``pos_weight`` multiplies the loss of
    positive examples (for imbalanced classes).

    Examples
    --------
    >>> z = rp.tensor([0.0], requires_grad=True)
    >>> binary_cross_entropy_with_logits(z, [1.0]).backward()
    >>> z.grad   # sigmoid(0) - 1
    array([-0.5], dtype=float32)
    """
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    input = _as_tensor(input)  # noqa: A001
    target = _target_like(target, input, "binary_cross_entropy_with_logits")
    return _loss.BinaryCrossEntropyWithLogits.apply(
        input,
        target,
        _weight_like(weight, input),
        _weight_like(pos_weight, input),
        reduction=reduction,
    )


@register_loss(
    "cross_entropy",
    task="multiclass",
    output="logit",
    aliases=("categorical_cross_entropy",),
    description="cross-entropy (fused with softmax)",
)
def cross_entropy(
    input: Tensor,  # noqa: A002
    target: Any,
    weight: Any = None,
    reduction: Reduction = "mean",
) -> Tensor:
    """Cross-entropy on logits, fused with the softmax: -log softmax(z)[y].

    Its gradient is dJ/dz = softmax(z) - y (one-hot y). Computed with log-sum-exp, so any
    logits give a finite loss.

    Parameters
    ----------
    input : Tensor
        Logits of shape (N, C), or (C,) for one example.
    target : array-like or Tensor
        Integer class labels of shape (N,) in [0, C), or class probabilities of shape (N, C).
    weight : array-like, optional
        A weight per class, shape (C,).
    reduction : {"mean", "sum", "none"}, default "mean"

    Raises
    ------
    ValueError
        When a label lies outside [0, C), naming the rows.

    Examples
    --------
    >>> z = rp.tensor([[2.0, 0.0, 0.0]], requires_grad=True)
    >>> loss = cross_entropy(z, [0])
    >>> round(loss.item(), 4)
    0.2395
    """
    _check_reduction(reduction, "cross_entropy")
    input = _as_tensor(input)  # noqa: A001
    if input.ndim == 1:
        target_array = np.asarray(_plain(target))
        batched = cross_entropy(input.reshape(1, -1), target_array[None], weight, reduction)
        return batched.reshape(()) if reduction == "none" else batched
    if input.ndim != 2:
        raise ShapeError(f"cross_entropy: input must be (N, C) logits, got shape {input.shape}")
    n, classes = input.shape
    raw = np.asarray(_plain(target))
    if raw.dtype.kind in "iub" or (raw.ndim == 1 and not is_floating(raw.dtype)):
        labels = raw.astype(np.int64, copy=False)
        if labels.shape != (n,):
            raise ShapeError(
                f"cross_entropy: {n} rows of logits but labels of shape {labels.shape}; "
                f"expected ({n},)"
            )
        bad = np.flatnonzero((labels < 0) | (labels >= classes))
        if bad.size:
            raise ValueError(
                f"cross_entropy: labels must lie in [0, {classes}) for {classes} outputs; rows "
                f"{bad[:10].tolist()} hold {labels[bad[:10]].tolist()}"
            )
        target = labels
    elif raw.ndim == 1:
        raise TypeError(
            f"cross_entropy: class labels must be integers, got {raw.dtype} of shape {raw.shape}"
            "; convert them with y.astype(int), or pass probabilities of shape (N, C)"
        )
    else:
        target = _target_like(target, input, "cross_entropy")
    weight_array = _weight_like(weight, input)
    if weight_array is not None and weight_array.shape != (classes,):
        raise ShapeError(
            f"cross_entropy: weight must have shape ({classes},), got {weight_array.shape}"
        )
    return _loss.CrossEntropy.apply(input, target, weight_array, reduction=reduction)


def _plain(value: Any) -> Any:
    return value.data if isinstance(value, Tensor) and not value.requires_grad else value
