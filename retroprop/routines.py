"""NumPy-style functions on tensors: maximum, minimum, where, concatenate, stack."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from retroprop.ops import elementwise as _elementwise
from retroprop.ops import shape as _shape
from retroprop.tensor import Tensor, _operand

__all__ = ["maximum", "minimum", "where", "concatenate", "stack"]


def _pair(a: Any, b: Any, op: str) -> tuple[Any, Any]:
    if isinstance(a, Tensor):
        return a, _operand(a, b, op)
    if isinstance(b, Tensor):
        return _operand(b, a, op), b
    a = Tensor(a)
    return a, _operand(a, b, op)


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum; at a tie each operand receives half of the gradient.

    Examples
    --------
    >>> rp.maximum(rp.tensor([1.0, 5.0]), 2.0)
    tensor([2., 5.])
    """
    return _elementwise.Maximum.apply(*_pair(a, b, "maximum"))


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise minimum; at a tie each operand receives half of the gradient."""
    return _elementwise.Minimum.apply(*_pair(a, b, "minimum"))


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """Elements of ``a`` where ``condition`` holds, else of ``b`` (condition gets no gradient).

    Examples
    --------
    >>> x = rp.tensor([-1.0, 2.0])
    >>> rp.where(x > 0, x, 0.0)
    tensor([0., 2.])
    """
    condition = condition.data if isinstance(condition, Tensor) else condition
    a, b = _pair(a, b, "where")
    return _elementwise.Where.apply(condition, a, b)


def _tensors(items: Sequence[Any], op: str) -> list[Tensor]:
    tensors = [item if isinstance(item, Tensor) else Tensor(item) for item in items]
    if not tensors:
        raise ValueError(f"{op}: needs at least one tensor")
    dtypes = {t.dtype for t in tensors}
    if len(dtypes) > 1:
        raise TypeError(f"{op}: all tensors must share one dtype, got {sorted(map(str, dtypes))}")
    return tensors


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis.

    Examples
    --------
    >>> rp.concatenate([rp.tensor([1.0]), rp.tensor([2.0, 3.0])]).shape
    (3,)
    """
    return _shape.Concatenate.apply(*_tensors(tensors, "concatenate"), axis=axis)


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis.

    Examples
    --------
    >>> rp.stack([rp.tensor([1.0, 2.0]), rp.tensor([3.0, 4.0])], axis=1).shape
    (2, 2)
    """
    return _shape.Stack.apply(*_tensors(tensors, "stack"), axis=axis)
