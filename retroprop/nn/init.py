"""Weight initialisers with PyTorch's names, acting in place on a tensor and returning it.

Why initialisation matters (the course, after Glorot & Bengio 2010 and He et al. 2015): with
weights too small the signal and the gradient shrink layer after layer (vanishing gradients);
too large, they grow or saturate the units. Choosing the variance from the layer's fan-in and
fan-out keeps the variance of activations and gradients roughly constant across layers.

Shapes: retroprop stores a layer's weight as (in_features, out_features), the *transpose* of
PyTorch's (out, in), so here ``fan_in = shape[0]`` and ``fan_out = shape[1]`` (times the product
of any further axes).

Every random initialiser takes ``generator=`` (a ``numpy.random.Generator``); by default it
draws from ``retroprop.random.default_generator()``, so ``rp.manual_seed(n)`` makes it
reproducible. Values are drawn in float64 (as ``rng.normal(0, std, size)`` in the course) and
then stored in the tensor's dtype.

Examples
--------
>>> from retroprop.nn import init
>>> w = rp.tensor(np.empty((1000, 500), dtype=np.float32))
>>> _ = init.kaiming_normal_(w, nonlinearity="relu", generator=np.random.default_rng(0))
>>> round(float(w.data.std() / np.sqrt(2 / 1000)), 2)
1.0
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any, Literal

import numpy as np

from retroprop.random import default_generator
from retroprop.registry import Registry
from retroprop.tensor import Tensor
from retroprop.version_counter import bump_version

__all__ = [
    "calculate_gain",
    "calculate_fans",
    "zeros_",
    "ones_",
    "constant_",
    "uniform_",
    "normal_",
    "standard_",
    "xavier_uniform_",
    "xavier_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
    "lecun_normal_",
    "INITIALIZERS",
    "get",
    "register",
]

FanMode = Literal["fan_in", "fan_out"]
Initializer = Callable[..., Any]

_LINEAR_GAIN = ("linear", "identity", "sigmoid", "conv1d", "conv2d", "conv3d")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (PyTorch's table).

    ========================  ================================
    nonlinearity              gain
    ========================  ================================
    linear, identity, sigmoid 1
    tanh                      5/3
    relu                      sqrt(2)
    leaky_relu                sqrt(2 / (1 + negative_slope**2)), slope ``param`` (default 0.01)
    selu                      3/4
    ========================  ================================

    Examples
    --------
    >>> round(calculate_gain("relu"), 4)
    1.4142
    >>> round(calculate_gain("leaky_relu", 0.2), 4)
    1.3868
    """
    if nonlinearity in _LINEAR_GAIN:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "selu":
        return 0.75
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, int | float) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a number")
        return math.sqrt(2.0 / (1.0 + slope**2))
    raise ValueError(
        f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; choose one of "
        f"{[*_LINEAR_GAIN, 'tanh', 'relu', 'leaky_relu', 'selu']}"
    )


def calculate_fans(tensor: Any) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (in, out, *receptive_field).

    Examples
    --------
    >>> calculate_fans(np.empty((784, 300)))
    (784, 300)
    """
    shape = _array(tensor, filling=False).shape
    if len(shape) < 2:
        raise ValueError(
            f"fan in and fan out need a weight with at least 2 dimensions, got shape {shape}"
        )
    receptive = math.prod(shape[2:])
    return shape[0] * receptive, shape[1] * receptive


# -------------------------------------------------------------------- constants
def zeros_(tensor: Any) -> Any:
    """Fill with 0 (biases; weights set to 0 leave the hidden units symmetric)."""
    _array(tensor)[...] = 0
    return tensor


def ones_(tensor: Any) -> Any:
    """Fill with 1."""
    _array(tensor)[...] = 1
    return tensor


def constant_(tensor: Any, val: float) -> Any:
    """Fill with ``val``."""
    _array(tensor)[...] = val
    return tensor


# -------------------------------------------------------------------- random
def uniform_(
    tensor: Any, a: float = 0.0, b: float = 1.0, generator: np.random.Generator | None = None
) -> Any:
    """Fill with draws from the uniform distribution U(a, b)."""
    if not a <= b:
        raise ValueError(f"uniform_: need a <= b, got a={a}, b={b}")
    array = _array(tensor)
    array[...] = _generator(generator).uniform(a, b, size=array.shape)
    return tensor


def normal_(
    tensor: Any, mean: float = 0.0, std: float = 1.0, generator: np.random.Generator | None = None
) -> Any:
    """Fill with draws from N(mean, std**2); the default N(0, 1) is the init of early networks.

    Examples
    --------
    >>> w = normal_(np.empty((2, 2)), generator=np.random.default_rng(0))
    >>> np.allclose(w, np.random.default_rng(0).normal(0.0, 1.0, size=(2, 2)))
    True
    """
    if std < 0:
        raise ValueError(f"normal_: std must be >= 0, got {std}")
    array = _array(tensor)
    array[...] = _generator(generator).normal(mean, std, size=array.shape)
    return tensor


def standard_(tensor: Any, generator: np.random.Generator | None = None) -> Any:
    """Glorot & Bengio's "standard" init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).

    The heuristic their paper shows to shrink gradients in deep sigmoid or tanh networks.
    """
    fan_in, _ = calculate_fans(tensor)
    bound = 1.0 / math.sqrt(fan_in) if fan_in else 0.0
    return uniform_(tensor, -bound, bound, generator=generator)


def xavier_uniform_(
    tensor: Any, gain: float = 1.0, generator: np.random.Generator | None = None
) -> Any:
    """Glorot/Xavier uniform: U(-bound, bound), bound = gain * sqrt(6 / (fan_in + fan_out)).

    Its variance gain**2 * 2 / (fan_in + fan_out) balances the forward and backward passes.
    """
    fan_in, fan_out = calculate_fans(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out)) if fan_in + fan_out else 0.0
    return uniform_(tensor, -bound, bound, generator=generator)


def xavier_normal_(
    tensor: Any, gain: float = 1.0, generator: np.random.Generator | None = None
) -> Any:
    """Glorot/Xavier normal: N(0, std**2), std = gain * sqrt(2 / (fan_in + fan_out)).

    The course's ``xavier_init``, suited to sigmoid and tanh units.
    """
    fan_in, fan_out = calculate_fans(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out)) if fan_in + fan_out else 0.0
    return normal_(tensor, 0.0, std, generator=generator)


def _kaiming_std(tensor: Any, a: float, mode: str, nonlinearity: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = calculate_fans(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan) if fan else 0.0


def kaiming_uniform_(
    tensor: Any,
    a: float = 0.0,
    mode: FanMode = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: np.random.Generator | None = None,
) -> Any:
    """He/Kaiming uniform: U(-bound, bound), bound = gain * sqrt(3 / fan).

    ``gain = calculate_gain(nonlinearity, a)``; with the defaults (leaky_relu, a=0) or "relu",
    bound = sqrt(6 / fan_in). ``fan`` is fan_in (keeps the forward variance) or fan_out
    (keeps the backward variance).
    """
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator=generator)


def kaiming_normal_(
    tensor: Any,
    a: float = 0.0,
    mode: FanMode = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: np.random.Generator | None = None,
) -> Any:
    """He/Kaiming normal: N(0, std**2), std = gain / sqrt(fan).

    For ReLU (gain sqrt(2)) this is the course's ``he_init``: std = sqrt(2 / fan_in).
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    return normal_(tensor, 0.0, std, generator=generator)


