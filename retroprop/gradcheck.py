"""Gradients proven, not assumed: the engine's gradients against central finite differences."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from retroprop.backend import is_floating
from retroprop.grad_mode import no_grad
from retroprop.tensor import Tensor

__all__ = ["gradcheck", "GradcheckError"]


class GradcheckError(AssertionError):
    """The backward pass disagrees with finite differences; the message says where."""


def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Sequence[Any] | Tensor,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
) -> bool:
    """Check ``fn``'s gradients against central finite differences, in float64.

    Each floating-point input that requires grad (or is a plain floating array) is copied to
    float64; for a random projection v of the output, the analytic gradient of sum(v * fn(x))
    from ``backward()`` is compared, element by element, with

        (f(x + eps e_i) - f(x - eps e_i)) / (2 eps).

    An element passes when |analytic - numerical| <= atol + rtol * |numerical|.

    Parameters
    ----------
    fn : callable
        Takes the inputs (as tensors) and returns a tensor.
    inputs : Tensor or sequence
        Tensors, arrays or other values passed to ``fn`` in order. Integer arrays (labels) and
        tensors with ``requires_grad=False`` are passed through unchecked.
    eps, atol, rtol : float
        Step and tolerances.
    raise_exception : bool, default True
        Raise :class:`GradcheckError` on a mismatch (else return False).
    seed : int, default 0
        Seed of the random projection of a non-scalar output.

    Returns
    -------
    bool
        True when every checked element agrees.

    Raises
    ------
    GradcheckError
        Naming the input, the worst element and both values.

    Examples
    --------
    >>> x = rp.tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    >>> rp.gradcheck(lambda t: (t * t).exp().sum(), [x])
    True
    """
    if isinstance(inputs, Tensor) or not isinstance(inputs, Sequence):
        inputs = [inputs]
    values = [_as_float64(item) for item in inputs]
    checked = [i for i, v in enumerate(values) if isinstance(v, Tensor) and v.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad; nothing to check")

    output = fn(*values)
    if not isinstance(output, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(output).__name__}")
    projection = np.random.default_rng(seed).standard_normal(output.shape)
    for i in checked:
        values[i].grad = None
    if not output.requires_grad:
        raise GradcheckError("gradcheck: the output does not depend on any checked input")
    output.backward(projection)

    def projected(*args: Any) -> float:
        with no_grad():
            return float(np.sum(fn(*args).data * projection))

    for i in checked:
        tensor = values[i]
        analytic = tensor.grad if tensor.grad is not None else np.zeros_like(tensor.data)
        numerical = np.zeros_like(tensor.data)
        flat = tensor.data.reshape(-1)  # a view: writes go to tensor.data
        for k in range(flat.size):
            original = flat[k]
            flat[k] = original + eps
            above = projected(*values)
            flat[k] = original - eps
            below = projected(*values)
            flat[k] = original
            numerical.reshape(-1)[k] = (above - below) / (2 * eps)
        excess = np.abs(analytic - numerical) - (atol + rtol * np.abs(numerical))
        if np.all(excess <= 0):
            continue
        if not raise_exception:
            return False
        worst = np.unravel_index(
            int(np.nanargmax(np.where(np.isnan(excess), np.inf, excess))), excess.shape
        )
        raise GradcheckError(
            f"gradcheck: the gradient of input {i} (shape {tensor.shape}) is wrong at element "
            f"{tuple(int(j) for j in worst)}: backward gives {analytic[worst]:.8g}, finite "
            f"differences give {numerical[worst]:.8g} (tolerance atol={atol} + "
            f"rtol={rtol} * |numerical|); {int(np.sum(excess > 0))} of {excess.size} elements "
            "disagree"
        )
    return True


def _as_float64(value: Any) -> Any:
    """A float64 copy of a floating input, requiring grad unless it was a tensor that did not."""
    if isinstance(value, Tensor):
        if not is_floating(value.dtype):
            return value
        return Tensor(value.data.astype(np.float64), requires_grad=value.requires_grad)
    if isinstance(value, np.ndarray) and is_floating(value.dtype):
        return Tensor(value.astype(np.float64), requires_grad=True)
    return value
