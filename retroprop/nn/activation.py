"""Activation functions as modules, one per function of :mod:`retroprop.nn.functional`.

Each class also says how a :class:`~retroprop.nn.Linear` placed just before it should be
initialised (``linear_init``): He normal for the ReLU family, whose units are zero on half of
their inputs, Glorot (xavier) normal for sigmoid, tanh, softmax and the identity.

An activation registers itself by its class statement: ``class Cube(Activation, name="cube")``
adds "cube" to :data:`ACTIVATIONS` (so ``get_activation``, ``mlp``, the command line and the
estimators know it) and makes the class a module type a model file may name.

Examples
--------
>>> class Cube(Activation, name="cube"):
...     def forward(self, x):
...         return x * x * x
>>> mlp_with_cube = rp.nn.mlp([2, 3, 1], activation="cube")
>>> type(mlp_with_cube[1]).__name__, "Cube" in MODULE_TYPES
('Cube', True)
>>> unregister_activation("cube")
"""

from __future__ import annotations

from typing import Any, Literal

from retroprop.nn import functional as F
from retroprop.nn.config import MODULE_TYPES
from retroprop.nn.module import Module
from retroprop.registry import Registry
from retroprop.tensor import Tensor

__all__ = [
    "Activation",
    "Sigmoid",
    "Tanh",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "GELU",
    "SiLU",
    "Swish",
    "Mish",
    "Softplus",
    "Softmax",
    "LogSoftmax",
    "Identity",
    "ACTIVATIONS",
    "HIDDEN_ACTIVATIONS",
    "get_activation",
    "unregister_activation",
]

ACTIVATIONS: Registry[type[Activation]] = Registry("activation")


