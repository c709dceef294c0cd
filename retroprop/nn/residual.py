"""``Residual``: a skip connection, y = x + block(x)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from retroprop.function import ShapeError
from retroprop.nn.config import module_from_config, module_to_config, register_module
from retroprop.nn.module import Module
from retroprop.ops.elementwise import Add
from retroprop.tensor import Tensor

__all__ = ["Residual"]


@register_module
class Residual(Module):
    """y = x + block(x): the gradient reaches x directly as well as through the block.

    dJ/dx = dJ/dy + dJ/dy * d block(x)/dx, so even when the block's own gradient vanishes the
    identity path carries the signal back to the earlier layers (He et al., 2016).

    Parameters
    ----------
    block : Module
        Maps its input to an output of the same shape.

    Raises
    ------
    ShapeError
        (a ValueError) When the block changes the shape.

    Examples
    --------
    >>> skip = nn.Residual(nn.ReLU())
    >>> skip(rp.tensor([-1.0, 2.0]))   # x + relu(x)
    tensor([-1.,  4.])
    """

    def __init__(self, block: Module) -> None:
        super().__init__()
        if not isinstance(block, Module):
            raise TypeError(f"Residual: block must be a Module, got {type(block).__name__}")
        self.block = block

    def forward(self, x: Any) -> Tensor:
        if not isinstance(x, Tensor):
            x = Tensor(x)
        out = self.block(x)
        if out.shape != x.shape:
            raise ShapeError(
                f"Residual: the block maps shape {x.shape} to {out.shape}; x + block(x) needs "
                "the block to keep the shape"
            )
        # block(x) + x rather than x + block(x): the engine's topological sort marks a node
        # visited when it is first pushed, so x must be reached through its short path last
        # (popped first) or the block's gradient to x is dropped. Same value either way.
        return Add.apply(out, x)

    def get_config(self) -> dict[str, Any]:
        """{"block": the block's config}."""
        return {"block": module_to_config(self.block)}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Residual:
        """Build from :meth:`get_config`'s output."""
        if set(config) != {"block"}:
            raise ValueError(f"Residual config needs exactly the key 'block', got {sorted(config)}")
        return cls(module_from_config(config["block"]))

    def _summarize(self, name: str, depth: int, width: int | None, rows: list) -> int | None:
        rows.append((name, depth, "Residual", width, sum(p.size for p in self.parameters())))
        self.block._summarize(f"{name}.block" if name else "block", depth + 1, width, rows)
        return width
