"""Probes: hooks on the engine that record, per Linear layer, what the forward and backward
passes computed.

For each :class:`~retroprop.nn.Linear` layer l a probe keeps, in the course's notation,

- ``x``: the layer's input a_{l-1};
- ``z``: its output, the pre-activation z_l = a_{l-1} W_l + b_l (a forward hook on the Linear);
- ``a``: the activation a_l = g(z_l), the output of the activation module that follows the Linear
  in its ``Sequential`` (looking past Dropout and BatchNorm1d), or z_l itself when none follows;
- ``delta``: dJ/dz_l, the back-propagated gradient (a gradient hook on the tensor z_l, called by
  ``backward()``).

dJ/dW_l and dJ/db_l are then the ``.grad`` of the layer's parameters.

A probe costs nothing while it is detached: no hook is registered on any module. Attaching it
registers one forward hook per Linear and per activation that follows one; each recorded z gets
one gradient hook, which lives and dies with that forward pass's graph. ``detach()`` removes
every module hook, so the model is left exactly as it was. Forward passes run under
``no_grad()`` (validation, prediction) are not recorded.

Examples
--------
>>> _ = rp.manual_seed(0)
>>> model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
>>> with Probe(model) as probe:
...     loss = (model(np.ones((4, 2), dtype=np.float32)) ** 2).mean()
...     loss.backward()
>>> [(c.name, c.z.shape, c.delta.shape) for c in probe.captures()]
[('0: Linear 2->3', (4, 3), (4, 3)), ('2: Linear 3->1', (4, 1), (4, 1))]
>>> model[0]._forward_hooks
{}
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from retroprop.grad_mode import is_grad_enabled
from retroprop.nn.activation import Activation
from retroprop.nn.container import Sequential, follower
from retroprop.nn.linear import Linear
from retroprop.nn.module import Module
from retroprop.tensor import Tensor

__all__ = ["Capture", "LayerInfo", "Probe", "linear_layers"]


@dataclass
class LayerInfo:
    """A Linear layer of a model and the activation module that follows it.

    Attributes
    ----------
    index : int
        Position among the model's Linear layers (0 is the closest to the input).
    path : str
        The layer's dotted name in the model ("0", "block.2").
    label : str
        ``"<path>: Linear <in>-><out>"``, e.g. "0: Linear 2->4", as reports print it.
    linear : Linear
    activation : Module or None
        The activation after the Linear (None: a = z).
    """

    index: int
    path: str
    label: str
    linear: Linear
    activation: Module | None

    @property
    def activation_name(self) -> str:
        """The activation's class name ("ReLU", "Tanh"), or "identity" when none follows."""
        return "identity" if self.activation is None else type(self.activation).__name__


@dataclass
class Capture:
    """What one forward (and backward) pass computed in one Linear layer.

    Arrays are the engine's own (not copies): the next training step does not change them,
    since every op allocates a new output array.

    Attributes
    ----------
    name : str
        The layer's label, e.g. "0: Linear 2->4".
    x, z, a : numpy.ndarray
        Input a_{l-1}, pre-activation z_l and activation a_l.
    delta : numpy.ndarray or None
        dJ/dz_l, once ``backward()`` has reached the layer.
    weight_before : numpy.ndarray or None
        A copy of W_l taken at forward time (only with ``Probe(..., keep_weights=True)``), to
        measure the update an optimiser made.
    """

    name: str
    x: np.ndarray
    z: np.ndarray
    a: np.ndarray
    delta: np.ndarray | None = None
    weight_before: np.ndarray | None = None


def linear_layers(model: Module) -> list[LayerInfo]:
    """The Linear layers of ``model`` in forward order, each with the activation after it.

    The activation of a Linear inside a ``Sequential`` is the first following module that is
    not Dropout or BatchNorm1d, when it is an activation module.

    Examples
    --------
    >>> layers = linear_layers(nn.mlp([2, 4, 1], activation="tanh", dropout=0.1))
    >>> [(info.label, info.activation_name) for info in layers]
    [('0: Linear 2->4', 'Tanh'), ('3: Linear 4->1', 'identity')]
    """
    if not isinstance(model, Module):
        raise TypeError(f"expected a retroprop Module, got {type(model).__name__}")
    followers: dict[int, Module] = {}
    for module in model.modules():
        if not isinstance(module, Sequential):
            continue
        children = list(module)
        for position, child in enumerate(children):
            after = follower(children, position) if isinstance(child, Linear) else None
            if isinstance(after, Activation):
                followers[id(child)] = after
    layers = []
    for path, module in model.named_modules():
        if isinstance(module, Linear):
            name = path or type(module).__name__
            label = f"{name}: Linear {module.in_features}->{module.out_features}"
            layers.append(LayerInfo(len(layers), name, label, module, followers.get(id(module))))
    return layers


