"""``Optimizer``: the machinery every optimiser shares (param groups, ``zero_grad``, state dict).

An optimiser turns the gradients that ``backward()`` left in ``p.grad`` into an update of
``p.data``, in place. The parameters come in *groups*, as in PyTorch: each group is a dict with
its own ``"params"`` and hyper-parameters (``"lr"``, ``"momentum"``, ...), so a learning-rate
scheduler changes ``optimizer.param_groups[i]["lr"]`` and the next ``step()`` uses it.

A subclass states its defaults, checks its hyper-parameters in ``_check`` and writes its update
rule for one parameter in ``_update``; the loop over groups and parameters, the skipping of
parameters without a gradient and the per-parameter ``state`` dict live here.

A subclass registers itself by name in its class statement, ``class Lion(Optimizer,
name="lion")``: :func:`~retroprop.optim.get_optimizer`, ``fit(optimizer="lion")``, the command
line's ``--optimizer`` and the estimators' ``solver`` then know it (:data:`OPTIMIZERS`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

import numpy as np

from retroprop.grad_mode import enable_grad
from retroprop.registry import Registry

__all__ = ["Optimizer", "OptimizerSpec", "OPTIMIZERS", "OPTIMIZER_CLASSES", "register_optimizer"]


class OptimizerSpec(NamedTuple):
    """What a name in :data:`OPTIMIZERS` builds: ``cls(params, **{**defaults, **options})``."""

    cls: type[Optimizer]
    defaults: dict[str, Any]
    preset: bool  # False for a class's own name, True for a preset such as "momentum"


#: Every optimiser name: the classes' own names and presets (SGD with momentum...).
OPTIMIZERS: Registry[OptimizerSpec] = Registry("optimizer")
#: The names registered by a class statement (live); ``OPTIMIZER_CLASSES[name]`` is the class.
OPTIMIZER_CLASSES = OPTIMIZERS.view(
    where=lambda name, spec: not spec.preset, value=lambda name, spec: spec.cls
)


def register_optimizer(name: str, cls: type[Optimizer], **defaults: Any) -> None:
    """Register a preset: ``name`` builds ``cls`` with ``defaults`` (overridable).

    Examples
    --------
    >>> from retroprop.optim import SGD
    >>> register_optimizer("heavy_ball", SGD, lr=0.01, momentum=0.99)
    >>> OPTIMIZERS["heavy_ball"].defaults, "heavy_ball" in OPTIMIZER_CLASSES
    ({'lr': 0.01, 'momentum': 0.99}, False)
    >>> _ = OPTIMIZERS.unregister("heavy_ball")
    """
    OPTIMIZERS.register(name, OptimizerSpec(cls, dict(defaults), preset=True))


class Optimizer:
    """Base class of the optimisers: holds the parameter groups and the per-parameter state.

    Parameters
    ----------
    params : iterable of Tensor or iterable of dict
        The tensors to optimise (a model's ``parameters()``), or dicts that each hold a group's
        ``"params"`` and the options that differ from ``defaults`` for that group.
    defaults : dict
        The hyper-parameters of a group that does not set them.

    Attributes
    ----------
    param_groups : list of dict
        One dict per group: ``"params"`` (a list of tensors) and every hyper-parameter.
    state : dict
        Per-parameter state, keyed by the parameter tensor (``state[p]["exp_avg"]`` ...),
        created on the parameter's first update.
    defaults : dict
        The hyper-parameters given to the constructor.

    Examples
    --------
    >>> from retroprop.optim import SGD
    >>> w = rp.tensor([1.0, 2.0], requires_grad=True)
    >>> b = rp.tensor([0.0], requires_grad=True)
    >>> optimizer = SGD([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1)
    >>> [group["lr"] for group in optimizer.param_groups]
    [0.1, 0.5]
    """

    def __init_subclass__(
        cls, name: str | None = None, defaults: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> None:
        """``class X(Optimizer, name="x")`` registers X as "x"; ``defaults`` override its own."""
        super().__init_subclass__(**kwargs)
        if name is not None:
            OPTIMIZERS.register(name, OptimizerSpec(cls, dict(defaults or {}), preset=False))

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self._check(defaults)
        self.defaults = defaults
        self.state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        if hasattr(params, "data") and hasattr(params, "grad"):
            raise TypeError(
                f"params should be an iterable of Tensors or dicts, got a single "
                f"{type(params).__name__}: pass [tensor]"
            )
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], Mapping):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ---------------------------------------------------------------- to override
    def _check(self, options: Mapping[str, Any]) -> None:
        """Raise ValueError for an invalid hyper-parameter in ``options`` (a group or defaults)."""

    def _update(self, param: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        """Update ``param.data`` in place from ``param.grad`` (never None here).

        End with an augmented assignment such as ``param.data -= step``: it goes through the
        ``.data`` setter, which bumps ``param._version`` (a graph that saved the old values
        then refuses to backward through the new ones).
        """
        raise NotImplementedError

    def _scratch(self, like: np.ndarray) -> np.ndarray:
        """A work array shaped and typed like ``like``, shared by every update (not state).

        One flat buffer per dtype, as large as the largest parameter seen: an update's
        temporaries without an allocation per parameter and step.
        """
        buffers = self.__dict__.setdefault("_scratch_buffers", {})
        flat = buffers.get(like.dtype)
        if flat is None or flat.size < like.size:
            flat = buffers[like.dtype] = np.empty(like.size, dtype=like.dtype)
        return flat[: like.size].reshape(like.shape)

    # ---------------------------------------------------------------- public API
    def add_param_group(self, param_group: Mapping[str, Any]) -> None:
        """Add a group of parameters, with options that override the defaults.

        Parameters
        ----------
        param_group : dict
            ``"params"`` (a tensor or an iterable of tensors) and any hyper-parameters.

        Raises
        ------
        ValueError
            If a parameter is already optimised (in this group or another one), is not a leaf,
            or a hyper-parameter is invalid.
        """
        group = dict(param_group)
        params = group.get("params")
        if params is None:
            raise ValueError("a parameter group needs a 'params' entry")
        if hasattr(params, "data") and hasattr(params, "grad"):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("a group's params must be an ordered sequence, not a set")
        group["params"] = list(params)
        seen = {id(p) for other in self.param_groups for p in other["params"]}
        for index, param in enumerate(group["params"]):
            if not (hasattr(param, "data") and hasattr(param, "grad")):
                raise TypeError(
                    f"params[{index}] is a {type(param).__name__}; an optimizer needs Tensors"
                )
            if getattr(param, "grad_fn", None) is not None:
                raise ValueError(f"params[{index}] is not a leaf tensor: it cannot be optimised")
            if id(param) in seen:
                raise ValueError(
                    f"params[{index}] (shape {param.data.shape}) appears twice in the optimizer"
                )
            seen.add(id(param))
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self._check(group)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of every parameter before the next backward pass.

        Parameters
        ----------
        set_to_none : bool, default True
            Set ``p.grad = None`` (frees the memory; the next backward allocates it again);
            when False, fill the existing gradient with zeros in place.

        Examples
        --------
        >>> from retroprop.optim import SGD
        >>> w = rp.tensor([1.0, 2.0], requires_grad=True)
        >>> w.grad = np.array([0.5, 0.5], dtype=np.float32)
        >>> optimizer = SGD([w], lr=0.1)
        >>> optimizer.zero_grad(set_to_none=False)
        >>> w.grad
        array([0., 0.], dtype=float32)
        >>> optimizer.zero_grad()
        >>> w.grad is None
        True
        """
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                if set_to_none:
                    param.grad = None
                else:
                    param.grad[...] = 0

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient, in place.

        Parameters
        ----------
        closure : callable, optional
            Recomputes the loss (forward and backward) and returns it; called before the update.

        Returns
        -------
        The closure's loss, or None without a closure.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is not None:
                    self._update(param, self.state[param], group)
        return loss

    def state_dict(self) -> dict[str, Any]:
        """Return a snapshot of the optimiser: hyper-parameters and per-parameter state.

        Parameters are numbered 0, 1, 2, ... in the order of the groups, as in PyTorch; the
        state arrays are copies, so later steps do not change the snapshot.

        Returns
        -------
        dict
            ``{"state": {index: {name: value}}, "param_groups": [{..., "params": [index]}]}``

        Examples
        --------
        >>> from retroprop.optim import SGD
        >>> w = rp.tensor([1.0, 2.0], requires_grad=True)
        >>> w.grad = np.array([1.0, 1.0], dtype=np.float32)
        >>> optimizer = SGD([w], lr=0.1, momentum=0.9)
        >>> optimizer.step()
        >>> optimizer.state_dict()["state"]
        {0: {'momentum_buffer': array([1., 1.], dtype=float32)}}
        """
        index_of: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {name: value for name, value in group.items() if name != "params"}
            packed["params"] = []
            for param in group["params"]:
                index_of.setdefault(id(param), len(index_of))
                packed["params"].append(index_of[id(param)])
            groups.append(packed)
        state = {
            index_of[id(param)]: {name: _copy(value) for name, value in param_state.items()}
            for param, param_state in self.state.items()
            if id(param) in index_of and param_state
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore hyper-parameters and state saved by :meth:`state_dict`.

        The optimiser must hold parameters of the same shapes, in the same groups and order.
        State arrays are copied and cast to their parameter's dtype.

        Raises
        ------
        ValueError
            If the number of groups, of parameters in a group, or a state array's shape differs.
        """
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"the state dict has {len(saved_groups)} parameter groups, "
                f"the optimizer {len(self.param_groups)}"
            )
        param_of: dict[int, Any] = {}
        for number, (group, saved) in enumerate(zip(self.param_groups, saved_groups, strict=True)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    f"parameter group {number} has {len(group['params'])} parameters, "
                    f"the state dict {len(saved['params'])}"
                )
            param_of.update(zip(saved["params"], group["params"], strict=True))
        state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        for index, saved_state in state_dict["state"].items():
            param = param_of[int(index)]
            state[param] = {
                name: _cast_like(value, param.data, name) for name, value in saved_state.items()
            }
        groups = [
            {**saved, "params": group["params"]}
            for group, saved in zip(self.param_groups, saved_groups, strict=True)
        ]
        for group in groups:
            self._check(group)
        self.state, self.param_groups = state, groups

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for number, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {number}")
            lines += [f"    {key}: {group[key]}" for key in sorted(group) if key != "params"]
        return "\n".join([*lines, ")"])


# -------------------------------------------------------------------- helpers for subclasses
def gradient(param: Any, weight_decay: float, maximize: bool) -> np.ndarray:
    """The gradient an update rule uses: ``g = (-grad if maximize else grad) + weight_decay * p``.

    Negated first when maximising, then L2 weight decay added, as PyTorch does. Returns
    ``param.grad`` itself (not a copy) when there is nothing to add, so callers never write
    into the result.
    """
    grad = param.grad
    if weight_decay == 0:
        return -grad if maximize else grad
    decayed = np.multiply(param.data, weight_decay)
    if maximize:
        decayed -= grad
    else:
        decayed += grad
    return decayed


def state_buffer(state: dict[str, Any], name: str, like: np.ndarray) -> np.ndarray:
    """``state[name]``, created as zeros shaped and typed like the parameter on first use."""
    buffer = state.get(name)
    if buffer is None:
        buffer = state[name] = np.zeros_like(like)
    return buffer


def check_nonnegative(options: Mapping[str, Any], *names: str) -> None:
    """Raise ValueError unless each named option is a number >= 0 (NaN is rejected)."""
    for name in names:
        value = options[name]
        if not value >= 0:
            raise ValueError(f"{name} must be >= 0, got {name}={value!r}")


def check_decay_rate(name: str, value: float) -> None:
    """Raise ValueError unless 0 <= value < 1 (a running average's decay rate, e.g. a beta)."""
    if not 0 <= value < 1:
        raise ValueError(f"{name} must be in [0, 1), got {name}={value!r}")


def bias_correction(beta: float, step: int) -> float:
    """``1 - beta**step``: undoes the pull towards 0 of a running average started at 0."""
    return 1.0 - beta**step


def _copy(value: Any) -> Any:
    return value.copy() if hasattr(value, "copy") and hasattr(value, "dtype") else value


def _cast_like(value: Any, data: np.ndarray, name: str) -> Any:
    if not (hasattr(value, "shape") and hasattr(value, "dtype")) or np.ndim(value) == 0:
        return value
    if value.shape != data.shape:
        raise ValueError(
            f"state {name!r} has shape {value.shape} but its parameter has shape {data.shape}"
        )
    return value.astype(data.dtype, copy=True)
