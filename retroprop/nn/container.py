"""``Sequential``: modules applied one after the other, and ``mlp`` to build one from widths."""

from __future__ import annotations

import copy
import numbers
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from retroprop.nn.activation import Activation, get_activation
from retroprop.nn.batchnorm import BatchNorm1d
from retroprop.nn.config import module_from_config, module_to_config, register_module
from retroprop.nn.dropout import Dropout
from retroprop.nn.linear import DEFAULT_INIT, Linear
from retroprop.nn.module import Module
from retroprop.nn.parameter import Parameter
from retroprop.tensor import Tensor

__all__ = ["Sequential", "mlp", "follower"]

# Modules that keep a layer's width and units: the init of the Linear before them is chosen by
# what comes after them.
_LOOKED_THROUGH = (Dropout, BatchNorm1d)


def follower(modules: Sequence[Module], position: int) -> Module | None:
    """The module that follows ``modules[position]``, looking past Dropout and BatchNorm1d.

    None when nothing (or only Dropout and BatchNorm1d) follows. The default initialisation
    of a Linear and the diagnostics ("which activation follows this layer") both use it.

    Examples
    --------
    >>> follower([nn.Linear(2, 4), nn.Dropout(0.5), nn.Tanh()], 0)
    Tanh()
    >>> follower([nn.Linear(2, 4), nn.BatchNorm1d(4)], 0) is None
    True
    """
    for module in modules[position + 1 :]:
        if not isinstance(module, _LOOKED_THROUGH):
            return module
    return None


@register_module
class Sequential(Module):
    """The output of each module is the input of the next: a_l = module_l(a_{l-1}).

    Sub-modules are named "0", "1", ... (so parameters are "0.weight", "0.bias", ...). A
    Sequential can be indexed (``model[0]``, ``model[-1]``), sliced (``model[:2]`` is a
    Sequential sharing the same modules), iterated, measured with ``len`` and extended with
    ``append``.

    **Default initialisation.** A :class:`Linear` built without ``init=`` starts with Glorot
    (xavier) normal weights. When a Sequential sees the activation that follows it (looking past
    Dropout and BatchNorm1d, see :func:`follower`), it chooses the initialiser the course
    recommends for that activation (the activation's ``linear_init``): He normal,
    std = sqrt(2 / fan_in), for the ReLU family (ReLU, LeakyReLU, ELU, GELU, SiLU, Mish,
    Softplus), re-drawing W; Glorot normal, std = sqrt(2 / (fan_in + fan_out)), for Sigmoid,
    Tanh, Softmax and Identity, and when another layer follows. The choice is made once per
    layer (when the Sequential is built, or on ``append`` for a layer that was last), and only
    while it is open: a layer built with an explicit ``init``, or whose ``weight`` was read
    before (by a forward pass, or by code that set or loaded W through ``layer.weight``),
    keeps its weights.

    Parameters
    ----------
    *modules : Module
        The layers, in order.

    Examples
    --------
    >>> model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1), nn.Sigmoid())
    >>> model[0].weight_init, model[2].weight_init
    ('he_normal', 'xavier_normal')
    >>> model(np.zeros((3, 2))).shape
    (3, 1)
    >>> [name for name, _ in model.named_parameters()]
    ['0.weight', '0.bias', '2.weight', '2.bias']
    >>> model[:2]
    Sequential(
      (0): Linear(in_features=2, out_features=4, bias=True)
      (1): ReLU()
    )
    """

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for module in modules:
            self._add(module)
        self._settle_default_inits()

    def _add(self, module: Module) -> None:
        if not isinstance(module, Module):
            hint = " (use the module nn.ReLU(), not the function)" if callable(module) else ""
            raise TypeError(
                f"Sequential: item {len(self._modules)} is a {type(module).__name__}, not a "
                f"Module{hint}"
            )
        self._modules[str(len(self._modules))] = module

    def forward(self, x: Any) -> Tensor:
        for module in self._modules.values():
            x = module(x)
        return x

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end; returns the Sequential."""
        self._add(module)
        self._settle_default_inits()
        return self

    def extend(self, modules: Iterable[Module]) -> Sequential:
        """Add each of ``modules`` at the end; returns the Sequential."""
        for module in modules:
            self._add(module)
        self._settle_default_inits()
        return self

    def __getitem__(self, index: int | slice) -> Any:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(*modules[index])
        if isinstance(index, bool) or not isinstance(index, numbers.Integral):
            raise TypeError(f"Sequential indices are ints or slices, got {type(index).__name__}")
        if not -len(modules) <= index < len(modules):
            raise IndexError(f"Sequential index {index} is out of range for {len(modules)} modules")
        return modules[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def _settle_default_inits(self) -> None:
        modules = list(self._modules.values())
        for position, module in enumerate(modules):
            if not (isinstance(module, Linear) and module._default_open):
                continue
            after = follower(modules, position)
            if after is not None:
                name = after.linear_init if isinstance(after, Activation) else DEFAULT_INIT
                module._choose_default_init(name)

    # ---------------------------------------------------------------- description
    def get_config(self) -> dict[str, Any]:
        """{"modules": [config of each module]}."""
        return {"modules": [module_to_config(module) for module in self._modules.values()]}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Sequential:
        """Build from :meth:`get_config`'s output."""
        modules = config.get("modules")
        if set(config) != {"modules"} or not isinstance(modules, list):
            raise ValueError(
                f"Sequential config needs exactly the key 'modules' holding a list, got {config!r}"
            )
        return cls(*[module_from_config(item) for item in modules])

    def _summarize(self, name: str, depth: int, width: int | None, rows: list) -> int | None:
        index = len(rows)
        rows.append(None)
        for child_name, child in self.named_children():
            width = child._summarize(
                f"{name}.{child_name}" if name else child_name, depth + 1, width, rows
            )
        rows[index] = (name, depth, "Sequential", width, sum(p.size for p in self.parameters()))
        return width