class Probe:
    """Record z, a and dJ/dz of every Linear layer of ``model`` while attached.

    Parameters
    ----------
    model : Module
    keep_weights : bool, default False
        Copy each layer's W at forward time (``Capture.weight_before``), so that the update
        made by ``optimizer.step()`` can be measured afterwards.
    expired : callable, optional
        Checked at each recorded forward pass: when it returns True the probe detaches itself
        and records nothing (a callback's probe cleans up after a run that ended by an error).

    Attributes
    ----------
    layers : list of LayerInfo
        The probed layers, in forward order.
    attached : bool

    Notes
    -----
    Use it as a context manager, or call :meth:`attach` and :meth:`detach`. A layer called
    several times in one forward pass reports its last call.
    """

    def __init__(
        self,
        model: Module,
        keep_weights: bool = False,
        expired: Callable[[], bool] | None = None,
    ) -> None:
        self.model = model
        self.layers = linear_layers(model)
        self.keep_weights = keep_weights
        self.expired = expired
        self._captures: dict[int, Capture] = {}
        self._pending: dict[int, Capture] = {}
        self._removers: list[Callable[[], Any]] = []

    @property
    def attached(self) -> bool:
        """Whether the hooks are registered."""
        return bool(self._removers)

    def attach(self) -> Probe:
        """Register the forward hooks (once; attaching twice is harmless). Returns the probe."""
        if self._removers:
            return self
        self.clear()
        hooked_activations: set[int] = set()
        for info in self.layers:
            self._removers.append(info.linear.register_forward_hook(self._linear_hook(info)))
            activation = info.activation
            if activation is not None and id(activation) not in hooked_activations:
                hooked_activations.add(id(activation))
                self._removers.append(activation.register_forward_hook(self._activation_hook))
        return self

    def detach(self) -> None:
        """Remove every hook this probe registered; the captures stay readable."""
        for remove in self._removers:
            remove()
        self._removers = []
        self._pending.clear()

    def clear(self) -> None:
        """Forget the recorded captures."""
        self._captures.clear()
        self._pending.clear()

    def __enter__(self) -> Probe:
        return self.attach()

    def __exit__(self, *exc_info: object) -> None:
        self.detach()

    def captures(self) -> list[Capture]:
        """The captures of the last recorded forward pass, in forward order.

        A layer that the pass did not reach is left out.
        """
        return [self._captures[info.index] for info in self.layers if info.index in self._captures]

    def capture(self, info: LayerInfo) -> Capture | None:
        """The capture of one layer, or None."""
        return self._captures.get(info.index)

    # ---------------------------------------------------------------- hooks
    def _linear_hook(self, info: LayerInfo) -> Callable[[Module, tuple, Any], None]:
        def record(module: Module, inputs: tuple, output: Any) -> None:
            if not is_grad_enabled() or not isinstance(output, Tensor):
                return
            if self.expired is not None and self.expired():
                self.detach()
                return
            x = inputs[0].data if isinstance(inputs[0], Tensor) else np.asarray(inputs[0])
            capture = Capture(info.label, x, output.data, output.data)
            if self.keep_weights:
                capture.weight_before = module.weight.data.copy()
            if output.requires_grad:

                def store_delta(grad: np.ndarray) -> None:
                    capture.delta = grad

                output.register_hook(store_delta)
            self._captures[info.index] = capture
            if info.activation is not None:
                self._pending[id(info.activation)] = capture

        return record

    def _activation_hook(self, module: Module, inputs: tuple, output: Any) -> None:
        capture = self._pending.pop(id(module), None)
        if capture is not None and isinstance(output, Tensor):
            capture.a = output.data