def lecun_normal_(tensor: Any, generator: np.random.Generator | None = None) -> Any:
    """LeCun normal: N(0, std**2), std = sqrt(1 / fan_in) (plain normal, not truncated)."""
    fan_in, _ = calculate_fans(tensor)
    std = 1.0 / math.sqrt(fan_in) if fan_in else 0.0
    return normal_(tensor, 0.0, std, generator=generator)


# -------------------------------------------------------------------- by name
#: The initialisers by name (a ``Registry``): ``fn(tensor, generator=None) -> tensor``.
INITIALIZERS: Registry[Initializer] = Registry("init")


def register(name: str, function: Initializer, aliases: tuple[str, ...] = ()) -> Initializer:
    """Make ``function(tensor, generator=None)`` available as ``init=name`` everywhere.

    ``Linear(init=name)``, ``mlp(init=name)``, the command line's ``--init`` and the
    estimators' ``init`` parameter all read :data:`INITIALIZERS`.

    Raises
    ------
    ValueError
        When the name or an alias is already registered.
    """
    return INITIALIZERS.register(name, function, aliases=aliases)


register("he_normal", partial(kaiming_normal_, nonlinearity="relu"), ("kaiming_normal",))
register("he_uniform", partial(kaiming_uniform_, nonlinearity="relu"), ("kaiming_uniform",))
register("xavier_normal", xavier_normal_, ("glorot_normal",))
register("xavier_uniform", xavier_uniform_, ("glorot_uniform",))
register("lecun_normal", lecun_normal_)
register("normal", normal_)
register("uniform", uniform_)
register("standard", standard_)
register("zeros", lambda tensor, generator=None: zeros_(tensor))


def get(name: str) -> Initializer:
    """The initialiser called ``name``, as ``fn(tensor, generator=None) -> tensor``.

    ==================  =====================================================
    name                distribution (weight of shape (fan_in, fan_out))
    ==================  =====================================================
    he_normal           N(0, 2 / fan_in)                   (kaiming_normal)
    he_uniform          U(-sqrt(6 / fan_in), sqrt(6 / fan_in))
    xavier_normal       N(0, 2 / (fan_in + fan_out))       (glorot_normal)
    xavier_uniform      U(-b, b), b = sqrt(6 / (fan_in + fan_out))
    lecun_normal        N(0, 1 / fan_in)
    normal              N(0, 1)
    uniform             U(0, 1), ``uniform_``'s default
    standard            U(-1/sqrt(fan_in), 1/sqrt(fan_in))  (Glorot & Bengio)
    zeros               0 (hidden units stay symmetric)
    ==================  =====================================================

    Raises
    ------
    ValueError
        For an unknown name, listing the known ones.
    """
    if name not in INITIALIZERS:
        raise ValueError(
            f"unknown init {name!r}; choose one of {sorted(INITIALIZERS)} or pass "
            "a callable that fills the weight in place"
        )
    return INITIALIZERS[name]


# -------------------------------------------------------------------- helpers
def _array(tensor: Any, filling: bool = True) -> np.ndarray:
    """The array to write into: a tensor's ``.data`` (same object), or the array itself.

    When ``filling``, a tensor's ``_version`` is bumped: a graph that saved the old values
    refuses to backward through the new ones.
    """
    array = tensor.data if isinstance(tensor, Tensor) else tensor
    if not isinstance(array, np.ndarray) and not hasattr(array, "__array_namespace__"):
        raise TypeError(
            "init functions fill a Tensor, Parameter or array in place, got "
            f"{type(tensor).__name__}"
        )
    if filling and isinstance(tensor, Tensor):
        bump_version(tensor)
    return array


def _generator(generator: np.random.Generator | None) -> np.random.Generator:
    return default_generator() if generator is None else generator
