"""Activation functions as modules, one per function of :mod:`retroprop.nn.functional`.

Each class also says how a :class:`~retroprop.nn.Linear` placed just before it should be
initialised (``linear_init``): He normal for the ReLU family, whose units are zero on half of
their inputs, Glorot (xavier) normal for sigmoid, tanh, softmax and the identity.
"""

from __future__ import annotations

from typing import Any, Literal

from retroprop.nn import functional as F
from retroprop.nn.module import Module
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
    "get_activation",
]


class Activation(Module):
    """Base class of the activation modules: no parameters, the output has the input's shape.

    Attributes
    ----------
    linear_init : str
        The initialiser a default-initialised Linear just before this activation receives.
    """

    linear_init = "xavier_normal"

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


class Sigmoid(Activation):
    """sigma(z) = 1 / (1 + exp(-z)), in (0, 1); derivative sigma (1 - sigma).

    Examples
    --------
    >>> nn.Sigmoid()(rp.tensor([0.0]))
    tensor([0.5])
    """

    def forward(self, x: Any) -> Tensor:
        return F.sigmoid(x)


class Tanh(Activation):
    """tanh(z), in (-1, 1); derivative 1 - tanh(z)**2."""

    def forward(self, x: Any) -> Tensor:
        return F.tanh(x)


class ReLU(Activation):
    """max(z, 0); derivative 1 for z > 0, else 0.

    Examples
    --------
    >>> nn.ReLU()(rp.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """

    linear_init = "he_normal"

    def forward(self, x: Any) -> Tensor:
        return F.relu(x)


class LeakyReLU(Activation):
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


class ELU(Activation):
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


class GELU(Activation):
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


class SiLU(Activation):
    """SiLU, also called Swish: z sigmoid(z)."""

    linear_init = "he_normal"

    def forward(self, x: Any) -> Tensor:
        return F.silu(x)


Swish = SiLU


class Mish(Activation):
    """z tanh(softplus(z))."""

    linear_init = "he_normal"

    def forward(self, x: Any) -> Tensor:
        return F.mish(x)


class Softplus(Activation):
    """log(1 + exp(z)), a smooth ReLU; derivative sigmoid(z)."""

    linear_init = "he_normal"

    def forward(self, x: Any) -> Tensor:
        return F.softplus(x)


class Softmax(Activation):
    """exp(z_i) / sum_j exp(z_j) along ``axis`` (stable: the max is subtracted).

    For training, prefer logits with ``cross_entropy``, which fuses the softmax.

    Parameters
    ----------
    axis : int, default -1
    """

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = int(axis)

    def forward(self, x: Any) -> Tensor:
        return F.softmax(x, self.axis)

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis}


class LogSoftmax(Softmax):
    """log softmax(z) = z - logsumexp(z) along ``axis`` (stable)."""

    def forward(self, x: Any) -> Tensor:
        return F.log_softmax(x, self.axis)


class Identity(Activation):
    """g(z) = z: the output activation of a regression, or a placeholder."""

    def forward(self, x: Any) -> Tensor:
        return F.identity(x)


ACTIVATIONS: dict[str, type[Activation]] = {
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "elu": ELU,
    "gelu": GELU,
    "silu": SiLU,
    "swish": SiLU,
    "mish": Mish,
    "softplus": Softplus,
    "softmax": Softmax,
    "log_softmax": LogSoftmax,
    "identity": Identity,
    "linear": Identity,
}


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
