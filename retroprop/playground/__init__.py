"""``rp.playground()``: TensorFlow Playground in a Jupyter notebook, on retroprop.

Data (circles, moons, spirals, XOR, blobs, or your own 2-D ``X, y``), the network's layers,
activation, initialisation, optimiser, learning rate, batch size and L2 as controls; Train,
Pause, Step and Reset; and, redrawn after every frame, the decision boundary with the points,
each neuron's activation over the input plane, the weights as lines coloured by sign and sized
by magnitude, the training and test loss curves, the gradient flow ||delta_l|| per layer, and
one neuron's z, a and delta for one sample in the course's notation.

Training is retroprop's own ``Trainer`` (the loop of ``rp.fit``) driven epoch by epoch; the
pictures come from :mod:`retroprop.diagnostics` (``Probe``, ``diagnose``, ``explain``).

The widgets need ``pip install "retroprop[notebook]"`` (ipywidgets); ``import retroprop``
does not import them. The package is itself callable: ``rp.playground(...)`` is
:func:`playground`.

- :mod:`~retroprop.playground.data`: the 2-D problems and the split;
- :mod:`~retroprop.playground.session`: :class:`Settings` and :class:`Session` (no widgets);
- :mod:`~retroprop.playground.views`: the figures' data (:class:`PlaygroundState`);
- :mod:`~retroprop.playground.drawing`, :mod:`~retroprop.playground.network`: PNG and SVG;
- :mod:`~retroprop.playground.app`: the widgets (:class:`Playground`; ``to_html()`` saves a
  frame as a page).

Examples
--------
>>> pg = rp.playground(dataset="xor", hidden="4", optimizer="adam", learning_rate=0.05)
>>> pg.controls["batch_size"].value = 20
>>> pg.train(30)
>>> pg.state.epoch, pg.state.train_loss[-1] < pg.state.train_loss[0]
(30, True)
>>> [a.shape for a in pg.state.neurons]
[(4, 48, 48)]
"""

from __future__ import annotations

import sys
import types
from typing import Any

from retroprop.playground.app import Playground  # ipywidgets is imported when one is built
from retroprop.playground.data import DATASETS, PlaygroundData, make_data, user_data
from retroprop.playground.session import Session, Settings
from retroprop.playground.views import NeuronTrace, PlaygroundState, read_state

__all__ = [
    "DATASETS",
    "NeuronTrace",
    "Playground",
    "PlaygroundData",
    "PlaygroundState",
    "Session",
    "Settings",
    "make_data",
    "playground",
    "read_state",
    "user_data",
]


def playground(X: Any = None, y: Any = None, **settings: Any) -> Any:
    """Build the playground (display it by leaving it last in a cell).

    Parameters
    ----------
    X : array-like, shape (n_samples, 2), optional
        Your own points (then ``dataset`` and ``noise`` are not used).
    y : array-like, shape (n_samples,), optional
        Their class labels, any values (two or more classes).
    **settings
        Initial values of :class:`Settings`: ``dataset`` ("circles", "moons", "spirals",
        "xor", "blobs"), ``noise``, ``n_samples``, ``test_fraction``, ``hidden`` ("4, 2" or
        a sequence of widths), ``activation``, ``init`` ("default" or a registered
        initialiser), ``seed``, ``optimizer``, ``learning_rate``, ``batch_size``, ``l2``.

    Returns
    -------
    Playground
        ``controls``, ``buttons``, ``outputs``, ``step()``, ``train(epochs)``, ``reset()``,
        ``start()``, ``pause()``, ``state``.

    Raises
    ------
    ImportError
        ipywidgets is not installed.
    ValueError
        A bad setting or bad data (named).
    """
    try:
        import ipywidgets  # noqa: F401
    except ImportError as error:
        raise ImportError(
            'rp.playground needs ipywidgets: pip install "retroprop[notebook]"'
        ) from error
    return Playground(X, y, **settings)


class _CallableModule(types.ModuleType):
    """The package, callable: ``rp.playground(...)`` is :func:`playground`."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return playground(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
