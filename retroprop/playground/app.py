"""``Playground``: the ipywidgets app, TensorFlow Playground on retroprop.

The controls edit a :class:`~retroprop.playground.session.Settings`; Train, Pause, Step and
Reset drive the :class:`~retroprop.playground.session.Session`; after every frame (a few
epochs) the outputs are redrawn from :func:`~retroprop.playground.views.read_state`.

Train runs frames in an asyncio task on the kernel's own event loop and sleeps between two
frames, so the kernel handles the Pause click (and any control) in between: no thread.
Without a running event loop (a script, a test), call :meth:`Playground.step` or
:meth:`Playground.train` instead.
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np

from retroprop.display.charts import Series, bar_chart, line_chart, plane_chart
from retroprop.display.html import format_number
from retroprop.nn.activation import ACTIVATIONS, HIDDEN_ACTIVATIONS
from retroprop.nn.init import INITIALIZERS
from retroprop.optim import OPTIMIZERS
from retroprop.playground.data import DATASETS, user_data
from retroprop.playground.drawing import (
    CLASS_COLOURS,
    class_shading,
    data_uri,
    hex_colour,
    png,
    unshrinkable,
)
from retroprop.playground.network import inspector_html, network_svg
from retroprop.playground.session import Session, Settings, parse_hidden
from retroprop.playground.views import PlaygroundState, read_state

__all__ = ["Playground"]

FRAME_SECONDS = 0.02  # the pause between two frames, when the kernel reads its messages


def _choices() -> dict[str, list[str]]:
    """The choices of the menus, read from retroprop's registries (names without aliases)."""
    return {
        "activation": [name for name in ACTIVATIONS.entries() if name in HIDDEN_ACTIVATIONS],
        "init": ["default", *INITIALIZERS.entries()],
        "optimizer": list(OPTIMIZERS.entries()),
    }


def _controls(widgets: Any, settings: Settings, user: bool) -> dict[str, Any]:
    """One widget per setting (and the frame size), named like the setting."""
    choices = _choices()
    style = {"description_width": "90px"}
    layout = {"width": "260px"}

    def make(kind: Any, name: str, **options: Any) -> Any:
        return kind(description=name.replace("_", " "), style=style, layout=layout, **options)

    return {
        "dataset": make(
            widgets.Dropdown,
            "dataset",
            options=["your data"] if user else list(DATASETS),
            value="your data" if user else settings.dataset,
            disabled=user,
        ),
        "noise": make(
            widgets.FloatSlider,
            "noise",
            value=settings.noise,
            min=0,
            max=0.5,
            step=0.05,
            disabled=user,
        ),
        "n_samples": make(
            widgets.IntSlider,
            "n_samples",
            value=settings.n_samples,
            min=20,
            max=1000,
            step=10,
            disabled=user,
        ),
        "test_fraction": make(
            widgets.FloatSlider, "test_fraction", value=settings.test_fraction, min=0.1, max=0.9
        ),
        "hidden": make(widgets.Text, "hidden", value=", ".join(map(str, settings.hidden))),
        "activation": make(
            widgets.Dropdown, "activation", options=choices["activation"], value=settings.activation
        ),
        "init": make(widgets.Dropdown, "init", options=choices["init"], value=settings.init),
        "seed": make(widgets.IntText, "seed", value=settings.seed),
        "optimizer": make(
            widgets.Dropdown, "optimizer", options=choices["optimizer"], value=settings.optimizer
        ),
        "learning_rate": make(
            widgets.FloatLogSlider, "learning_rate", value=settings.learning_rate, min=-4, max=1
        ),
        "batch_size": make(
            widgets.IntSlider, "batch_size", value=settings.batch_size, min=1, max=64
        ),
        "l2": make(widgets.BoundedFloatText, "l2", value=settings.l2, min=0, max=10, step=0.001),
        "epochs_per_frame": make(widgets.IntSlider, "epochs_per_frame", value=1, min=1, max=20),
    }


