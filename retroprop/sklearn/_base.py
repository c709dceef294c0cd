"""``BaseMLP``: what the classifier and the regressor share.

The estimator translates and delegates: it validates with scikit-learn's helpers (the data's
only check: the layers below trust them), builds the network with :func:`retroprop.nn.mlp`,
trains it with a :class:`retroprop.training.Trainer` (the loss and the stopping rule of
:mod:`retroprop.sklearn._training`), and predicts with a float64 copy of the
trained weights, so a prediction does not depend on how the rows are batched or ordered.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from retroprop import optim
from retroprop.nn import init as nn_init
from retroprop.nn.activation import HIDDEN_ACTIVATIONS
from retroprop.nn.container import mlp
from retroprop.nn.inference import predict
from retroprop.nn.linear import Linear
from retroprop.random import using_generator
from retroprop.sklearn._divergence import after_divergence
from retroprop.sklearn._init import sklearn_glorot_uniform_
from retroprop.sklearn._lbfgs import LBFGS, fit_estimator_lbfgs
from retroprop.sklearn._predictor import float64_copy
from retroprop.sklearn._sparse import is_sparse, network_and_inputs, sparse_forward
from retroprop.sklearn._training import (
    EpochMonitor,
    EstimatorLoss,
    batch_size_for,
    optimizer_options,
    split_validation,
)
from retroprop.training.data import Dataset
from retroprop.training.guard import DivergenceError
from retroprop.training.objectives import Objective
from retroprop.training.trainer import Trainer

__all__ = ["BaseMLP", "ACTIVATIONS", "SOLVERS", "init_arguments"]

# Derived from the registries (live): scikit-learn's "logistic" is an alias of "sigmoid".
ACTIVATIONS = HIDDEN_ACTIVATIONS  # name -> the activation's registered name
SOLVERS = optim.OPTIMIZER_CLASSES  # name -> optimiser class
INITS = nn_init.INITIALIZERS.view()  # names and aliases
_SEED_LIMIT = np.iinfo(np.int32).max
# init="course": retroprop's default of nn.mlp (He before the ReLU family, Glorot otherwise).
COURSE_INIT = "course"


class BaseMLP(BaseEstimator):
    """The multilayer perceptron behind :class:`MLPClassifier` and :class:`MLPRegressor`.

    Do not use it directly; its parameters are documented on the two estimators.
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(ACTIVATIONS)],
        "solver": [StrOptions(SOLVERS), StrOptions({LBFGS})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
        "early_stopping_metric": [StrOptions({"loss", "score"})],
        "init": [None, StrOptions(INITS), StrOptions({COURSE_INIT}), callable],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "batch_norm": ["boolean"],
        "callbacks": [None, list, tuple],
        "dtype": [
            None,
            StrOptions({"float32", "float64"}),
            Options(type, {np.float32, np.float64}),
        ],
    }

    def __init__(
        self,
        hidden_layer_sizes: Any = (100,),
        activation: str = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: int | str = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: Any = None,
        tol: float = 1e-4,
        verbose: bool | int = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
        early_stopping_metric: str = "loss",
        loss: str = "auto",
        init: Any = None,
        dropout: float = 0.0,
        batch_norm: bool = False,
        callbacks: list | tuple | None = None,
        dtype: Any = None,
        max_fun: int = 15000,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping_metric = early_stopping_metric
        self.loss = loss
        self.init = init
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.callbacks = callbacks
        self.dtype = dtype
        self.max_fun = max_fun

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # CSR/CSC (retroprop.sklearn._sparse)
        return tags

    # ---------------------------------------------------------------- subclass hooks
    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool) -> tuple:
        """(X, y) checked; the classifier also sets ``classes_``."""
        raise NotImplementedError

    def _output_layer(self, y: np.ndarray) -> tuple[str, int]:
        """(loss kind, width of the output layer) for the targets ``y``."""
        raise NotImplementedError

    def _encode_targets(self, y: np.ndarray) -> np.ndarray:
        """``y`` as the 2-D float targets of the loss."""
        raise NotImplementedError

    def _score_output(self, output: np.ndarray, y: np.ndarray, sample_weight: Any) -> float:
        """The score (accuracy or R^2) of raw network outputs against ``y``."""
        raise NotImplementedError

    def _stratify(self, y: np.ndarray) -> np.ndarray | None:
        """The labels to stratify the validation split by (None: a random split)."""
        return None

    # ---------------------------------------------------------------- fitted attributes
    @property
    def coefs_(self) -> list[np.ndarray]:
        """The weight matrix W of each Linear layer, shape (in, out), as scikit-learn's.

        These are the model's own arrays: writing into them changes ``model_``.
        """
        check_is_fitted(self)
        return [m.weight.data for m in self.model_.modules() if isinstance(m, Linear)]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """The bias vector b of each Linear layer, shape (out,)."""
        check_is_fitted(self)
        return [m.bias.data for m in self.model_.modules() if isinstance(m, Linear)]

    # ---------------------------------------------------------------- training
    def _hidden_layer_sizes(self) -> tuple[int, ...]:
        sizes = self.hidden_layer_sizes
        sizes = list(sizes) if hasattr(sizes, "__iter__") else [sizes]
        if any(isinstance(s, bool) or not isinstance(s, Integral) or s < 1 for s in sizes):
            raise ValueError(
                f"hidden_layer_sizes must hold integers >= 1, got {self.hidden_layer_sizes!r}"
            )
        return tuple(int(s) for s in sizes)

    def _fit(self, X: Any, y: Any, sample_weight: Any = None, incremental: bool = False) -> Any:
        """Check the data once (this is their face), then train with a ``Trainer``."""
        user_callbacks = self._check_fit_options(incremental)
        hidden = self._hidden_layer_sizes()
        first_pass = not hasattr(self, "model_") or (not self.warm_start and not incremental)
        X, y = self._validate_input(X, y, incremental, reset=first_pass)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
            if np.all(sample_weight == 1.0):
                sample_weight = None  # the same fit, on the faster unweighted path
        kind, width = self._output_layer(y)
        dtype = X.dtype.name  # validate_data cast X to the training dtype (_input_dtype)
        architecture = (
            (X.shape[1], *hidden, width),
            ACTIVATIONS[self.activation],
            float(self.dropout),
            bool(self.batch_norm),
            dtype,
            kind,
        )
        random_state = check_random_state(self.random_state)
        if first_pass:
            self._initialize(architecture, random_state)
        elif architecture != self._architecture:
            raise ValueError(self._architecture_change(architecture))
        self._start_tracking()
        if self.solver == LBFGS:
            return fit_estimator_lbfgs(self, X, y, sample_weight, kind)
        trainer, monitor = self._trainer(
            X, y, sample_weight, kind, random_state, incremental, user_callbacks
        )
        try:
            self.history_ = trainer.run()
        except DivergenceError as error:
            after_divergence(self, error, with_validation=trainer.validation is not None)
            return self
        finally:
            self.model_.zero_grad()
            self.model_.eval()
        if not incremental and not monitor.converged and len(self.history_) == self.max_iter:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=3,
            )
        return self

    def _check_fit_options(self, incremental: bool) -> list[Any]:
        """Reject settings that cannot go together; returns the user's callbacks."""
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        if self.early_stopping and self.validation_fraction == 0:
            raise ValueError(
                "early_stopping=True needs validation_fraction > 0 (the share of the rows "
                "held out to validate on)"
            )
        user_callbacks = list(self.callbacks or ())
        watches_validation = [
            c for c in user_callbacks if str(getattr(c, "monitor", "")).startswith("val_")
        ]
        if watches_validation and not self.early_stopping:
            raise ValueError(
                f"callbacks: {type(watches_validation[0]).__name__} monitors "
                f"{watches_validation[0].monitor!r} but there is no validation set; set "
                "early_stopping=True to hold out validation_fraction of the rows"
            )
        return user_callbacks

    def _input_dtype(self, reset: bool) -> Any:
        """What validate_data casts X to: ``dtype``, the trained network's, or X's float."""
        if self.dtype is not None:
            return np.dtype(self.dtype)
        if not reset:
            return np.dtype(self._architecture[4])
        return (np.float64, np.float32)

    def _stratify_fallback(self) -> bool:
        """Whether an impossible stratified split falls back to a random one (classifier)."""
        return False

    def _trainer(
        self,
        X: np.ndarray,
        y: np.ndarray,
        sample_weight: np.ndarray | None,
        kind: str,
        random_state: np.random.RandomState,
        incremental: bool,
        user_callbacks: list[Any],
    ) -> tuple[Trainer, EpochMonitor]:
        """The run: checked rows as Datasets (split when early stopping), loss and stopping rule.

        A sparse X reaches the network as row numbers (:mod:`retroprop.sklearn._sparse`).
        """
        dtype = np.dtype(self._architecture[4])
        targets = self._encode_targets(y).astype(dtype)
        network, X = network_and_inputs(self.model_, X, self._architecture[4])
        train = (X, targets, y, sample_weight)
        held_out = None
        if self.early_stopping:
            train, held_out = split_validation(
                *train,
                fraction=self.validation_fraction,
                stratify=self._stratify(y),
                random_state=random_state,
                fallback=self._stratify_fallback(),
            )
        X, targets, _, sample_weight = train
        weight_scale = 1.0
        if sample_weight is not None:
            weight_scale = float(np.mean(sample_weight))
            if weight_scale == 0:
                raise ValueError(
                    "sample_weight is zero on every training row left after the validation "
                    "split; give some of them a non-zero weight"
                )
        validation = None if held_out is None else _dataset(held_out, dtype, weights_dtype=None)
        loss = EstimatorLoss(kind, self.model_, self.alpha, weight_scale, network=network)
        monitor = EpochMonitor(self, X.shape[0], None if held_out is None else held_out[2:])
        trainer = Trainer(
            network,
            Objective(kind, loss, "regression", "value"),
            self._prepare_optimizer(incremental),
            _dataset(train, dtype, weights_dtype=dtype),
            validation,
            epochs=1 if incremental else self.max_iter,
            batch_size=batch_size_for(self.batch_size, X.shape[0], self.batch_norm),
            shuffle=self.shuffle,
            rng=np.random.default_rng(seed := int(random_state.randint(_SEED_LIMIT))),
            seed=seed,
            callbacks=[monitor, *user_callbacks],
            verbose=int(self.verbose),
        )
        return trainer, monitor

    def _initialize(self, architecture: tuple, random_state: np.random.RandomState) -> None:
        sizes, activation, dropout, batch_norm, dtype, kind = architecture
        # init=None: scikit-learn's Glorot uniform, drawn from random_state as scikit-learn does.
        seed = 0 if self.init is None else random_state.randint(_SEED_LIMIT)
        with using_generator(np.random.default_rng(seed)):
            self.model_ = mlp(
                sizes,
                activation=activation,
                dropout=dropout,
                batch_norm=batch_norm,
                init=None if self.init == COURSE_INIT else self.init,
                dtype=dtype,
            )
        if self.init is None:
            sklearn_glorot_uniform_(self.model_, self.activation, random_state)
        self._architecture = architecture
        self._output_kind = kind
        self._predictor = float64_copy(self.model_)
        self.optimizer_ = None
        self._optimizer_solver = None
        self.n_outputs_ = sizes[-1]
        self.n_layers_ = len(sizes)
        self.out_activation_ = {"softmax": "softmax", "logistic": "logistic", "poisson": "exp"}.get(
            kind, "identity"
        )
        self.t_ = 0
        self.loss_curve_: list[float] = []
        self._no_improvement_count = 0
        self._tracking = None

    def _start_tracking(self) -> None:
        """Reset what the stopping rule compares with when early_stopping changes (or at first)."""
        self.n_iter_ = 0
        if self._tracking == self.early_stopping:
            return
        self._tracking = self.early_stopping
        self._best_state = None
        if self.early_stopping:
            self.validation_scores_: list[float] | None = []
            self.validation_loss_curve_: list[float] | None = []
            self.best_validation_score_: float | None = -np.inf
            self.best_validation_loss_: float | None = np.inf
            self.best_loss_: float | None = None
        else:
            self.validation_scores_ = self.validation_loss_curve_ = None
            self.best_validation_score_ = self.best_validation_loss_ = None
            self.best_loss_ = np.inf

    def _architecture_change(self, architecture: tuple) -> str:
        names = ("layer sizes", "activation", "dropout", "batch_norm", "dtype", "output layer")
        changes = [
            f"{name} {old!r} -> {new!r}"
            for name, old, new in zip(names, self._architecture, architecture, strict=True)
            if old != new
        ]
        return (
            f"{'warm_start' if self.warm_start else 'partial_fit'} continues the network "
            f"already trained, but {', '.join(changes)}; set warm_start=False (or call fit) "
            "to train a new one"
        )

    def _prepare_optimizer(self, incremental: bool) -> Any:
        """The optimiser: kept with its state by partial_fit and warm_start, else a new one."""
        if self.optimizer_ is None or self._optimizer_solver != self.solver:
            self.optimizer_ = SOLVERS[self.solver](
                self.model_.parameters(), **optimizer_options(self)
            )
            self._optimizer_solver = self.solver
        elif not incremental:  # warm start: the settings may have changed, the state stays
            for group in self.optimizer_.param_groups:
                group.update(optimizer_options(self))
        return self.optimizer_

    # ---------------------------------------------------------------- prediction
    def _forward(self, X: Any) -> np.ndarray:
        """Raw network outputs (logits or values), shape (n_samples, n_outputs_).

        Computed in float64 (rows do not influence each other's rounding), returned in the
        network's dtype. A sparse X is multiplied by the first layer as it is.
        """
        check_is_fitted(self)
        X = validate_data(
            self, X, reset=False, dtype=(np.float64, np.float32), accept_sparse=["csr", "csc"]
        )
        predictor = self._predictor
        predictor.load_state_dict(self.model_.state_dict())
        if is_sparse(X):
            output = sparse_forward(predictor, X.astype(np.float64))
        else:
            output = predict(predictor, np.asarray(X, dtype=np.float64))
        return output.astype(self._architecture[4], copy=False)

    # ---------------------------------------------------------------- persistence
    def save(self, path: Any) -> Any:
        """Save the fitted estimator to the directory ``path`` with :func:`retroprop.save`.

        The network goes to ``model.safetensors``; ``get_params()``, the classes and the
        fitted attributes to ``config.json``. Nothing is pickled. The optimiser's state is not
        saved: ``partial_fit`` after :meth:`load` starts a new optimiser.

        Returns
        -------
        pathlib.Path
            The directory.
        """
        from retroprop.sklearn._persistence import save_estimator

        return save_estimator(self, path)

    @classmethod
    def load(cls, path: Any) -> Any:
        """Load an estimator saved by :meth:`save` (it predicts exactly as the saved one did).

        Raises
        ------
        ValueError
            When the directory holds another kind of estimator, or no estimator.
        """
        from retroprop.sklearn._persistence import load_estimator

        return load_estimator(path, cls)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())  # object.__getstate__ returns __dict__ itself
        state.pop("_predictor", None)  # a float64 copy of model_, rebuilt on unpickling
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        if "model_" in self.__dict__:
            self._predictor = float64_copy(self.model_)


def init_arguments(frame_locals: dict[str, Any]) -> dict[str, Any]:
    """A subclass ``__init__``'s arguments, from its ``locals()``, for ``BaseMLP.__init__``."""
    return {k: v for k, v in frame_locals.items() if k not in ("self", "__class__")}


def _dataset(part: tuple, dtype: np.dtype, weights_dtype: np.dtype | None) -> Dataset:
    """(X, targets, y, weights) checked by the estimator as a Dataset in the model's dtype."""
    X, targets, _, weights = part
    if weights is not None and weights_dtype is not None:
        weights = weights.astype(weights_dtype)
    return Dataset(np.ascontiguousarray(X, dtype=dtype), np.ascontiguousarray(targets), weights)
