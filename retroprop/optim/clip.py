"""Gradient clipping: rescale or cap gradients in place before ``optimizer.step()``.

A remedy for exploding gradients: clipping by norm keeps the direction of the whole gradient
and only shortens it; clipping by value caps each coordinate separately.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


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
