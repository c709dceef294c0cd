"""``Linear``: the fully connected layer z = x @ W + b, with W stored as the course writes it."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from retroprop.backend import is_floating
from retroprop.function import ShapeError
from retroprop.nn import init as nn_init
from retroprop.nn.config import register_module
from retroprop.nn.module import Module
from retroprop.nn.parameter import Parameter
from retroprop.ops.elementwise import Add
from retroprop.ops.matmul import MatMul
from retroprop.tensor import Tensor

__all__ = ["Linear"]

DEFAULT_INIT = "xavier_normal"


@register_module
class Linear(Module):
    """Fully connected layer: z = x @ W + b.

    ``weight`` W has shape (in_features, out_features), as in the course, so a batch x of shape
    (N, in_features) gives z of shape (N, out_features). The backward pass gives the course's
    dJ/dW = x^T @ delta, dJ/db = sum of delta over the batch, and passes delta @ W^T back.

    Parameters
    ----------
    in_features, out_features : int
        Widths of the input and the output.
    bias : bool, default True
        Whether to add a learned bias b of shape (out_features,), initialised to zero.
    init : str or callable, optional
        How to initialise W: a name from :func:`retroprop.nn.init.get` ("he_normal",
        "he_uniform", "xavier_normal", "xavier_uniform", "lecun_normal", "normal", "uniform",
        "standard", "zeros"), or a callable given W that fills it in place (such as
        ``nn.init.xavier_uniform_``) or returns an array of its shape. None (the default)
        follows the course: W is drawn at once with Glorot (xavier) normal,
        std = sqrt(2 / (fan_in + fan_out)), and the choice stays open until W is first read
        (``layer.weight``, as the forward pass and any code that sets W do): a
        :class:`~retroprop.nn.Sequential` that sees a ReLU-family activation after the layer
        before that re-draws W with He normal, std = sqrt(2 / fan_in) (see ``Sequential``).
    dtype : dtype, default float32
        Floating dtype of W and b.

    Attributes
    ----------
    weight : Parameter
        W, shape (in_features, out_features).
    bias : Parameter or None
        b, shape (out_features,).
    weight_init : str
        The name of the initialiser that drew W ("he_normal", ...; a callable's ``__name__``).

    Warns
    -----
    UserWarning
        When every weight starts with the same value (``init="zeros"``): the units of the
        layer would compute the same function and get the same gradient for ever.

    Raises
    ------
    ShapeError
        (a ValueError) When the input's last axis is not ``in_features``.

    Examples
    --------
    >>> layer = nn.Linear(2, 4)
    >>> layer.weight.shape, layer.bias.shape
    ((2, 4), (4,))
    >>> layer(np.ones((5, 2))).shape
    (5, 4)
    >>> layer(np.ones((5, 3)))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    retroprop.function.ShapeError: Linear(2->4) expects 2 input features, got 3 ...
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        init: str | Callable[[Parameter], Any] | None = None,
        dtype: npt.DTypeLike = np.float32,
    ) -> None:
        super().__init__()
        self.in_features = _positive_int(in_features, "in_features")
        self.out_features = _positive_int(out_features, "out_features")
        dtype = np.dtype(dtype)
        if not is_floating(dtype):
            raise TypeError(f"Linear: dtype must be a floating type, got {dtype}")
        if isinstance(init, str):
            nn_init.get(init)  # an unknown name fails here, not at first use
        elif init is not None and not callable(init):
            raise TypeError(
                f"Linear: init must be a name, a callable or None, got {type(init).__name__}"
            )
        self.init = init
        self.weight = Parameter(np.empty((self.in_features, self.out_features), dtype=dtype))
        if bias:
            self.bias = Parameter(np.zeros(self.out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        if init is None:
            self.weight_init = DEFAULT_INIT
        else:
            self.weight_init = (
                init if isinstance(init, str) else getattr(init, "__name__", "custom")
            )
        self.reset_parameters()
        # A default init stays open to the builder's choice until W is first read.
        self._default_open = init is None

    @property
    def weight(self) -> Parameter:
        """W, shape (in_features, out_features); reading it fixes a default init for good."""
        if self._default_open:
            self._default_open = False
        return self._parameters["weight"]

    def forward(self, x: Any) -> Tensor:
        """z = x @ W + b for x of shape (..., in_features)."""
        weight = self.weight
        if not isinstance(x, Tensor):
            x = Tensor(np.asarray(x, dtype=weight.data.dtype))
        shape = x.data.shape
        if not shape or shape[-1] != self.in_features:
            raise ShapeError(
                f"{self._summary_label()} expects {self.in_features} input features, got "
                f"{shape[-1] if shape else 'a scalar'} (input of shape {shape})"
            )
        if x.data.dtype != weight.data.dtype:
            raise TypeError(
                f"{self._summary_label()} holds {weight.data.dtype} weights but got a "
                f"{x.data.dtype} input; convert it with x.astype(np.{weight.data.dtype}) or build "
                f"the layer with dtype=np.{x.data.dtype}"
            )
        z = MatMul.apply(x, weight)
        bias = self.bias
        return z if bias is None else Add.apply(z, bias)

    def reset_parameters(self, generator: np.random.Generator | None = None) -> None:
        """Re-draw W with the layer's initialiser (``weight_init``) and set b to zero."""
        init = self.init if self.init is not None else self.weight_init
        weight = self._parameters["weight"]
        if isinstance(init, str):
            nn_init.get(init)(weight, generator=generator)
        else:
            result = init(weight)
            if result is not None and result is not weight and result is not weight.data:
                array = np.asarray(result.data if isinstance(result, Tensor) else result)
                if array.shape != weight.shape:
                    raise ShapeError(
                        f"{self._summary_label()}: init returned shape {array.shape}, the weight "
                        f"has shape {weight.shape}"
                    )
                weight.data[...] = array
        if self.bias is not None:
            self.bias.data[...] = 0
        values = weight.data
        if self.out_features > 1 and values.size and np.all(values == values.flat[0]):
            warnings.warn(
                f"{self._summary_label()}: all {values.size} weights start equal to "
                f"{values.flat[0]:g}, so its {self.out_features} units compute the same function "
                "and receive the same gradient: hidden units stay symmetric and never learn "
                "different features. Use a random init such as 'he_normal' or 'xavier_normal'.",
                UserWarning,
                stacklevel=3,
            )

    def _choose_default_init(self, name: str) -> None:
        """Re-draw a default W with ``name``, while the choice is open (called by Sequential).

        The choice closes here, or earlier when W is read through ``layer.weight``: a layer
        built with an explicit ``init``, or whose W was used in a forward pass or set by hand,
        keeps it. (Arrays written through ``state_dict()`` do not close it: build a model whole
        before loading weights into it, as :func:`retroprop.load` does.)
        """
        if not self._default_open:
            return
        self._default_open = False
        if name != self.weight_init:
            self.weight_init = name
            nn_init.get(name)(self._parameters["weight"])

    # ---------------------------------------------------------------- description
    def get_config(self) -> dict[str, Any]:
        """Constructor arguments; a callable ``init`` is recorded as None (weights are saved)."""
        return {
            "in_features": self.in_features,
            "out_features": self.out_features,
            "bias": self.bias is not None,
            "init": self.init if isinstance(self.init, str) else None,
            "dtype": str(self._parameters["weight"].dtype),
        }

    @classmethod
    def config_shapes(cls, config: Any, width: Callable[[str], int]) -> dict[str, tuple[int, ...]]:
        """{"weight": (in_features, out_features), "bias": (out_features,) unless bias=False}."""
        n_in, n_out = width("in_features"), width("out_features")
        return {"weight": (n_in, n_out)} | ({"bias": (n_out,)} if config.get("bias", True) else {})

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )

    def _summary_label(self) -> str:
        return f"Linear({self.in_features}->{self.out_features})"

    def _output_width(self, width: int | None) -> int | None:
        return self.out_features


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"Linear: {name} must be an int, got {value!r}")
    if value < 1:
        raise ValueError(f"Linear: {name} must be at least 1, got {value}")
    return int(value)
