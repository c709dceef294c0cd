"""``Flatten``: merge the axes from ``start_axis`` on, e.g. images (N, 8, 8) -> (N, 64)."""

from __future__ import annotations

import math
from typing import Any

from retroprop.function import ShapeError
from retroprop.nn.config import register_module
from retroprop.nn.module import Module
from retroprop.tensor import Tensor

__all__ = ["Flatten"]


@register_module
class Flatten(Module):
    """Reshape (N, d1, d2, ...) to (N, d1 * d2 * ...): a view, no copy.

    Parameters
    ----------
    start_axis : int, default 1
        The first axis merged; the axes before it (the batch axis) are kept.

    Examples
    --------
    >>> nn.Flatten()(np.zeros((5, 8, 8))).shape
    (5, 64)
    """

    def __init__(self, start_axis: int = 1) -> None:
        super().__init__()
        self.start_axis = int(start_axis)

    def forward(self, x: Any) -> Tensor:
        if not isinstance(x, Tensor):
            x = Tensor(x)
        ndim = x.ndim
        if not -ndim <= self.start_axis < ndim:
            raise ShapeError(
                f"Flatten(start_axis={self.start_axis}) needs an input with more than "
                f"{self.start_axis} axes, got shape {x.shape}"
            )
        start = self.start_axis % ndim
        return x.reshape(*x.shape[:start], math.prod(x.shape[start:]))

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {"start_axis": self.start_axis}

    def extra_repr(self) -> str:
        return f"start_axis={self.start_axis}"