def mlp(
    sizes: Sequence[int],
    activation: str | type[Module] | Module | None = "relu",
    output_activation: str | type[Module] | Module | None = None,
    dropout: float = 0.0,
    batch_norm: bool = False,
    init: str | Callable[[Parameter], Any] | None = None,
    dtype: npt.DTypeLike = np.float32,
) -> Sequential:
    """A multilayer perceptron: Linear layers of the given widths with activations between.

    Each hidden layer is ``Linear -> [BatchNorm1d] -> activation -> [Dropout]``; the last is
    ``Linear -> [output_activation]``. With ``init=None`` every Linear gets the course's
    default for the activation after it (He for the ReLU family, Glorot otherwise).

    Parameters
    ----------
    sizes : sequence of int
        Widths from the input to the output, e.g. [2, 4, 4, 1].
    activation : str, Module class or instance, or None, default "relu"
        Hidden activation ("relu", "tanh", "sigmoid", "leaky_relu", ...); None for none.
    output_activation : same, optional
        Activation after the last layer (None: logits, as the fused losses expect).
    dropout : float, default 0.0
        Dropout probability after each hidden activation (0: no Dropout module).
    batch_norm : bool, default False
        Insert BatchNorm1d between each hidden Linear and its activation.
    init : str or callable, optional
        Passed to every Linear.
    dtype : dtype, default float32

    Examples
    --------
    >>> model = nn.mlp([2, 4, 4, 1], output_activation="sigmoid")
    >>> model.summary(print_table=False).total_params
    37
    >>> model
    Sequential(
      (0): Linear(in_features=2, out_features=4, bias=True)
      (1): ReLU()
      (2): Linear(in_features=4, out_features=4, bias=True)
      (3): ReLU()
      (4): Linear(in_features=4, out_features=1, bias=True)
      (5): Sigmoid()
    )
    """
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"mlp: sizes needs at least an input and an output width, got {sizes}")
    layers: list[Module] = []
    last = len(sizes) - 2
    for index, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(Linear(fan_in, fan_out, init=init, dtype=dtype))
        if index < last:
            if batch_norm:
                layers.append(BatchNorm1d(fan_out, dtype=dtype))
            if activation is not None:
                layers.append(_new_activation(activation))
            if dropout:
                layers.append(Dropout(dropout))
        elif output_activation is not None:
            layers.append(_new_activation(output_activation))
    return Sequential(*layers)


def _new_activation(spec: str | type[Module] | Module) -> Module:
    if isinstance(spec, str):
        return get_activation(spec)
    if isinstance(spec, type) and issubclass(spec, Module):
        return spec()
    if isinstance(spec, Module):
        return copy.deepcopy(spec)
    raise TypeError(
        f"mlp: an activation is a name, a Module class or a Module, got {type(spec).__name__}"
    )
