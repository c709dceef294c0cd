"""``fit``: the course's training loop, one loop for every caller.

For each epoch: shuffle, then for each batch: forward, loss, backward, update. Then validate,
log, and let the callbacks decide whether to go on. ``batch_size=None`` is full-batch gradient
descent, ``1`` is stochastic (the course's per-example BACK-PROP-LEARNING), ``k`` mini-batch.

``fit`` is the face a script calls: it checks the data once and hands them to a
:class:`~retroprop.training.trainer.Trainer`, which runs the loop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from retroprop.random import default_generator
from retroprop.tensor import Tensor
from retroprop.training.data import Dataset, check_data, split_dataset
from retroprop.training.history import History
from retroprop.training.objectives import Objective, resolve_loss
from retroprop.training.trainer import Trainer

__all__ = ["fit", "Trainer"]


def _resolve_optimizer(optimizer: Any, model: Any) -> Any:
    if isinstance(optimizer, str):
        from retroprop.optim import get_optimizer

        return get_optimizer(optimizer, model.parameters())
    return optimizer


def fit(
    model: Any,
    X: Any,
    y: Any,
    *,
    loss: str | Callable[..., Tensor],
    optimizer: Any,
    epochs: int,
    batch_size: int | None = None,
    shuffle: bool = True,
    validation_split: float = 0.0,
    validation_data: tuple[Any, ...] | None = None,
    callbacks: Iterable[Any] = (),
    metrics: Sequence[Any] = (),
    verbose: int = 1,
    seed: int | None = None,
    sample_weight: Any = None,
    clip_grad_norm: float | None = None,
    plot: bool = False,
) -> History:
    """Train ``model`` on (X, y) by backpropagation and gradient descent.

    Parameters
    ----------
    model : Module
        The network; its output is the loss's input (logits for ``cross_entropy`` and
        ``binary_cross_entropy_with_logits``, probabilities for ``binary_cross_entropy``).
    X : array-like, shape (n_samples, n_features)
    y : array-like, shape (n_samples,) or (n_samples, n_outputs)
        Integer class labels for ``cross_entropy``; 0/1 for the binary losses.
    loss : str or callable
        "mse", "pseudo_mse", "binary_cross_entropy", "binary_cross_entropy_with_logits",
        "cross_entropy", or ``loss(output, target) -> Tensor``.
    optimizer : Optimizer or str
        An optimiser built on ``model.parameters()``, or a name ("sgd", "adam", ...) with
        its defaults.
    epochs : int
        Passes over the training data.
    batch_size : int or None, default None
        None: full batch; 1: stochastic; k: mini-batches of k (the last may be smaller).
    shuffle : bool, default True
        Reshuffle the training rows every epoch (keep False for ordered data).
    validation_split : float, default 0.0
        Fraction of rows held out for validation: random, seeded, stratified by class for
        classification losses. The rows held out keep their ``sample_weight``.
    validation_data : (X_val, y_val) or (X_val, y_val, sample_weight_val), optional
        Explicit validation data (overrides ``validation_split``); its weights weigh the
        validation loss and metrics as ``sample_weight`` weighs the training ones.
    callbacks : iterable
        :class:`~retroprop.training.callbacks.Callback` instances; learning-rate schedulers
        are stepped once per epoch.
    metrics : sequence
        Names ("accuracy", "mae", "mse", "r2") or ``metric(y_true, y_pred) -> float``; with
        sample weights, a metric that takes ``sample_weight=`` is weighted by them.
    verbose : int, default 1
        1: one line per epoch (and a progress bar within long epochs); 0: silent.
    seed : int, optional
        Seeds shuffling, dropout and the validation split; None draws from the global
        generator (see ``rp.manual_seed``).
    sample_weight : array-like, shape (n_samples,), optional
        Weights of the training rows in the loss.
    clip_grad_norm : float, optional
        Clip the global gradient norm to this value before each update.
    plot : bool, default False
        In a Jupyter notebook, redraw the loss and metric curves in place each epoch (adds a
        :class:`~retroprop.training.live.LivePlot`; pass one in ``callbacks`` to choose its
        settings). Outside a notebook: one ``LivePlotWarning``, and training runs unplotted.

    Returns
    -------
    History
        Per-epoch "loss" (mean over the epoch's batches), "val_loss", metrics, "lr".

    Raises
    ------
    ValueError
        ``epochs``, ``batch_size`` or ``seed`` not a whole number in its range (named); bad
        data: X not 2-D, lengths that differ, NaN or inf, labels outside the output
        layer, a width that does not match the first layer; a ``validation_split`` that
        would leave either side without rows (or, stratified, a class on one side only).
    DivergenceError
        The loss or a gradient became NaN or inf; the model keeps its last finite weights.

    Examples
    --------
    XOR, learned by sigmoid units with full-batch gradient descent:

    >>> from retroprop import optim
    >>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    >>> y = np.array([0, 1, 1, 0])
    >>> _ = rp.manual_seed(1)
    >>> model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1), nn.Sigmoid())
    >>> history = rp.fit(model, X, y, loss="binary_cross_entropy",
    ...                  optimizer=optim.Adam(model.parameters(), lr=0.05), epochs=300,
    ...                  verbose=0, seed=0)
    >>> history["loss"][-1] < 0.05
    True
    >>> (model(X).numpy().ravel() > 0.5).astype(int).tolist()
    [0, 1, 1, 0]
    """
    epochs, batch_size, seed = _check_counts(epochs, batch_size, seed)
    objective = resolve_loss(loss)
    optimizer = _resolve_optimizer(optimizer, model)
    rng = np.random.default_rng(seed) if seed is not None else default_generator()
    train = check_data(model, objective, X, y, sample_weight)
    train, validation, where = _validation(
        model, objective, train, validation_data, validation_split, rng, seed
    )
    if plot:
        from retroprop.training.live import LivePlot

        callbacks = [*callbacks, LivePlot()]
    trainer = Trainer(
        model,
        objective,
        optimizer,
        train,
        validation,
        epochs=epochs,
        batch_size=batch_size,
        shuffle=shuffle,
        rng=rng,
        seed=seed,
        metrics=metrics,
        callbacks=callbacks,
        verbose=verbose,
        clip_grad_norm=clip_grad_norm,
    )
    if where:
        trainer.log(f"Validation: {where}")
    return trainer.run()


def _whole_number(name: str, value: Any, allowed: str, minimum: int) -> int:
    """``value`` as an int when it is a whole number >= ``minimum``, else ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name} must be {allowed}, got {value!r} ({type(value).__name__})")
    if not np.isfinite(value) or value != int(value) or value < minimum:
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return int(value)