class Activation(Module):
    """Base class of the activation modules: no parameters, the output has the input's shape.

    A subclass given a ``name`` (and optionally ``aliases``) in its class statement is
    registered: under that name in :data:`ACTIVATIONS`, and under its class name as a module
    type that :func:`~retroprop.nn.module_from_config` may build. A subclass without a name
    is not registered (a helper base class, or an activation only used in code).

    Attributes
    ----------
    linear_init : str
        The initialiser a default-initialised Linear just before this activation receives.
    elementwise : bool
        True when each output depends on its own input only (a hidden activation); False
        for softmax and log-softmax, which mix a row.
    saturation : tuple of float or None
        (low, high): the bounds of the output whose neighbourhoods are flat tails where the
        derivative vanishes (sigmoid (0, 1), tanh (-1, 1)); None when the unit does not
        saturate. The diagnostics read it.

    Raises
    ------
    ValueError
        (at the class statement) When the name, an alias or the class name is taken.
    """

    linear_init = "xavier_normal"
    elementwise = True
    saturation: tuple[float, float] | None = None

    def __init_subclass__(
        cls, name: str | None = None, aliases: tuple[str, ...] = (), **kwargs: Any
    ) -> None:
        super().__init_subclass__(**kwargs)
        if name is None:
            return
        if cls.__name__ in MODULE_TYPES:
            raise ValueError(
                f"module type {cls.__name__!r} is already registered "
                f"({MODULE_TYPES[cls.__name__]!r}); give the new activation another class name"
            )
        ACTIVATIONS.register(name, cls, aliases=aliases)
        MODULE_TYPES.register(cls.__name__, cls)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments (none for most activations)."""
        return {}

    def extra_repr(self) -> str:
        return ", ".join(f"{key}={value!r}" for key, value in self.get_config().items())

    def _summary_label(self) -> str:
        arguments = self.extra_repr()
        return f"{type(self).__name__}({arguments})" if arguments else type(self).__name__

    def _output_width(self, width: int | None) -> int | None:
        return width


class Sigmoid(Activation, name="sigmoid", aliases=("logistic",)):
    """sigma(z) = 1 / (1 + exp(-z)), in (0, 1); derivative sigma (1 - sigma).

    Examples
    --------
    >>> nn.Sigmoid()(rp.tensor([0.0]))
    tensor([0.5])
    """

    saturation = (0.0, 1.0)

    def forward(self, x: Any) -> Tensor:
        return F.sigmoid(x)


class Tanh(Activation, name="tanh"):
    """tanh(z), in (-1, 1); derivative 1 - tanh(z)**2."""

    saturation = (-1.0, 1.0)

    def forward(self, x: Any) -> Tensor:
        return F.tanh(x)


class ReLU(Activation, name="relu"):
    """max(z, 0); derivative 1 for z > 0, else 0.

    Examples
    --------
    >>> nn.ReLU()(rp.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """

    linear_init = "he_normal"

    def forward(self, x: Any) -> Tensor:
        return F.relu(x)


class LeakyReLU(Activation, name="leaky_relu"):
    """z for z > 0, else negative_slope * z: a unit that is off still passes a gradient.

    Parameters
    ----------
    negative_slope : float, default 0.01
    """

    linear_init = "he_normal"

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = float(negative_slope)

    def forward(self, x: Any) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def get_config(self) -> dict[str, Any]:
        return {"negative_slope": self.negative_slope}


class ELU(Activation, name="elu"):
    """z for z > 0, else alpha (exp(z) - 1).

    Parameters
    ----------
    alpha : float, default 1.0
    """

    linear_init = "he_normal"

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = float(alpha)

    def forward(self, x: Any) -> Tensor:
        return F.elu(x, self.alpha)

    def get_config(self) -> dict[str, Any]:
        return {"alpha": self.alpha}


class GELU(Activation, name="gelu"):
    """z Phi(z), Phi the standard normal CDF.

    Parameters
    ----------
    approximate : {"none", "tanh"}, default "none"
        "tanh" uses z/2 (1 + tanh(sqrt(2/pi) (z + 0.044715 z**3))).
    """

    linear_init = "he_normal"

    def __init__(self, approximate: Literal["none", "tanh"] = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Any) -> Tensor:
        return F.gelu(x, self.approximate)

    def get_config(self) -> dict[str, Any]:
        return {"approximate": self.approximate}


class SiLU(Activation, name="silu", aliases=("swish",)):
    """SiLU, also called Swish: z sigmoid(z)."""

    linear_init = "he_normal"

    def forward(self, x: Any) -> Tensor:
        return F.silu(x)


Swish = SiLU


class Mish(Activation, name="mish"):
    """z tanh(softplus(z))."""

    linear_init = "he_normal"

    def forward(self, x: Any) -> Tensor:
        return F.mish(x)


class Softplus(Activation, name="softplus"):
    """log(1 + exp(z)), a smooth ReLU; derivative sigmoid(z)."""

    linear_init = "he_normal"

    def forward(self, x: Any) -> Tensor:
        return F.softplus(x)


class Softmax(Activation, name="softmax"):
    """exp(z_i) / sum_j exp(z_j) along ``axis`` (stable: the max is subtracted).

    For training, prefer logits with ``cross_entropy``, which fuses the softmax.

    Parameters
    ----------
    axis : int, default -1
    """

    elementwise = False

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = int(axis)

    def forward(self, x: Any) -> Tensor:
        return F.softmax(x, self.axis)

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis}


class LogSoftmax(Softmax, name="log_softmax"):
    """log softmax(z) = z - logsumexp(z) along ``axis`` (stable)."""

    def forward(self, x: Any) -> Tensor:
        return F.log_softmax(x, self.axis)


class Identity(Activation, name="identity", aliases=("linear",)):
    """g(z) = z: the output activation of a regression, or a placeholder."""

    def forward(self, x: Any) -> Tensor:
        return F.identity(x)


#: The names of the element-wise activations (those a hidden layer can use), live; each maps to
#: its registered name: ``HIDDEN_ACTIVATIONS["logistic"] == "sigmoid"``.
HIDDEN_ACTIVATIONS = ACTIVATIONS.view(
    where=lambda name, cls: cls.elementwise, value=lambda name, cls: ACTIVATIONS.canonical(name)
)


def get_activation(name: str) -> Activation:
    """A new activation module from its name ("relu", "leaky_relu", "tanh", ...).

    Examples
    --------
    >>> get_activation("leaky_relu")
    LeakyReLU(negative_slope=0.01)
    """
    if not isinstance(name, str) or name.lower() not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name.lower()]()


def unregister_activation(name: str) -> None:
    """Forget the activation registered as ``name`` (and its module type); for tests.

    Raises
    ------
    KeyError
        When ``name`` is not a registered activation name.
    """
    cls = ACTIVATIONS.unregister(name)
    if MODULE_TYPES.get(cls.__name__) is cls:
        MODULE_TYPES.unregister(cls.__name__)
