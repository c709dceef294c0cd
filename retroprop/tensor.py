"""``Tensor``: an array that remembers how it was computed, and ``backward()``.

The forward pass builds a computational graph: each tensor made by an op keeps that op
(``grad_fn``), which keeps its input tensors and the arrays it saved. ``backward()`` walks the
graph from the loss back to the leaves in reverse topological order, applying the chain rule
node by node (the course's backpropagation, in its general form):

    dJ/d(input) = sum over the uses of input of  dJ/d(output) * d(output)/d(input)

Gradients are accumulated into the ``.grad`` of leaf tensors that require grad (the model's
weights), as PyTorch does: call ``optimizer.zero_grad()`` (or set ``.grad = None``) between steps.
"""

from __future__ import annotations

import numbers
import operator
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from retroprop.backend import is_floating
from retroprop.version_counter import bump_version

if TYPE_CHECKING:
    from retroprop.function import Function

__all__ = ["Tensor", "tensor"]

GradHook = Callable[[np.ndarray], "np.ndarray | None"]


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation.

    Create tensors with :func:`retroprop.tensor`. Arithmetic follows NumPy's broadcasting; the
    gradient of a broadcast operand is summed back to its shape.

    Attributes
    ----------
    data : numpy.ndarray
        The values; assigning them (``t.data = a``, ``p.data -= lr * g``) bumps ``_version``.
    grad : numpy.ndarray or None
        dJ/d(this tensor), same shape and dtype as ``data``; None until a backward pass reaches
        a leaf that requires grad. Accumulates across backward calls.
    requires_grad : bool
        Whether gradients flow to this tensor.
    grad_fn : Function or None
        The op that produced this tensor (None for a leaf).
    _version : int
        In-place changes so far (PyTorch's version counter): :mod:`retroprop.version_counter`.
    """

    __slots__ = (
        "_data",
        "_version",
        "_changed_at",
        "grad",
        "requires_grad",
        "grad_fn",
        "_hooks",
        "_retains_grad",
        "__weakref__",
    )
    __array_ufunc__ = None  # ndarray + Tensor defers to Tensor.__radd__

    grad: np.ndarray | None

    def __init__(self, data: Any, requires_grad: bool = False, dtype: npt.DTypeLike = None) -> None:
        self._data = _as_array(data, dtype, requires_grad)
        self._version = 0
        if requires_grad and not is_floating(self._data.dtype):
            raise TypeError(
                f"only floating-point tensors can require grad, got dtype {self._data.dtype}"
            )
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.grad_fn = None
        self._hooks = None
        self._retains_grad = False

    @classmethod
    def _from_op(cls, data: np.ndarray, grad_fn: Function | None) -> Tensor:
        """Wrap an op's output without validation (the hot path)."""
        out = object.__new__(cls)
        out._data = data
        out._version = 0
        out.grad = None
        out.requires_grad = grad_fn is not None
        out.grad_fn = grad_fn
        out._hooks = None
        out._retains_grad = False
        return out

    # ---------------------------------------------------------------- properties
    def _set_data(self, array: np.ndarray) -> None:
        self._data = array
        bump_version(self)

    # A C getter (attrgetter) keeps reading ``.data`` nearly as fast as a plain attribute.
    data = property(operator.attrgetter("_data"), _set_data, doc="The values (see the class).")

    @property
    def shape(self) -> tuple[int, ...]:
        """The array's shape."""
        return self._data.shape

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        """The array's dtype."""
        return self._data.dtype

    @property
    def size(self) -> int:
        """The number of elements."""
        return self._data.size

    @property
    def is_leaf(self) -> bool:
        """True for a tensor created by the user rather than by an op."""
        return self.grad_fn is None

    @property
    def T(self) -> Tensor:  # noqa: N802 (NumPy's name)
        """The tensor with its axes reversed (the transpose of a matrix)."""
        return self.transpose()

    def __len__(self) -> int:
        return len(self.data)

    def __bool__(self) -> bool:
        """The truth of a one-element tensor (``if loss < 0.5:``); ambiguous otherwise.

        Raises
        ------
        ValueError
            For a tensor of more than one element, as NumPy and PyTorch do.
        """
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous: use "
                ".any() or .all() on its .data, or compare one element"
            )
        return bool(self.data)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = ""
        if self.data.dtype != np.float32:
            extra += f", dtype={self.data.dtype}"
        if self.grad_fn is not None:
            extra += f", grad_fn=<{self.grad_fn.name}>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __array__(self, dtype: npt.DTypeLike = None, copy: bool | None = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    __hash__ = object.__hash__

    # ---------------------------------------------------------------- conversions
    def numpy(self) -> np.ndarray:
        """Return the values as a NumPy array (shared memory, no copy)."""
        return self.data

    def item(self) -> float | int | bool:
        """Return the value of a one-element tensor as a Python number.

        Raises
        ------
        ValueError
            When the tensor has more than one element.
        """
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self.data.item()

    def detach(self) -> Tensor:
        """Return a tensor sharing the same data, cut from the graph."""
        return Tensor._from_op(self.data, None)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place on a leaf tensor and return it."""
        if not self.is_leaf:
            raise RuntimeError("requires_grad_() can only change leaf tensors")
        if requires_grad and not is_floating(self.dtype):
            raise TypeError(f"only floating-point tensors can require grad, got {self.dtype}")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after ``backward()`` (e.g. delta = dJ/dz)."""
        self._retains_grad = True

    def register_hook(self, hook: GradHook) -> Callable[[], None]:
        """Call ``hook(grad)`` when the backward pass computes this tensor's gradient.

        The hook may return a replacement gradient. Returns a function that removes the hook.
        """
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that does not require grad")
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return lambda: self._hooks.remove(hook) if hook in self._hooks else None

    # ---------------------------------------------------------------- backward
    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Back-propagate: compute dJ/dx for every leaf x that requires grad.

        Walks the graph in reverse topological order without recursion (a chain of any depth
        works), sums the contributions of a value used several times, reduces the gradient of a
        broadcast operand back to its shape, and *accumulates* into the leaves' ``.grad``.

        Parameters
        ----------
        grad : array-like, optional
            dJ/d(self). Defaults to 1 for a one-element tensor (a loss); required otherwise.
        retain_graph : bool, default False
            Keep the saved arrays so that backward can run through the graph again.

        Raises
        ------
        RuntimeError
            When the tensor does not require grad, when ``grad`` is missing for a tensor of
            more than one element, or when the graph was already freed.

        Examples
        --------
        >>> x = rp.tensor(3.0, requires_grad=True)
        >>> y = x * x + x          # x is used twice: dy/dx = 2x + 1
        >>> y.backward()
        >>> x.grad
        array(7., dtype=float32)
        """
        if not self.requires_grad:
            raise RuntimeError(
                f"backward() on a tensor that does not require grad (shape {self.shape}): it was "
                "not computed from any tensor with requires_grad=True, or it was computed "
                "under no_grad()"
            )
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() without grad on a non-scalar tensor of shape {self.shape}: "
                    "reduce it to a scalar first (.sum() or .mean()), or pass grad= an array of "
                    "that shape"
                )
            grad = np.ones_like(self.data)
        else:
            grad = _as_gradient(grad, self)
        _run_backward(self, grad, retain_graph)

    # ---------------------------------------------------------------- operators
    def __add__(self, other: Any) -> Tensor:
        return _elementwise.Add.apply(self, _operand(self, other, "add"))

    def __radd__(self, other: Any) -> Tensor:
        return _elementwise.Add.apply(_operand(self, other, "add"), self)

    def __sub__(self, other: Any) -> Tensor:
        return _elementwise.Sub.apply(self, _operand(self, other, "sub"))

    def __rsub__(self, other: Any) -> Tensor:
        return _elementwise.Sub.apply(_operand(self, other, "sub"), self)

    def __mul__(self, other: Any) -> Tensor:
        return _elementwise.Mul.apply(self, _operand(self, other, "mul"))

    def __rmul__(self, other: Any) -> Tensor:
        return _elementwise.Mul.apply(_operand(self, other, "mul"), self)

    def __truediv__(self, other: Any) -> Tensor:
        return _elementwise.Div.apply(self, _operand(self, other, "div"))

    def __rtruediv__(self, other: Any) -> Tensor:
        return _elementwise.Div.apply(_operand(self, other, "div"), self)

    def __pow__(self, other: Any) -> Tensor:
        return _elementwise.Pow.apply(self, _operand(self, other, "pow"))

    def __rpow__(self, other: Any) -> Tensor:
        return _elementwise.Pow.apply(_operand(self, other, "pow"), self)

    def __matmul__(self, other: Any) -> Tensor:
        return _matmul.MatMul.apply(self, _operand(self, other, "matmul"))

    def __rmatmul__(self, other: Any) -> Tensor:
        return _matmul.MatMul.apply(_operand(self, other, "matmul"), self)

    def __neg__(self) -> Tensor:
        return _elementwise.Neg.apply(self)

    def __pos__(self) -> Tensor:
        return self

    def __getitem__(self, index: Any) -> Tensor:
        return _shape.GetItem.apply(self, index=_plain_index(index))

    # Comparisons give boolean tensors and carry no gradient.
    def __lt__(self, other: Any) -> Tensor:
        return Tensor._from_op(self.data < _raw(other), None)

    def __le__(self, other: Any) -> Tensor:
        return Tensor._from_op(self.data <= _raw(other), None)

    def __gt__(self, other: Any) -> Tensor:
        return Tensor._from_op(self.data > _raw(other), None)

    def __ge__(self, other: Any) -> Tensor:
        return Tensor._from_op(self.data >= _raw(other), None)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return Tensor._from_op(self.data == _raw(other), None)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return Tensor._from_op(self.data != _raw(other), None)

    # ---------------------------------------------------------------- methods (NumPy's names)
    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Sum of elements over ``axis`` (all when None)."""
        return _reduce.Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Mean of elements over ``axis`` (all when None)."""
        return _reduce.Mean.apply(self, axis=axis, keepdims=keepdims)

    def max(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Maximum over ``axis``; the gradient is shared equally among tied maxima."""
        return _reduce.Max.apply(self, axis=axis, keepdims=keepdims)

    def min(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Minimum over ``axis``; the gradient is shared equally among tied minima."""
        return -_reduce.Max.apply(-self, axis=axis, keepdims=keepdims)

    def exp(self) -> Tensor:
        """Elementwise e ** x."""
        return _elementwise.Exp.apply(self)

    def log(self) -> Tensor:
        """Elementwise natural logarithm."""
        return _elementwise.Log.apply(self)

    def sqrt(self) -> Tensor:
        """Elementwise square root."""
        return _elementwise.Sqrt.apply(self)

    def abs(self) -> Tensor:
        """Elementwise absolute value (gradient sign(x), 0 at 0)."""
        return _elementwise.Abs.apply(self)

    def clip(self, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
        """Limit values to [min, max]; the gradient flows where the value was not clipped."""
        return _elementwise.Clip.apply(self, low=min, high=max)

    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        """The same values in a new shape (``x.reshape(2, 3)`` or ``x.reshape((2, 3))``)."""
        if len(shape) == 1 and not isinstance(shape[0], numbers.Integral):
            shape = tuple(shape[0])  # type: ignore[arg-type]
        return _shape.Reshape.apply(self, shape=shape)

    def transpose(self, *axes: int | Sequence[int]) -> Tensor:
        """Permute the axes (reverse them when none are given), as ``numpy.transpose``."""
        if len(axes) == 1 and not isinstance(axes[0], numbers.Integral):
            axes = tuple(axes[0])  # type: ignore[arg-type]
        return _shape.Transpose.apply(self, axes=axes or None)

    def flatten(self, start_axis: int = 0) -> Tensor:
        """Merge the axes from ``start_axis`` on into one."""
        return self.reshape(*self.shape[:start_axis], -1)

    def astype(self, dtype: npt.DTypeLike) -> Tensor:
        """Cast to ``dtype``; the gradient is cast back to the original dtype."""
        return _elementwise.Cast.apply(self, dtype=np.dtype(dtype))


def tensor(data: Any, requires_grad: bool = False, dtype: npt.DTypeLike = None) -> Tensor:
    """Create a tensor.

    A NumPy array keeps its dtype (it is not copied). Python floats, and lists holding floats,
    become float32 unless ``dtype`` is given, as in PyTorch; Python integers become int64
    (float32 when ``requires_grad=True``), booleans bool.

    Parameters
    ----------
    data : array-like
        A number, (nested) list, NumPy array or tensor.
    requires_grad : bool, default False
        Whether ``backward()`` should compute a gradient for this tensor.
    dtype : dtype, optional
        The dtype to convert to.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> rp.tensor([1.0, 2.0]).dtype
    dtype('float32')
    >>> rp.tensor(np.zeros(2)).dtype
    dtype('float64')
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


# -------------------------------------------------------------------- helpers
def _as_array(data: Any, dtype: npt.DTypeLike, requires_grad: bool) -> np.ndarray:
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.asarray(data, dtype=dtype)
    if hasattr(data, "__array_namespace__") or isinstance(data, np.ndarray):
        return data  # an array keeps its dtype and its memory (NumPy or CuPy)
    if isinstance(data, np.generic):
        return np.asarray(data)
    array = np.asarray(data)
    if array.dtype == np.float64 or (requires_grad and array.dtype.kind in "iub"):
        array = array.astype(np.float32)
    return array


def _as_gradient(grad: Any, target: Tensor) -> np.ndarray:
    grad = grad.data if isinstance(grad, Tensor) else np.asarray(grad)
    if grad.shape != target.shape:
        raise RuntimeError(
            f"backward(): grad has shape {grad.shape} but the tensor has shape {target.shape}"
        )
    return grad.astype(target.dtype, copy=False)


def _raw(value: Any) -> Any:
    return value.data if isinstance(value, Tensor) else value


def _plain_index(index: Any) -> Any:
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _operand(tensor: Tensor, other: Any, op: str) -> Any:
    """The other operand of a binary op, with retroprop's dtype rule.

    Python numbers, and NumPy scalars such as ``np.sqrt(2.0)``, act as Python numbers (NumPy
    treats those as "weak", so float32 stays float32), as in PyTorch. Two floating arrays must
    agree: mixing float32 and float64 is an error, never a silent upcast. An integer or boolean
    operand is cast to the float operand's dtype.
    """
    if isinstance(other, numbers.Number):
        return other.item() if isinstance(other, np.generic) else other
    if not isinstance(other, Tensor):
        other = Tensor._from_op(np.asarray(other), None)
    mine, theirs = tensor.data.dtype, other.data.dtype
    if mine == theirs:
        return other
    mine_float, theirs_float = is_floating(mine), is_floating(theirs)
    if mine_float and theirs_float:
        raise TypeError(
            f"{op}: cannot combine {mine} (shape {tensor.shape}) with {theirs} (shape "
            f"{other.shape}); retroprop never upcasts silently: convert one with "
            f".astype(np.{mine}) first"
        )
    if mine_float:
        return Tensor._from_op(other.data.astype(mine), None)
    return other


# The backward walk and the ops are imported last: they build on Tensor.
from retroprop.autograd import run_backward as _run_backward  # noqa: E402
from retroprop.ops import elementwise as _elementwise  # noqa: E402
from retroprop.ops import matmul as _matmul  # noqa: E402
from retroprop.ops import reduce as _reduce  # noqa: E402
from retroprop.ops import shape as _shape  # noqa: E402
