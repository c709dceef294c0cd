"""Shared modules and tied parameters in an architecture config, written and read back.

A module used in several places (``nn.Sequential(layer, nn.ReLU(), layer)``) is one module: its
config is written where it first appears (in ``named_modules()`` order) and every later use is
``{"ref": "0"}``, the dotted name of that first place. A bare :class:`Parameter` shared by two
different modules is recorded once at the root as ``"tied_parameters": {"2.weight":
"0.weight"}``. :func:`retroprop.nn.config.module_from_config` resolves both back to the same
objects, so ``state_dict()`` (which holds each array once) fits the rebuilt model and, after
``rp.load``, ``model[0].weight is model[2].weight``.

Nothing else can be referenced: a ``ref`` names a module written earlier in the same config,
never one that contains it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any

from retroprop.nn.module import Module
from retroprop.nn.parameter import Parameter

__all__ = ["TIED_PARAMETERS"]

TIED_PARAMETERS = "tied_parameters"

# id(module) -> its dotted name, and the ids already written, for the config being written.
_writing: ContextVar[tuple[dict[int, str], set[int]] | None] = ContextVar("writing", default=None)
# True while a config is being built (its refs become placeholders, resolved at the end).
_building: ContextVar[bool] = ContextVar("building", default=False)


# -------------------------------------------------------------------- writing
def write_root(module: Module, describe: Callable[[Module], dict[str, Any]]) -> dict[str, Any]:
    """``describe(module)`` for the outermost call, with shared modules and ties recorded."""
    names = {id(sub): name for name, sub in module.named_modules()}
    token = _writing.set((names, set()))
    try:
        config = describe(module)
    finally:
        _writing.reset(token)
    ties = _parameter_ties(module)
    if ties:
        config[TIED_PARAMETERS] = ties
    return config


def writing() -> bool:
    """True inside :func:`write_root` (a nested call for a sub-module)."""
    return _writing.get() is not None


def reference_to(module: Module) -> dict[str, str] | None:
    """``{"ref": name}`` when ``module`` was already written in this config, else None."""
    names, written = _writing.get()  # type: ignore[misc]
    if id(module) in written:
        return {"ref": names[id(module)]}
    written.add(id(module))
    return None


def _parameter_ties(root: Module) -> dict[str, str]:
    """Dotted name of each later place of a Parameter -> the name of its first place."""
    first: dict[int, str] = {}
    ties: dict[str, str] = {}
    for module_name, module in root.named_modules():
        for name, param in module._parameters.items():
            if param is None:
                continue
            key = f"{module_name}.{name}" if module_name else name
            if id(param) in first:
                ties[key] = first[id(param)]
            else:
                first[id(param)] = key
    return ties


# -------------------------------------------------------------------- reading
class _Reference(Module):
    """A place holder for ``{"ref": name}`` until the whole model is built."""

    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target


def building() -> bool:
    """True inside :func:`build_root` (a nested call for a sub-module)."""
    return _building.get()


def build_root(config: Mapping[str, Any], build: Callable[[Mapping[str, Any]], Module]) -> Module:
    """``build(config)`` for the outermost call, then shared modules and ties resolved.

    Raises
    ------
    ValueError
        For a ``ref`` or a tie that names no earlier module or parameter, or a module that
        contains the reference, or tied parameters of different shapes or dtypes.
    """
    ties = config.get(TIED_PARAMETERS) if isinstance(config, Mapping) else None
    if ties is not None:
        config = {key: value for key, value in config.items() if key != TIED_PARAMETERS}
    token = _building.set(True)
    try:
        root = build(config)
    finally:
        _building.reset(token)
    if isinstance(root, _Reference):
        raise ValueError(f"module_from_config: {config!r} is a ref outside a model")
    _resolve_references(root)
    if ties is not None:
        _tie_parameters(root, ties)
    return root


def reference(config: Mapping[str, Any]) -> Module:
    """The place holder for ``{"ref": "dotted.name"}`` (checked: one key, a string)."""
    target = config.get("ref")
    if set(config) != {"ref"} or not isinstance(target, str):
        raise ValueError(
            f"module_from_config: a reference is exactly {{'ref': 'dotted.name'}}, got {config!r}"
        )
    return _Reference(target)


def _resolve_references(root: Module) -> None:
    order = [name for name, _ in _walk(root)]
    position = {name: index for index, name in enumerate(order)}
    targets = {name: m.target for name, m in _walk(root) if isinstance(m, _Reference)}
    for name, target in targets.items():
        if not target or target == name or name.startswith(f"{target}."):
            raise ValueError(
                f"module_from_config: '{name}' refers to '{target}', which contains it"
            )
        if target in targets:
            raise ValueError(
                f"module_from_config: '{name}' refers to '{target}', itself a ref; refer to "
                f"'{targets[target]}'"
            )
        if position.get(target, len(order)) > position[name]:
            raise ValueError(
                f"module_from_config: the ref at '{name}' names no module '{target}' written "
                "before it"
            )
    for name, target in targets.items():
        parent_name, _, child = name.rpartition(".")
        _module_at(root, parent_name, "")._modules[child] = _module_at(root, target, "")


def _tie_parameters(root: Module, ties: Any) -> None:
    if not isinstance(ties, Mapping):
        raise ValueError(f"module_from_config: {TIED_PARAMETERS} must be a dict, got {ties!r}")
    for key, source_key in ties.items():
        source = _parameter_at(root, source_key, f"{TIED_PARAMETERS}[{key!r}]")
        old = _parameter_at(root, key, TIED_PARAMETERS)
        if old.shape != source.shape or old.dtype != source.dtype:
            raise ValueError(
                f"module_from_config: cannot tie '{key}' ({old.shape}, {old.dtype}) to "
                f"'{source_key}' ({source.shape}, {source.dtype})"
            )
        module_name, _, name = str(key).rpartition(".")
        setattr(_module_at(root, module_name, TIED_PARAMETERS), name, source)


def _walk(root: Module) -> Iterator[tuple[str, Module]]:
    """Every (dotted name, module), place holders included (they are all distinct objects)."""
    stack: list[tuple[str, Module]] = [("", root)]
    while stack:
        name, module = stack.pop()
        yield name, module
        for child_name, child in reversed(module._modules.items()):
            if child is not None:
                stack.append((f"{name}.{child_name}" if name else child_name, child))


def _module_at(root: Module, name: str, where: str) -> Module:
    module = root
    for part in name.split(".") if name else ():
        child = module._modules.get(part) if isinstance(module, Module) else None
        if child is None:
            raise ValueError(f"module_from_config: {where} names no module '{name}'")
        module = child
    return module


def _parameter_at(root: Module, key: Any, where: str) -> Parameter:
    module_name, _, name = str(key).rpartition(".")
    param = _module_at(root, module_name, where)._parameters.get(name)
    if param is None:
        raise ValueError(f"module_from_config: {where} names no parameter '{key}'")
    return param