class Playground:
    """TensorFlow Playground in Jupyter, on retroprop's ``Trainer`` and diagnostics.

    Build it with :func:`retroprop.playground` (same parameters). Display it by leaving it as
    the last expression of a cell.

    Attributes
    ----------
    controls : dict of str -> ipywidgets widget
        One per setting of :class:`~retroprop.playground.session.Settings` plus
        "epochs_per_frame", "neuron" and "sample"; setting ``.value`` acts as a click would.
    buttons : dict of str -> ipywidgets.Button
        "train", "pause", "step", "reset".
    outputs : dict of str -> ipywidgets.HTML
        "status", "network", "boundary", "loss", "gradients", "inspector".
    session : Session
        The run (data, model, Trainer).
    widget : ipywidgets.Box
        The whole app.
    running : bool
        True while Train's task is training.
    """

    def __init__(self, X: Any = None, y: Any = None, **settings: Any) -> None:
        import ipywidgets as widgets

        if "hidden" in settings:
            settings["hidden"] = parse_hidden(settings["hidden"])
        data = None if X is None and y is None else user_data(X, y)
        self.session = Session(Settings(**settings), data)
        self.running = False
        self._task: asyncio.Task | None = None
        self._state: PlaygroundState | None = None
        self.controls = _controls(widgets, self.session.settings, data is not None)
        self.controls["neuron"] = widgets.Dropdown(description="neuron", layout={"width": "260px"})
        self.controls["sample"] = widgets.IntSlider(description="sample", min=0, value=0)
        self.buttons = {
            name: widgets.Button(description=name.capitalize(), layout={"width": "80px"})
            for name in ("train", "pause", "step", "reset")
        }
        self.outputs = {  # figures keep their drawn size: an HBox must not squeeze them
            name: widgets.HTML(layout={"flex": "0 0 auto"})
            for name in ("status", "network", "boundary", "loss", "gradients", "inspector")
        }
        self._connect()
        self._fill_neurons()
        self.widget = self._layout(widgets)
        self.refresh()

    # ---------------------------------------------------------------- wiring
    def _connect(self) -> None:
        for name, control in self.controls.items():
            if name in Settings.__dataclass_fields__:
                control.observe(lambda change, name=name: self._on_setting(name), names="value")
        for name in ("neuron", "sample"):
            self.controls[name].observe(lambda change: self.refresh(), names="value")
        self.buttons["train"].on_click(lambda button: self.start())
        self.buttons["pause"].on_click(lambda button: self.pause())
        self.buttons["step"].on_click(lambda button: self.step())
        self.buttons["reset"].on_click(lambda button: self.reset())

    def _layout(self, widgets: Any) -> Any:
        names = list(Settings.__dataclass_fields__) + ["epochs_per_frame"]
        settings_box = widgets.VBox([self.controls[n] for n in names])
        figures = widgets.VBox([self.outputs[n] for n in ("boundary", "loss", "gradients")])
        inspector = widgets.VBox(
            [
                widgets.HBox([self.controls["neuron"], self.controls["sample"]]),
                self.outputs["inspector"],
            ]
        )
        return widgets.VBox(
            [
                widgets.HBox([*self.buttons.values(), self.outputs["status"]]),
                widgets.HBox([settings_box, self.outputs["network"], figures]),
                inspector,
            ]
        )

    def _fill_neurons(self) -> None:
        """The neuron menu: (layer l, unit j) of every Linear layer, hidden and output."""
        widths = [W.shape[1] for W in self._weights()]
        options = [
            (
                f"layer {layer}{' (output)' if layer == len(widths) else ''}, unit {unit}",
                (layer, unit),
            )
            for layer, width in enumerate(widths, start=1)
            for unit in range(width)
        ]
        neuron = self.controls["neuron"]
        keep = neuron.value if neuron.value in [value for _, value in options] else options[0][1]
        neuron.options = options
        neuron.value = keep
        sample = self.controls["sample"]
        sample.max = len(self.session.train_rows) - 1
        sample.value = min(sample.value, sample.max)

    def _weights(self) -> list[Any]:
        from retroprop.diagnostics import linear_layers

        return [info.linear.weight.data for info in linear_layers(self.session.model)]

    def _on_setting(self, name: str) -> None:
        try:
            self.session.update(**{name: self.controls[name].value})
        except ValueError as error:
            self.outputs["status"].value = f"<span style='color:#c00'>{error}</span>"
            return
        self._fill_neurons()
        self.refresh()

    # ---------------------------------------------------------------- actions
    def step(self, epochs: int | None = None) -> bool:
        """Train one frame (``epochs``, default the "epochs_per_frame" control) and redraw.

        Returns False when the run diverged (the status says why).
        """
        count = self.controls["epochs_per_frame"].value if epochs is None else epochs
        finished = self.session.train(count)
        self.refresh()
        return finished

    def train(self, epochs: int) -> None:
        """Train ``epochs`` epochs, frame by frame, redrawing after each (blocks until done)."""
        frame = self.controls["epochs_per_frame"].value
        done = 0
        while done < epochs and self.step(min(frame, epochs - done)):
            done += min(frame, epochs - done)

    def reset(self) -> None:
        """Stop, draw the data again and start over with a new network at epoch 0."""
        self.pause()
        self.session.reset()
        self._fill_neurons()
        self.refresh()

    def start(self) -> asyncio.Task:
        """Train frame after frame in a task on the running event loop, until :meth:`pause`.

        Raises
        ------
        RuntimeError
            Without a running event loop (outside Jupyter): use :meth:`train` there.
        """
        if self._task is not None and not self._task.done():
            return self._task
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                "Playground.start needs a running event loop (Jupyter's); in a script, call "
                "train(epochs) or step()"
            ) from None
        self.running = True
        self.buttons["train"].disabled = True
        self._task = loop.create_task(self._run())
        return self._task

    async def _run(self) -> None:
        try:
            while self.running and self.step():
                await asyncio.sleep(FRAME_SECONDS)
        finally:
            self.running = False
            self.buttons["train"].disabled = False

    def pause(self) -> None:
        """Stop Train's task after the frame it is in."""
        self.running = False

    # ---------------------------------------------------------------- outputs
    @property
    def state(self) -> PlaygroundState:
        """The figures' data as last drawn: epoch, losses, heatmaps, weights, gradient flow,
        the inspected neuron."""
        assert self._state is not None
        return self._state

    def refresh(self) -> None:
        """Read the run's state and redraw every output."""
        session = self.session
        neuron = self.controls["neuron"].value
        state = read_state(session, neuron=neuron, sample=self.controls["sample"].value)
        self._state = state
        assert session.data is not None
        test = np.zeros(session.data.y.shape, dtype=bool)
        test[session.test_rows] = True
        title = f"{session.data.name}: train (white edge), test (black edge)"
        self.outputs["boundary"].value = unshrinkable(
            plane_chart(
                data_uri(png(class_shading(state.boundary))),
                state.extent,
                session.data.X,
                session.data.y,
                test,
                [hex_colour(colour) for colour in CLASS_COLOURS],
                title=title,
            )
        )
        self.outputs["network"].value = network_svg(state, neuron)
        self.outputs["loss"].value = _loss_chart(state.train_loss, state.test_loss)
        flow = [value for _, value in state.gradient_flow]
        self.outputs["gradients"].value = bar_chart(
            [f"layer {n}" for n in range(1, len(flow) + 1)], flow, "gradient flow ||delta_l||",
            log=True, width=300,
        )  # fmt: skip
        self.outputs["inspector"].value = inspector_html(state.inspector)
        self.outputs["status"].value = _status(state)

    def to_html(self) -> str:
        """The outputs as they are drawn now, as one self-contained HTML page (no widgets, no
        script): to save a frame, or to look at it outside Jupyter."""
        out = {name: widget.value for name, widget in self.outputs.items()}
        return (
            "<!DOCTYPE html><html><head><meta charset='utf-8'><title>retroprop playground"
            "</title></head><body style='font-family:sans-serif;margin:8px'>"
            f"<div>{out['status']}</div><div style='display:flex;gap:12px'>{out['network']}"
            f"<div>{out['boundary']}</div><div>{out['loss']}<br>{out['gradients']}</div></div>"
            f"{out['inspector']}</body></html>"
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


def _status(state: PlaygroundState) -> str:
    """Epoch and the last losses; a divergence message in red."""
    if state.message:
        return f"<span style='color:#c00'>{state.message}</span>"
    if not state.train_loss:
        return "epoch 0"
    return (
        f"epoch {state.epoch} &nbsp; training loss {state.train_loss[-1]:.4f} &nbsp; "
        f"test loss {state.test_loss[-1]:.4f}"
    )


def _loss_chart(train: list[float], test: list[float]) -> str:
    """The training and test losses per epoch, the latest values in the legend."""
    series = [
        Series(f"{name} {format_number(values[-1], 3) if values else ''}".strip(),
               range(1, len(values) + 1), values, colour)
        for name, values, colour in (("train", train, "#333333"), ("test", test, "#c05000"))
    ]  # fmt: skip
    return line_chart(series, "", "epoch", "loss", width=300, height=200)