def _check_counts(epochs: Any, batch_size: Any, seed: Any) -> tuple[int, int | None, int | None]:
    """``epochs``, ``batch_size`` and ``seed`` as ints, each checked; ValueError names the first
    that is not a whole number in its range (a float such as 10.0 is accepted)."""
    epochs = _whole_number("epochs", epochs, "a whole number >= 1", 1)
    if batch_size is not None:
        batch_size = _whole_number(
            "batch_size", batch_size, "None (full batch) or a whole number >= 1", 1
        )
    if seed is not None:
        seed = _whole_number("seed", seed, "None or a whole number >= 0", 0)
    return epochs, batch_size, seed


def _validation(
    model: Any,
    objective: Objective,
    train: Dataset,
    validation_data: tuple[Any, ...] | None,
    fraction: float,
    rng: np.random.Generator,
    seed: int | None,
) -> tuple[Dataset, Dataset | None, str]:
    """(training rows, validation rows or None, where the validation rows come from)."""
    if validation_data is not None:
        if len(validation_data) not in (2, 3):
            raise ValueError(
                "validation_data must be (X_val, y_val) or (X_val, y_val, sample_weight_val), "
                f"got a sequence of {len(validation_data)}"
            )
        validation = check_data(model, objective, *validation_data, prefix="validation_data: ")
        _check_validation(validation)
        return train, validation, f"{len(validation)} rows given as validation_data"
    if not fraction:
        return train, None, ""
    train, validation, kind = split_dataset(train, objective, fraction, rng)
    _check_validation(validation)
    where = (
        f"{len(validation)} of {len(validation) + len(train)} rows held out ({kind} split, "
        f"{fraction:.0%}{f', seed {seed}' if seed is not None else ''})"
    )
    return train, validation, where


def _check_validation(validation: Dataset) -> None:
    if len(validation) == 0:
        raise ValueError("validation_data holds no rows; pass at least one, or leave it out")
    if validation.weights is not None and not validation.weights.sum() > 0:
        raise ValueError(
            "the validation rows' sample weights sum to 0, so no validation figure can be "
            "computed; give some of them a positive weight"
        )
