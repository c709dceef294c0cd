"""``Module``: the base class of layers and models, with PyTorch's bookkeeping.

Assigning a :class:`Parameter` or a ``Module`` to an attribute registers it, so ``parameters()``,
``state_dict()``, ``train()`` and ``eval()`` find everything without a list to maintain.
Buffers (``register_buffer``) are arrays that belong to the model's state without being learned,
such as BatchNorm's running statistics: saved in ``state_dict()``, never given a gradient.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from retroprop.nn.parameter import Parameter
from retroprop.tensor import Tensor
from retroprop.version_counter import bump_version

__all__ = ["Module", "IncompatibleKeys"]

ForwardHook = Callable[["Module", tuple, Any], Any]
_hook_ids = itertools.count()


class IncompatibleKeys(NamedTuple):
    """What :meth:`Module.load_state_dict` left out (with ``strict=False``)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of every layer and model.

    Subclasses call ``super().__init__()`` first, assign their parameters and sub-modules as
    attributes, and define ``forward``. Calling the module runs ``forward`` (and any forward
    hooks).

    Attributes
    ----------
    training : bool
        True in training mode (dropout active, batch statistics); see :meth:`train`, :meth:`eval`.

    Examples
    --------
    >>> class Affine(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.scale = nn.Parameter(np.ones(2, dtype=np.float32))
    ...         self.shift = nn.Parameter(np.zeros(2, dtype=np.float32))
    ...     def forward(self, x):
    ...         return x * self.scale + self.shift
    >>> model = Affine()
    >>> [name for name, _ in model.named_parameters()]
    ['scale', 'shift']
    >>> model(rp.tensor([1.0, 2.0]))
    tensor([1., 2.], grad_fn=<Add>)
    """

    training: bool

    def __init__(self) -> None:
        set_raw = object.__setattr__
        set_raw(self, "_parameters", {})
        set_raw(self, "_buffers", {})
        set_raw(self, "_non_persistent", set())
        set_raw(self, "_modules", {})
        set_raw(self, "_forward_hooks", {})
        set_raw(self, "training", True)

    # ---------------------------------------------------------------- forward
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Compute the module's output; every subclass defines it."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        output = self.forward(*args, **kwargs)
        if self._forward_hooks:
            for hook in tuple(self._forward_hooks.values()):
                replaced = hook(self, args, output)
                if replaced is not None:
                    output = replaced
        return output

    def register_forward_hook(self, hook: ForwardHook) -> Callable[[], None]:
        """Call ``hook(module, inputs, output)`` after each forward pass of this module.

        The hook may return a replacement output (diagnostics record activations this way).
        Returns a function that removes the hook, as ``Tensor.register_hook`` does.
        """
        key = next(_hook_ids)
        self._forward_hooks[key] = hook
        return lambda: self._forward_hooks.pop(key, None)

    # ---------------------------------------------------------------- registration
    def __setattr__(self, name: str, value: Any) -> None:
        registries = self.__dict__.get("_parameters")
        if registries is None:
            if isinstance(value, Parameter | Module):
                raise AttributeError(
                    f"cannot assign {type(value).__name__} '{name}' before Module.__init__(): "
                    f"call super().__init__() first in {type(self).__name__}.__init__"
                )
            object.__setattr__(self, name, value)
            return
        params, buffers, modules = self._parameters, self._buffers, self._modules
        if isinstance(value, Parameter):
            self._forget(name)
            params[name] = value
        elif isinstance(value, Module):
            self._forget(name)
            modules[name] = value
        elif name in params or name in modules:
            if value is not None:
                kind = "Parameter" if name in params else "Module"
                raise TypeError(
                    f"cannot assign {type(value).__name__} to '{name}' of {type(self).__name__}: "
                    f"expected a {kind} or None (to change a parameter's values, write into it: "
                    f"module.{name}.data[...] = new_values)"
                )
            (params if name in params else modules)[name] = None
        elif name in buffers:
            buffers[name] = None if value is None else _as_buffer(value)
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails; __dict__.get avoids recursion during unpickling.
        attributes = self.__dict__
        for registry in ("_parameters", "_modules", "_buffers"):
            store = attributes.get(registry)
            if store is not None and name in store:
                return store[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        if not self._forget(name):
            object.__delattr__(self, name)

    def _forget(self, name: str) -> bool:
        """Remove ``name`` from every registry and the instance dict; True if it was found."""
        found = False
        for store in (self._parameters, self._buffers, self._modules, self.__dict__):
            if name in store:
                del store[name]
                found = True
        self._non_persistent.discard(name)
        return found

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (or None, a declared but absent parameter) under ``name``."""
        _check_name(name, self)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"register_parameter('{name}'): expected a Parameter or None, got "
                f"{type(param).__name__}"
            )
        self._forget(name)
        self._parameters[name] = param

    def register_buffer(self, name: str, array: Any, persistent: bool = True) -> None:
        """Register an array that is state but not learned (running statistics) as ``name``.

        The module updates it in place; ``persistent=False`` keeps it out of ``state_dict()``.
        """
        _check_name(name, self)
        self._forget(name)
        self._buffers[name] = None if array is None else _as_buffer(array)
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` as a child under ``name`` (for names that are not identifiers)."""
        _check_name(name, self, identifier=False)
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module('{name}'): {type(module).__name__} is not a Module")
        self._forget(name)
        self._modules[name] = module

    # ---------------------------------------------------------------- traversal
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """Yield (dotted name, module) for this module and all below it, each once, pre-order."""
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [
                (f"{name}.{child_name}" if name else child_name, child)
                for child_name, child in module._modules.items()
                if child is not None
            ]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        """Yield this module and every module below it, each once."""
        return (module for _, module in self.named_modules())

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Yield (name, module) for the direct sub-modules."""
        seen: set[int] = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        """Yield the direct sub-modules."""
        return (module for _, module in self.named_children())

    def named_parameters(
        self, prefix: str = "", recurse: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """Yield (dotted name, parameter), e.g. ("0.weight", W), each parameter once.

        The order is stable: a module's own parameters in assignment order, then its
        sub-modules' in assignment order (depth first).
        """
        yield from self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Yield every parameter once, in the order of :meth:`named_parameters`."""
        return (param for _, param in self.named_parameters(recurse=recurse))

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Any]]:
        """Yield (dotted name, array) for every buffer (running statistics), each once."""
        yield from self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Any]:
        """Yield every buffer array once."""
        return (buffer for _, buffer in self.named_buffers(recurse=recurse))

    def _named_members(self, registry: str, prefix: str, recurse: bool) -> Iterator[tuple]:
        modules = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        seen: set[int] = set()
        for module_name, module in modules:
            for name, member in getattr(module, registry).items():
                if member is None or id(member) in seen:
                    continue
                seen.add(id(member))
                yield (f"{module_name}.{name}" if module_name else name), member

    # ---------------------------------------------------------------- modes and gradients
    def train(self, mode: bool = True) -> Module:
        """Set training mode (``mode=True``) or evaluation mode on this module and all below.

        Training mode makes Dropout drop units and BatchNorm1d use batch statistics. Returns
        the module, so ``model.train()`` can be chained.
        """
        if not isinstance(mode, bool | np.bool_):
            raise TypeError(f"train(mode): mode must be a bool, got {type(mode).__name__}")
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Set evaluation mode (Dropout is the identity, BatchNorm1d uses running statistics)."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze every parameter; returns the module."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to None (gradients accumulate across backward calls)."""
        for param in self.parameters():
            param.grad = None

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn(module)`` on every sub-module and then on this one (e.g. a custom init)."""
        for module in reversed(list(self.modules())):
            fn(module)
        return self

    # ---------------------------------------------------------------- state
    def state_dict(self, copy: bool = False) -> OrderedDict[str, np.ndarray]:
        """The model's state: dotted name -> array, parameters and persistent buffers.

        Parameters
        ----------
        copy : bool, default False
            False returns the live arrays (as PyTorch does): training changes them. True returns
            copies, a snapshot to restore later.

        Examples
        --------
        >>> model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.BatchNorm1d(4))
        >>> for name, array in model.state_dict().items():
        ...     print(name, array.shape)
        0.weight (2, 4)
        0.bias (4,)
        2.weight (4,)
        2.bias (4,)
        2.running_mean (4,)
        2.running_var (4,)
        2.num_batches_tracked ()
        """
        state: OrderedDict[str, np.ndarray] = OrderedDict()
        seen: set[int] = set()
        for module_name, module in self.named_modules():
            members = [(n, p.data) for n, p in module._parameters.items() if p is not None]
            members += [
                (n, b)
                for n, b in module._buffers.items()
                if b is not None and n not in module._non_persistent
            ]
            for name, array in members:
                if id(array) in seen:
                    continue
                seen.add(id(array))
                key = f"{module_name}.{name}" if module_name else name
                state[key] = array.copy() if copy else array
        return state

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy ``state`` into the model's arrays, in place (optimisers keep their references).

        ``state`` maps names to arrays, as :meth:`state_dict` returns. Every shape is checked
        before anything is copied, so a failed load changes nothing. With ``strict=False`` only
        the matching keys are loaded. Returns ``IncompatibleKeys(missing_keys, unexpected_keys)``.

        Raises
        ------
        KeyError
            With ``strict=True``, naming the missing and unexpected keys.
        ValueError
            When a shape differs, naming the key and both shapes.
        TypeError
            When a value cannot be cast to the model's dtype (a float into the int64 counter).
        """
        own = self.state_dict()
        missing = [key for key in own if key not in state]
        unexpected = [key for key in state if key not in own]
        if strict and (missing or unexpected):
            problems = [f"missing keys {missing}"] if missing else []
            problems += [f"unexpected keys {unexpected}"] if unexpected else []
            raise KeyError(
                f"load_state_dict for {type(self).__name__}: {' and '.join(problems)} (the model "
                f"has {list(own)}); pass strict=False to load only the matching keys"
            )
        updates = []
        for key, target in own.items():
            if key not in state:
                continue
            value = state[key]
            value = np.asarray(value.data if isinstance(value, Tensor) else value)
            if target.ndim == 0 and value.shape == (1,):
                value = value.reshape(())  # a counter stored by a format without 0-d arrays
            if value.shape != target.shape:
                raise ValueError(
                    f"load_state_dict for {type(self).__name__}: shape mismatch for '{key}': "
                    f"the model has {target.shape}, the state has {value.shape}"
                )
            if not np.can_cast(value.dtype, target.dtype, casting="same_kind"):
                raise TypeError(
                    f"load_state_dict for {type(self).__name__}: '{key}' is {value.dtype} but the "
                    f"model holds {target.dtype}"
                )
            updates.append((target, value))
        owners = {id(param._data): param for param in self.parameters()}
        for target, value in updates:
            np.copyto(target, value, casting="same_kind")
            owner = owners.get(id(target))
            if owner is not None:
                bump_version(owner)  # a graph that saved the old values must not use these
        return IncompatibleKeys(missing, unexpected)

    # ---------------------------------------------------------------- description
    def get_config(self) -> dict[str, Any]:
        """JSON-safe constructor arguments that rebuild this module (built-in modules only)."""
        raise TypeError(
            f"{type(self).__name__} does not define get_config(): only retroprop's built-in "
            "modules can be described as a config"
        )

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Module:
        """Build the module from :meth:`get_config`'s output."""
        return cls(**config)

    @classmethod
    def config_shapes(
        cls, config: Mapping[str, Any], width: Callable[[str], int]
    ) -> dict[str, tuple[int, ...]]:
        """Shapes of the parameters and buffers a module built from ``config`` would hold.

        Read from the plain config without building anything, so that the loader compares them
        with a weights file before allocating; ``width(key)`` is ``config[key]`` checked to be a
        positive integer (it raises otherwise). None by default: a registered module type with
        parameters overrides this.
        """
        return {}

    def extra_repr(self) -> str:
        """The arguments shown inside the parentheses of ``repr(module)``."""
        return ""

    def __repr__(self) -> str:
        lines = [
            f"({name}): " + repr(child).replace("\n", "\n  ")
            for name, child in self._modules.items()
        ]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"

    def _repr_html_(self) -> str:
        """Jupyter's display: the summary table and a drawing of the network, as HTML."""
        from retroprop.display.model import model_html

        return model_html(self)

    def _summary_label(self) -> str:
        return type(self).__name__

    def _output_width(self, width: int | None) -> int | None:
        """The output's last-axis width given the input's (None: unknown)."""
        return None

    def _summarize(self, name: str, depth: int, width: int | None, rows: list) -> int | None:
        """Append this module's row (and its children's) to ``rows``; return the output width."""
        count = sum(p.size for p in self.parameters())
        out = self._output_width(width)
        rows.append((name, depth, self._summary_label(), out, count))
        for child_name, child in self.named_children():
            child._summarize(f"{name}.{child_name}" if name else child_name, depth + 1, None, rows)
        return out

    def summary(self, print_table: bool = True) -> Any:
        """Print a table of the layers, their output widths and parameter counts, and return it.

        Parameters
        ----------
        print_table : bool, default True
            False returns the table without printing it.

        Returns
        -------
        retroprop.nn.config.Summary
            ``str()`` of it is the table; ``total_params`` and ``trainable_params`` count each
            parameter once.

        Examples
        --------
        See :func:`retroprop.nn.config.summarize`.
        """
        from retroprop.nn.config import summarize  # the table lives with the other descriptions

        summary = summarize(self)
        if print_table:
            print(summary)
        return summary


def _as_buffer(value: Any) -> np.ndarray:
    array = value.data if isinstance(value, Tensor) else value
    if not hasattr(array, "shape") or not hasattr(array, "dtype"):
        array = np.asarray(array)
    return array


def _check_name(name: str, module: Module, identifier: bool = True) -> None:
    if not isinstance(name, str) or not name or "." in name:
        raise KeyError(
            f"{type(module).__name__}: invalid name {name!r} (a non-empty str without '.')"
        )
    if "_parameters" not in module.__dict__:
        raise AttributeError(
            f"call super().__init__() first in {type(module).__name__}.__init__ before "
            f"registering '{name}'"
        )
    if identifier and hasattr(type(module), name):
        raise KeyError(f"{type(module).__name__}: '{name}' is already a class attribute")
