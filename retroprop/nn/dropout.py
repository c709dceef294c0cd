"""``Dropout``: zero each unit with probability p during training (inverted dropout)."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from retroprop.nn.config import register_module
from retroprop.nn.module import Module
from retroprop.ops.elementwise import Mul
from retroprop.random import default_generator
from retroprop.tensor import Tensor

__all__ = ["Dropout"]


@register_module
class Dropout(Module):
    """Inverted dropout: in training, a = x * m / (1 - p) with m_i ~ Bernoulli(1 - p).

    Scaling the kept units by 1 / (1 - p) during training keeps each unit's expected value, so
    in evaluation mode the layer is the identity. The mask is drawn from
    ``retroprop.random.default_generator()`` at each forward pass (``rp.manual_seed`` makes it
    reproducible); the backward pass multiplies by the same mask.

    Parameters
    ----------
    p : float, default 0.5
        Probability of zeroing a unit, in [0, 1].

    Examples
    --------
    >>> drop = nn.Dropout(0.5)
    >>> _ = rp.manual_seed(0)
    >>> drop(rp.tensor(np.ones((1, 6), dtype=np.float32)))
    tensor([[2., 0., 0., 0., 2., 2.]])
    >>> drop.eval()(rp.tensor([1.0, 1.0]))
    tensor([1., 1.])
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p!r}")
        self.p = float(p)

    def forward(self, x: Any) -> Tensor:
        if not isinstance(x, Tensor):
            x = Tensor(x)
        if not self.training or self.p == 0.0:
            return x
        keep = default_generator().random(x.shape) >= self.p
        if self.p == 1.0:
            mask = np.zeros(x.shape, dtype=x.dtype)
        else:
            mask = keep.astype(x.dtype)
            mask *= 1.0 / (1.0 - self.p)
        return Mul.apply(x, mask)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {"p": self.p}

    def extra_repr(self) -> str:
        return f"p={self.p}"

    def _summary_label(self) -> str:
        return f"Dropout(p={self.p})"

    def _output_width(self, width: int | None) -> int | None:
        return width
