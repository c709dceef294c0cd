"""A model's architecture as plain JSON data (and back, never running stored code), or as a table.

``module_to_config`` describes a model built from retroprop's modules as nested dicts::

    {"type": "Sequential", "modules": [
        {"type": "Linear", "in_features": 2, "out_features": 4, "bias": true,
         "init": null, "dtype": "float32"},
        {"type": "ReLU"}, ...]}

``module_from_config`` rebuilds it by looking each ``type`` up in the registry of module types
(:data:`MODULE_TYPES`), which a class joins explicitly where it is defined (``@register_module``,
or ``class X(Activation, name=...)``): nothing is imported or evaluated from the data, so a
config from an untrusted file can at worst fail with an error. The weights travel separately
(``state_dict``); :func:`retroprop.save` stores both.

:func:`summarize` (behind ``model.summary()``) describes the same architecture for a reader: one
row per layer with its output width and parameter count.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from retroprop.nn import sharing
from retroprop.nn.module import Module
from retroprop.random import using_generator
from retroprop.registry import Registry

__all__ = [
    "MODULE_TYPES",
    "register_module",
    "module_to_config",
    "module_from_config",
    "Summary",
    "summarize",
]

MODULE_TYPES: Registry[type[Module]] = Registry("module type")


def register_module(cls: type[Module]) -> type[Module]:
    """Class decorator: let model files name ``cls`` (by its class name) as a module type.

    The class needs ``get_config()`` and ``from_config(config)`` (Module's defaults suit a
    module without constructor arguments). Activations register themselves through
    ``class X(Activation, name=...)`` instead.

    Raises
    ------
    ValueError
        When a module type of that class name is already registered.

    Examples
    --------
    >>> @register_module
    ... class Double(nn.Module):
    ...     def forward(self, x):
    ...         return x * 2
    >>> module_from_config({"type": "Double"})
    Double()
    >>> _ = MODULE_TYPES.unregister("Double")
    """
    MODULE_TYPES.register(cls.__name__, cls)
    return cls


def module_to_config(module: Module) -> dict[str, Any]:
    """The JSON-safe description of ``module`` (and, nested, of its sub-modules).

    Raises
    ------
    TypeError
        When the model holds a module whose class is not registered (a user-defined Module
        or a subclass of a built-in one, unless registered with :func:`register_module`).

    Examples
    --------
    >>> config = module_to_config(nn.Sequential(nn.Linear(2, 1), nn.Sigmoid()))
    >>> config["type"], config["modules"][1]
    ('Sequential', {'type': 'Sigmoid'})
    >>> config["modules"][0]  # doctest: +NORMALIZE_WHITESPACE
    {'type': 'Linear', 'in_features': 2, 'out_features': 1, 'bias': True, 'init': None,
     'dtype': 'float32'}

    A module used in several places is written once, later uses as ``{"ref": "<dotted name>"}``
    (see :mod:`retroprop.nn.sharing`):

    >>> layer = nn.Linear(2, 2)
    >>> module_to_config(nn.Sequential(layer, nn.ReLU(), layer))["modules"][2]
    {'ref': '0'}
    """
    if not sharing.writing():  # the outermost call: track the modules written so far
        return sharing.write_root(module, module_to_config)
    reference = sharing.reference_to(module)
    if reference is not None:
        return reference
    cls = type(module)
    if MODULE_TYPES.get(cls.__name__) is not cls:
        raise TypeError(
            f"module_to_config: {cls.__module__}.{cls.__qualname__} is not one of retroprop's "
            f"built-in modules ({', '.join(MODULE_TYPES)}) nor a registered module type, so its "
            "architecture cannot be stored as data; register it (retroprop.nn.config."
            "register_module), or save model.state_dict() and rebuild the model in code"
        )
    return {"type": cls.__name__, **module.get_config()}


def module_from_config(config: Mapping[str, Any]) -> Module:
    """Build a module from :func:`module_to_config`'s output (allowlisted types only).

    The new weights are drawn from a private generator, so rebuilding a model (before loading
    its weights) leaves the global random stream of ``rp.manual_seed`` untouched.

    Raises
    ------
    ValueError
        For an unknown ``type`` (named in the message) or invalid arguments.
    TypeError
        When ``config`` is not a mapping.

    Examples
    --------
    >>> module_from_config({"type": "Sequential", "modules": [
    ...     {"type": "Linear", "in_features": 2, "out_features": 1}, {"type": "Sigmoid"}]})
    Sequential(
      (0): Linear(in_features=2, out_features=1, bias=True)
      (1): Sigmoid()
    )
    >>> module_from_config({"type": "os.system"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: module_from_config: unknown module type 'os.system'; ...
    """
    if not isinstance(config, Mapping):
        raise TypeError(f"module_from_config: expected a dict, got {type(config).__name__}")
    if not sharing.building():  # the outermost call: resolve refs and ties at the end
        return sharing.build_root(config, module_from_config)
    if "ref" in config:
        return sharing.reference(config)
    name = config.get("type")
    cls = MODULE_TYPES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(
            f"module_from_config: unknown module type {name!r}; the known types are "
            f"{', '.join(MODULE_TYPES)}"
        )
    arguments = {key: value for key, value in config.items() if key != "type"}
    with using_generator(np.random.default_rng(0)):
        try:
            return cls.from_config(arguments)
        except TypeError as error:
            raise ValueError(f"module_from_config: invalid config for {name}: {error}") from error


def summarize(module: Module) -> Summary:
    """The layer table of ``module``: what ``module.summary()`` prints.

    Examples
    --------
    >>> model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 4), nn.ReLU(),
    ...                       nn.Linear(4, 1), nn.Sigmoid())
    >>> summary = model.summary()  # prints the table, returns it
    Layer  Type          Output  Params
    -----  ------------  ------  ------
    0      Linear(2->4)       4      12
    1      ReLU               4       0
    2      Linear(4->4)       4      20
    3      ReLU               4       0
    4      Linear(4->1)       1       5
    5      Sigmoid            1       0
    Total params: 37 (trainable: 37)
    >>> summarize(nn.mlp([784, 300, 100, 10])).total_params
    266610
    """
    rows: list = []
    if module._modules:
        module._summarize("", -1, None, rows)
        rows = rows[1:]  # the container itself: its children are the layers
    else:
        module._summarize(type(module).__name__, 0, None, rows)
    params = list(module.parameters())
    return Summary(
        rows=rows,
        total_params=sum(p.size for p in params),
        trainable_params=sum(p.size for p in params if p.requires_grad),
    )


class Summary:
    """What :func:`summarize` returns; ``str(summary)`` is the table.

    Attributes
    ----------
    rows : list of tuple
        (name, depth, type, output width or None, parameter count) per module.
    total_params, trainable_params : int
        Unique parameters counted once (a shared layer is not counted twice); also available
        as ``total_parameters`` and ``trainable_parameters``.
    """

    def __init__(self, rows: list, total_params: int, trainable_params: int) -> None:
        self.rows = rows
        self.total_params = int(total_params)
        self.trainable_params = int(trainable_params)

    def __str__(self) -> str:
        table = [("Layer", "Type", "Output", "Params")]
        for name, depth, label, width, count in self.rows:
            table.append(
                ("  " * depth + name, label, "?" if width is None else str(width), f"{count:,}")
            )
        sizes = [max(len(row[i]) for row in table) for i in range(4)]
        lines = []
        for k, row in enumerate(table):
            cells = [row[0].ljust(sizes[0]), row[1].ljust(sizes[1])]
            cells += [row[2].rjust(sizes[2]), row[3].rjust(sizes[3])]
            lines.append("  ".join(cells).rstrip())
            if k == 0:
                lines.append("  ".join("-" * size for size in sizes))
        lines.append(f"Total params: {self.total_params:,} (trainable: {self.trainable_params:,})")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"Summary({len(self.rows)} rows, total_params={self.total_params}, "
            f"trainable_params={self.trainable_params})"
        )

    @property
    def total_parameters(self) -> int:
        """Alias of ``total_params``."""
        return self.total_params

    @property
    def trainable_parameters(self) -> int:
        """Alias of ``trainable_params``."""
        return self.trainable_params
