"""``Function``: the extension point every op is written with, ours and the user's.

An op is a subclass with two static methods on plain arrays::

    class Exp(Function):
        '''a = exp(z);  da/dz = a.'''

        @staticmethod
        def forward(ctx, z):
            a = np.exp(z)
            ctx.save_for_backward(a)
            return a

        @staticmethod
        def backward(ctx, grad_output):
            (a,) = ctx.saved_tensors
            return grad_output * a

``Exp.apply(tensor)`` runs ``forward`` on the tensors' arrays and, when a gradient is needed,
links the result to its inputs so that ``backward()`` can later call ``backward`` with dJ/d(output)
and receive one dJ/d(input) per input (``None`` for an input that needs none).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from retroprop.grad_mode import _GradMode
from retroprop.tensor import Tensor
from retroprop.version_counter import CHANGES

__all__ = ["Function", "ShapeError"]


class ShapeError(ValueError):
    """Operands whose shapes do not fit the op; the message names the op and the shapes."""


class Function:
    """Base class of every differentiable op.

    Subclasses define ``forward(ctx, *arrays, **options)`` and ``backward(ctx, grad_output)``
    as static methods. The instance passed as ``ctx`` is the graph node itself: it keeps what
    ``save_for_backward`` stored, ``needs_input_grad`` (one bool per positional input) and any
    attribute the forward pass sets on it (``ctx.axis = axis``).

    Positional inputs that are tensors become the node's parents; anything else (a Python
    number, a plain array) is passed to ``forward`` unchanged and treated as a constant.
    Keyword arguments are options, passed to ``forward`` only.

    Examples
    --------
    >>> class Cube(rp.Function):
    ...     '''a = z ** 3;  da/dz = 3 z ** 2.'''
    ...     @staticmethod
    ...     def forward(ctx, z):
    ...         ctx.save_for_backward(z)
    ...         return z**3
    ...     @staticmethod
    ...     def backward(ctx, grad_output):
    ...         (z,) = ctx.saved_tensors
    ...         return grad_output * 3 * z**2
    >>> x = rp.tensor([1.0, 2.0], requires_grad=True)
    >>> Cube.apply(x).sum().backward()
    >>> x.grad
    array([ 3., 12.], dtype=float32)
    """

    needs_input_grad: tuple[bool, ...]
    parents: tuple[Any, ...]
    _saved: tuple[Any, ...] | None
    _changes: int | None = None  # the count of in-place changes at forward time

    @staticmethod
    def forward(ctx: Function, *arrays: Any, **options: Any) -> Any:
        """Compute the op's output array from its input arrays."""
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Function, grad_output: Any) -> Any:
        """Return dJ/d(input) for each input, given dJ/d(output); a tuple when several."""
        raise NotImplementedError

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep references (not copies) to arrays the backward pass needs.

        Nothing is copied, so ``backward()`` checks that no saved input (or output) was changed
        in place in between (its ``_version`` moved on): it raises rather than use new values.
        """
        self._saved = arrays

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        """The arrays given to ``save_for_backward``.

        Raises
        ------
        RuntimeError
            When the graph was freed by an earlier ``backward()``.
        """
        saved = self._saved
        if saved is None:
            raise RuntimeError(_freed_message(self))
        return saved

    @property
    def name(self) -> str:
        """The op's name, as error messages and graph drawings show it."""
        return type(self).__name__

    @classmethod
    def apply(cls, *inputs: Any, **options: Any) -> Tensor:
        """Run the op on tensors (or constants) and record it in the graph when needed.

        Parameters
        ----------
        *inputs : Tensor or array-like
            Positional inputs; tensors that require grad are differentiated through.
        **options
            Non-differentiable settings passed to ``forward`` (``axis=...``).

        Returns
        -------
        Tensor
            The output, with ``grad_fn`` set to this node when any input requires grad and
            grad mode is on.
        """
        ctx = object.__new__(cls)
        ctx._saved = ()
        arrays = []
        needs = []
        for value in inputs:
            if isinstance(value, Tensor):
                arrays.append(value._data)
                needs.append(value.requires_grad)
            else:
                arrays.append(value)
                needs.append(False)
        ctx.needs_input_grad = needs = tuple(needs)
        try:
            data = cls.forward(ctx, *arrays, **options)
        except ValueError as error:
            if type(error) is not ValueError:
                raise
            raise ShapeError(f"{cls.__name__}: {error} ({_describe(arrays)})") from error
        if type(data) is not np.ndarray and isinstance(data, np.generic):
            data = np.asarray(data)
        if _GradMode.enabled and True in needs:
            ctx.parents = inputs
            ctx._changes = CHANGES[0]  # backward checks what changed in place since then
            return Tensor._from_op(data, ctx)
        return Tensor._from_op(data, None)

    def _release(self) -> None:
        """Free the saved arrays: a second backward through this node is an error."""
        self._saved = None

    def __repr__(self) -> str:
        return f"<{self.name} backward>"


def _describe(arrays: list[Any]) -> str:
    """Shapes and dtypes of an op's inputs, for error messages."""
    parts = []
    for array in arrays:
        shape = getattr(array, "shape", None)
        if shape is None:
            parts.append(repr(array))
        else:
            parts.append(f"shape {tuple(shape)} {array.dtype}")
    return "inputs: " + ", ".join(parts)


def _freed_message(node: Function) -> str:
    return (
        f"Trying to backward through the graph a second time (at {node.name}): its saved "
        "arrays were freed by the first backward(). Call backward(retain_graph=True) the first "
        "time if you need to backward twice, or recompute the forward pass."
    )
