"""``Parameter``: a tensor a :class:`~retroprop.nn.Module` learns (a weight W or a bias b)."""

from __future__ import annotations

from typing import Any

import numpy.typing as npt

from retroprop.tensor import Tensor

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A leaf tensor that requires grad and that a module registers when it is assigned.

    ``module.weight = Parameter(array)`` makes the tensor part of ``module.parameters()``,
    ``state_dict()`` and what an optimiser updates. A NumPy array is wrapped without a copy, so
    ``Parameter(array).data is array``.

    Parameters
    ----------
    data : array-like
        The initial values (a floating-point array or tensor).
    requires_grad : bool, default True
        False freezes the parameter: the backward pass leaves its ``.grad`` at None.
    dtype : dtype, optional
        The dtype to convert to.

    Examples
    --------
    >>> w = nn.Parameter(np.zeros((2, 3), dtype=np.float32))
    >>> w.requires_grad, w.is_leaf, w.shape
    (True, True, (2, 3))
    """

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, dtype: npt.DTypeLike = None) -> None:
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
