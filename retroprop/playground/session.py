"""``Session``: one playground run without widgets: data, network, ``Trainer``, one epoch at a time.

The widgets of :class:`~retroprop.playground.app.Playground` only edit a :class:`Settings` and
call :meth:`Session.train`; the training itself is retroprop's own ``Trainer`` (the loop behind
``rp.fit``), driven epoch by epoch with its named steps (``prepare``, ``run_epoch``,
``end_epoch``), so that the playground can draw between epochs and pause. There is no second
engine: what the playground shows is what ``rp.fit`` would compute.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from retroprop import nn
from retroprop.optim import OPTIMIZERS, get_optimizer
from retroprop.playground.data import PlaygroundData, make_data, split
from retroprop.random import using_generator
from retroprop.training import DivergenceError, Trainer, check_data
from retroprop.training.objectives import resolve_loss

__all__ = ["Settings", "Session", "parse_hidden", "MAX_UNITS", "MAX_LAYERS"]

MAX_UNITS = 8  # per hidden layer, as TensorFlow Playground allows
MAX_LAYERS = 6


def parse_hidden(text: str | Any) -> tuple[int, ...]:
    """Hidden-layer widths from text such as "4, 2" (empty: no hidden layer) or a sequence.

    Raises
    ------
    ValueError
        A width that is not a whole number in [1, 8], or more than 6 layers.

    Examples
    --------
    >>> parse_hidden("4, 2"), parse_hidden(""), parse_hidden([3])
    ((4, 2), (), (3,))
    >>> parse_hidden("4, x")
    Traceback (most recent call last):
    ...
    ValueError: playground: hidden layers must be widths separated by commas ("4, 2"), got '4, x'
    """
    if isinstance(text, str):
        parts = [part.strip() for part in text.split(",") if part.strip()]
        if not all(part.isdigit() for part in parts):
            raise ValueError(
                f'playground: hidden layers must be widths separated by commas ("4, 2"), '
                f"got {text!r}"
            )
        widths = tuple(int(part) for part in parts)
    else:
        widths = tuple(int(width) for width in text)
    if len(widths) > MAX_LAYERS or any(not 1 <= width <= MAX_UNITS for width in widths):
        raise ValueError(
            f"playground: at most {MAX_LAYERS} hidden layers of 1 to {MAX_UNITS} units, "
            f"got {list(widths)}"
        )
    return widths


@dataclass(frozen=True)
class Settings:
    """Everything a control sets. A change of the first group rebuilds the run (reset); the
    second group changes the run in place, between two epochs.

    Attributes
    ----------
    dataset, noise, n_samples, test_fraction, hidden, activation, init, seed
        The data and the network (``init="default"``: the course's default for the activation,
        He for the ReLU family, Glorot otherwise).
    optimizer, learning_rate, batch_size, l2
        The training rule; ``l2`` is the optimiser's ``weight_decay`` (AdamW's is decoupled).
    """

    dataset: str = "circles"
    noise: float = 0.1
    n_samples: int = 200
    test_fraction: float = 0.5
    hidden: tuple[int, ...] = (4, 2)
    activation: str = "tanh"
    init: str = "default"
    seed: int = 0
    optimizer: str = "sgd"
    learning_rate: float = 0.03
    batch_size: int = 10
    l2: float = 0.0

    REBUILD = (
        "dataset",
        "noise",
        "n_samples",
        "test_fraction",
        "hidden",
        "activation",
        "init",
        "seed",
    )


@dataclass
class Session:
    """One run: the data, the network, its ``Trainer``; :meth:`train` runs whole epochs.

    Parameters
    ----------
    settings : Settings
    data : PlaygroundData, optional
        The user's points (then ``settings.dataset`` and ``noise`` are not used).

    Attributes
    ----------
    data : PlaygroundData
    train_rows, test_rows : ndarray of int
        Indices of ``data``'s rows on each side of the split.
    model : Sequential
        ``nn.mlp([2, *hidden, outputs])``: one logit for two classes, k for k classes.
    loss : str
        "binary_cross_entropy_with_logits" (two classes) or "cross_entropy".
    trainer : Trainer
        The run; its ``history`` holds "loss" and "val_loss" (the test rows) per epoch.
    epoch : int
    message : str
        Why training stopped by itself (a divergence), or "".
    """

    settings: Settings
    data: PlaygroundData | None = None
    user_data: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.user_data = self.data is not None
        self.reset()

    # ---------------------------------------------------------------- building
    def reset(self, settings: Settings | None = None) -> None:
        """Draw the data (unless the user's), build a new network and a new run at epoch 0."""
        settings = self.settings = settings or self.settings
        if not self.user_data:
            self.data = make_data(
                settings.dataset, settings.n_samples, settings.noise, settings.seed
            )
        assert self.data is not None
        self.train_rows, self.test_rows = split(self.data, settings.test_fraction, settings.seed)
        two = self.data.n_classes == 2
        self.loss = "binary_cross_entropy_with_logits" if two else "cross_entropy"
        sizes = [2, *settings.hidden, 1 if two else self.data.n_classes]
        with using_generator(np.random.default_rng(settings.seed)):
            self.model = nn.mlp(
                sizes,
                activation=settings.activation,
                init=None if settings.init == "default" else settings.init,
                dtype=np.float64,
            )
        objective = resolve_loss(self.loss)
        X, y = self.data.X, self.data.y
        train = check_data(self.model, objective, X[self.train_rows], y[self.train_rows])
        test = check_data(self.model, objective, X[self.test_rows], y[self.test_rows])
        self.trainer = Trainer(
            self.model,
            objective,
            self._optimizer(),
            train,
            test,
            epochs=1,
            batch_size=settings.batch_size,
            rng=np.random.default_rng(settings.seed),
            seed=settings.seed,
            verbose=0,
        )
        self.trainer.prepare()
        self.epoch = 0
        self.message = ""

    def _optimizer(self) -> Any:
        """The settings' optimiser on the model's parameters, with their lr and L2."""
        spec = OPTIMIZERS[self.settings.optimizer]
        options: dict[str, Any] = {"lr": self.settings.learning_rate}
        if "weight_decay" in inspect.signature(spec.cls).parameters:
            options["weight_decay"] = self.settings.l2
        elif self.settings.l2:
            raise ValueError(
                f"playground: optimizer {self.settings.optimizer!r} has no weight_decay, so "
                "l2 must be 0"
            )
        return get_optimizer(self.settings.optimizer, self.model.parameters(), **options)

    def update(self, **changes: Any) -> None:
        """Change settings: a data or network setting resets the run; the optimiser, learning
        rate, batch size and L2 change it in place (a new optimiser starts with a fresh state).

        Raises
        ------
        ValueError
            An unknown setting name (or a value a setting refuses).
        """
        unknown = sorted(set(changes) - set(Settings.__dataclass_fields__))
        if unknown:
            raise ValueError(
                f"playground: unknown settings {unknown}; "
                f"known: {list(Settings.__dataclass_fields__)}"
            )
        if "hidden" in changes:
            changes["hidden"] = parse_hidden(changes["hidden"])
        new = replace(self.settings, **changes)
        if not new.learning_rate > 0 or not new.l2 >= 0 or not int(new.batch_size) >= 1:
            raise ValueError(
                "playground: learning_rate must be > 0, l2 >= 0 and batch_size >= 1, got "
                f"{new.learning_rate}, {new.l2} and {new.batch_size}"
            )
        if any(getattr(new, name) != getattr(self.settings, name) for name in Settings.REBUILD):
            self.reset(new)
            return
        old, self.settings = self.settings, new
        if new.optimizer != old.optimizer:
            self.trainer.optimizer = self._optimizer()
        for group in self.trainer.optimizer.param_groups:
            group["lr"] = new.learning_rate
            if "weight_decay" in group:
                group["weight_decay"] = new.l2
        self.trainer.batch_size = min(new.batch_size, len(self.trainer.train))

    # ---------------------------------------------------------------- training
    def train(self, epochs: int = 1) -> bool:
        """Run ``epochs`` epochs of the ``Trainer``; False when the run diverged (see message).

        A divergence keeps the weights of the last finite epoch (the Trainer's guard) and sets
        :attr:`message`; training again from there is allowed (for instance after lowering the
        learning rate).
        """
        trainer = self.trainer
        with (
            using_generator(trainer.rng),
            np.errstate(over="ignore", invalid="ignore", divide="ignore"),
        ):
            for _ in range(int(epochs)):
                epoch = self.epoch + 1
                try:
                    trainer.end_epoch(epoch, trainer.run_epoch(epoch))
                except DivergenceError as error:
                    self.message = str(error)
                    trainer.prepare()  # the guard detached the callbacks: attach them again
                    return False
                self.epoch = epoch
        self.message = ""
        return True

    @property
    def history(self) -> Any:
        """The run's ``History``: "loss" (training) and "val_loss" (test rows) per epoch."""
        return self.trainer.history

    def rows(self, side: str) -> tuple[np.ndarray, np.ndarray]:
        """(X, y) of the "train" or "test" rows."""
        rows = self.train_rows if side == "train" else self.test_rows
        assert self.data is not None
        return self.data.X[rows], self.data.y[rows]
