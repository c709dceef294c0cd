"""Helpers on whole models: gradient clipping (PyTorch's ``torch.nn.utils`` names) and
``float64_copy``.

Gradient clipping rescales or caps gradients in place before ``optimizer.step()``: a remedy for
exploding gradients. Clipping by norm keeps the direction of the whole gradient and only
shortens it; clipping by value caps each coordinate separately. (``retroprop.optim`` offers the
same two functions.)

>>> w = rp.tensor([0.0, 0.0], requires_grad=True)
>>> w.grad = rp.tensor([3.0, 4.0]).numpy()
>>> round(nn.utils.clip_grad_norm_([w], max_norm=1.0), 3)
5.0
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np

from retroprop.nn.config import module_from_config, module_to_config
from retroprop.nn.module import Module

__all__ = ["clip_grad_norm_", "clip_grad_value_", "float64_copy"]


def float64_copy(model: Module) -> Module:
    """A copy of ``model`` whose floating parameters and buffers are float64.

    A model made of registered module types (:data:`~retroprop.nn.config.MODULE_TYPES`) is
    rebuilt from its config with ``dtype="float64"`` and given the model's weights; any other
    model is deep-copied and its arrays cast (a custom module that records its dtype elsewhere
    may then need its own float64 version). The copy keeps the mode (``training``) and the
    frozen parameters; it has no gradients and no forward hooks, so a probe on the model does
    not record the copy.

    Examples
    --------
    >>> model = nn.mlp([2, 3, 1])
    >>> copy64 = float64_copy(model)
    >>> copy64[0].weight.dtype, model[0].weight.dtype
    (dtype('float64'), dtype('float32'))
    >>> bool((copy64[0].weight.data == model[0].weight.data).all())
    True
    """
    try:
        config = module_to_config(model)
    except TypeError:
        return _cast_copy(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. init="zeros" warns again when rebuilt
        clone = module_from_config(_with_float64(config))
    clone.load_state_dict(model.state_dict())
    frozen = {name for name, p in model.named_parameters() if not p.requires_grad}
    for name, param in clone.named_parameters():
        if name in frozen:
            param.requires_grad_(False)
    return clone.train(model.training)


def _with_float64(config: Any) -> Any:
    """A module config with every "dtype" entry set to float64."""
    if isinstance(config, dict):
        return {
            key: "float64" if key == "dtype" else _with_float64(value)
            for key, value in config.items()
        }
    if isinstance(config, list):
        return [_with_float64(item) for item in config]
    return config


def _cast_copy(model: Module) -> Module:
    """A deep copy without hooks or gradients, its floating arrays cast to float64."""
    memo: dict[int, Any] = {}
    for module in model.modules():
        memo[id(module._forward_hooks)] = {}
        for param in module._parameters.values():
            if param is not None and param.grad is not None:
                memo[id(param.grad)] = None
    clone = copy.deepcopy(model, memo)
    for module in clone.modules():
        for param in module._parameters.values():
            if param is not None and param.dtype.kind == "f":
                param.data = np.ascontiguousarray(param.data, dtype=np.float64)
        for name, buffer in list(module._buffers.items()):
            if buffer is not None and buffer.dtype.kind == "f":
                setattr(module, name, buffer.astype(np.float64))
    return clone


def clip_grad_norm_(
    parameters: Any | Iterable[Any],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> float:
    """Scale all gradients together so that their global norm is at most ``max_norm``.

    The global norm is the norm of all gradients concatenated into one vector (the norm of
    the per-parameter norms). Every gradient is multiplied, in place, by PyTorch's factor::

        total_norm = || (||grad_1||, ..., ||grad_k||) ||
        clip_coef = min(max_norm / (total_norm + 1e-6), 1)
        grad_i = grad_i * clip_coef

    Parameters
    ----------
    parameters : Tensor or iterable of Tensor
        Tensors whose ``.grad`` is clipped; those with ``grad`` None are left out.
    max_norm : float
        The largest norm allowed.
    norm_type : float, default 2.0
        The p of the p-norm; ``float("inf")`` for the largest absolute value.
    error_if_nonfinite : bool, default False
        Raise instead of clipping when the total norm is NaN or infinite.

    Returns
    -------
    float
        The global norm of the gradients *before* clipping (0.0 when there are none).

    Raises
    ------
    FloatingPointError
        If ``error_if_nonfinite`` and the total norm is NaN or infinite.

    Examples
    --------
    >>> w = rp.tensor(np.zeros(2), requires_grad=True)
    >>> b = rp.tensor(np.zeros(1), requires_grad=True)
    >>> w.grad, b.grad = np.array([3.0, 0.0]), np.array([4.0])
    >>> clip_grad_norm_([w, b], max_norm=1.0)
    5.0
    >>> w.grad.round(6), b.grad.round(6)
    (array([0.6, 0. ]), array([0.8]))
    """
    grads = [param.grad for param in _as_list(parameters) if param.grad is not None]
    if not grads:
        return 0.0
    norm_type = float(norm_type)
    norms = [float(np.linalg.norm(grad.reshape(-1), ord=norm_type)) for grad in grads]
    total_norm = float(np.linalg.norm(np.array(norms), ord=norm_type))
    if error_if_nonfinite and not np.isfinite(total_norm):
        raise FloatingPointError(
            f"the total norm of order {norm_type} of the gradients is {total_norm}, so it cannot "
            "be clipped; pass error_if_nonfinite=False to scale the gradients by it anyway"
        )
    clip_coef = float(max_norm) / (total_norm + 1e-6)
    if clip_coef >= 1.0:  # already short enough (a NaN coefficient falls through, as in PyTorch)
        return total_norm
    with np.errstate(invalid="ignore"):  # inf * 0 = NaN, as in PyTorch
        for grad in grads:
            grad *= clip_coef
    return total_norm


def clip_grad_value_(parameters: Any | Iterable[Any], clip_value: float) -> None:
    """Clamp every gradient coordinate into ``[-clip_value, clip_value]``, in place.

    Parameters
    ----------
    parameters : Tensor or iterable of Tensor
        Tensors whose ``.grad`` is clipped; those with ``grad`` None are left out.
    clip_value : float
        The largest absolute value allowed.

    Examples
    --------
    >>> w = rp.tensor(np.zeros(3), requires_grad=True)
    >>> w.grad = np.array([-5.0, 0.5, 2.0])
    >>> clip_grad_value_(w, 1.0)
    >>> w.grad
    array([-1. ,  0.5,  1. ])
    """
    clip_value = float(clip_value)
    for param in _as_list(parameters):
        if param.grad is not None:
            np.clip(param.grad, -clip_value, clip_value, out=param.grad)


def _as_list(parameters: Any | Iterable[Any]) -> list[Any]:
    if hasattr(parameters, "data") and hasattr(parameters, "grad"):
        return [parameters]
    return list(parameters)
