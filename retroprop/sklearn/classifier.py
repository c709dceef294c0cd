"""``MLPClassifier``: scikit-learn's multilayer perceptron classifier, trained by retroprop."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit, log_expit, log_softmax, logsumexp, softmax
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    check_classification_targets,
    type_of_target,
    unique_labels,
)
from sklearn.utils.validation import column_or_1d, validate_data

from retroprop.sklearn._base import BaseMLP, init_arguments
from retroprop.sklearn._lbfgs import stochastic_solver

__all__ = ["MLPClassifier"]

LOSSES = ("log_loss", "cross_entropy", "binary_cross_entropy_with_logits")


class MLPClassifier(ClassifierMixin, BaseMLP):
    """Multilayer perceptron classifier with scikit-learn's interface, trained by retroprop.

    The parameters scikit-learn's :class:`~sklearn.neural_network.MLPClassifier` has keep its
    names, meanings and defaults; the rest are retroprop's knobs. The network is
    ``Linear -> [BatchNorm1d] -> activation -> [Dropout]`` per hidden layer, then a Linear
    output layer trained on its logits: one sigmoid unit with binary cross-entropy for two
    classes, one per label for multi-label targets, a softmax with cross-entropy for more
    classes. The loss (``loss_curve_``) is scikit-learn's: the mean log-loss of the batches,
    summed over the labels of a multi-label example, plus alpha / (2 n_batch) ||W||^2.

    Parameters
    ----------
    hidden_layer_sizes : int or array-like of int, default (100,)
        The width of each hidden layer.
    activation : str, default "relu"
        Hidden activation: "identity", "logistic" (or "sigmoid"), "tanh", "relu",
        "leaky_relu", "elu", "gelu", "silu" (or "swish"), "mish", "softplus".
    solver : {"adam", "sgd", "lbfgs", "adamw", "rmsprop", "adagrad"}, default "adam"
        The optimiser. "sgd" uses ``momentum`` and ``nesterovs_momentum``; "adam" and "adamw"
        use ``beta_1``, ``beta_2`` and ``epsilon`` ("adamw" also decays the weights by its own
        decoupled weight_decay=0.01); "rmsprop" and "adagrad" use ``epsilon``. "lbfgs" is
        scikit-learn's full-batch quasi-Newton solver (``scipy.optimize.minimize`` with
        L-BFGS-B on retroprop's gradients; ``max_iter``, ``max_fun``, ``tol``), good on small
        data; it has no ``partial_fit``, no validation split and calls no ``callbacks``.
    alpha : float, default 0.0001
        L2 penalty on the weights (not the biases): alpha / (2 n_batch) * sum ||W||^2 is
        added to each batch's loss, as scikit-learn does.
    batch_size : int or "auto", default "auto"
        Rows per mini-batch; "auto" is min(200, n_samples).
    learning_rate : {"constant", "invscaling", "adaptive"}, default "constant"
        Schedule for solver="sgd": "invscaling" sets the rate to
        learning_rate_init / (t_ + 1) ** power_t after each epoch; "adaptive" divides it by
        5 instead of stopping when the loss stalls, until it falls below 1e-6.
    learning_rate_init : float, default 0.001
        The (initial) learning rate.
    power_t : float, default 0.5
        Exponent of "invscaling".
    max_iter : int, default 200
        Maximum number of epochs (for "lbfgs": of L-BFGS iterations).
    shuffle : bool, default True
        Shuffle the rows every epoch.
    random_state : int, RandomState instance or None, default None
        Seeds the initial weights, the validation split, shuffling and dropout: the same
        value gives the same fit, bit for bit.
    tol : float, default 1e-4
        The improvement that counts (see ``n_iter_no_change``).
    verbose : bool or int, default False
        Print one line per epoch (``retroprop.fit``'s) and the validation figures.
    warm_start : bool, default False
        Continue from the previous fit: the same network, the optimiser's state kept.
    momentum : float, default 0.9
        Momentum of solver="sgd".
    nesterovs_momentum : bool, default True
        Nesterov momentum for solver="sgd".
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the rows (stratified by class, see
        ``stratify``), stop when the validation ``early_stopping_metric`` stalls, and restore
        the weights of the best epoch, also when ``max_iter`` ends the run or training
        diverges. Without it, training stops when the training loss stalls (scikit-learn's
        rule).
    validation_fraction : float, default 0.1
        The share of the rows held out by ``early_stopping``.
    beta_1, beta_2 : float, default 0.9, 0.999
        Adam's decay rates of the first and second moment estimates.
    epsilon : float, default 1e-8
        Adam's (and RMSprop's, Adagrad's) numerical-stability constant.
    n_iter_no_change : int, default 10
        Stop once the monitored value has not improved by more than ``tol`` for more than
        this many consecutive epochs.
    early_stopping_metric : {"loss", "score"}, default "loss"
        What ``early_stopping`` monitors: the validation log-loss, or the validation
        accuracy (scikit-learn's choice).
    loss : {"log_loss", "cross_entropy", "binary_cross_entropy_with_logits"}, default "log_loss"
        "log_loss" is scikit-learn's choice (above). "cross_entropy" uses a softmax also
        for two classes (two output units); "binary_cross_entropy_with_logits" uses one
        sigmoid unit per class also for more than two (one-vs-rest, the probabilities
        normalised to sum to 1).
    init : str, callable or None, default None
        Initialiser of the weights (``retroprop.nn.init``: "he_normal", "xavier_uniform",
        ...; the biases then start at 0); "course" is retroprop's own default (He normal
        before a ReLU-family activation, Glorot normal otherwise). None is scikit-learn's:
        weights and biases from U(-b, b), b = sqrt(factor / (fan_in + fan_out)), factor 2
        for "logistic" and 6 otherwise, drawn from ``random_state`` as scikit-learn draws
        them.
    dropout : float, default 0.0
        Dropout probability after each hidden activation.
    batch_norm : bool, default False
        Batch normalisation before each hidden activation.
    callbacks : list of retroprop.callbacks.Callback, optional
        Extra callbacks for ``retroprop.fit``; their logs hold "loss", and with
        early_stopping "val_loss" and "val_score".
    dtype : {"float32", "float64"} or None, default None
        The dtype the network trains in. None follows X, as scikit-learn does: float32 X
        trains (and predicts) in float32, anything else in float64; a network already trained
        (warm_start, partial_fit) keeps its dtype. Predictions are computed in float64 from
        the trained weights (so they do not depend on how the rows are batched or ordered)
        and returned in the network's dtype.
    max_fun : int, default 15000
        For solver="lbfgs": the maximum number of loss evaluations.
    stratify : bool or "if_possible", default True
        Stratify the ``early_stopping`` split by class (not for multi-label targets). When a
        class is too small to appear on both sides, True raises scikit-learn's ValueError;
        "if_possible" splits at random instead, with a warning; False always splits at random.

    Raises
    ------
    FitDivergedError
        From ``fit``/``partial_fit`` when the weights become NaN or inf and there is no
        validation set to fall back on (a ValueError, scikit-learn's message followed by
        retroprop's diagnosis: epoch, batch, first layer with a non-finite value). Like any
        exception raised by ``fit``, ``GridSearchCV`` scores such a candidate with its
        ``error_score``. With ``early_stopping`` a diverging epoch instead gets a NaN
        validation score and loss, and the best epoch's weights are kept (with a
        ConvergenceWarning), as scikit-learn does.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels (for multi-label targets, the label indices).
    model_ : retroprop.nn.Sequential
        The trained network; it outputs logits.
    optimizer_ : retroprop.optim.Optimizer
        The optimiser, kept for partial_fit and warm_start.
    coefs_ : list of ndarray
        The weights of each layer, shape (in, out): the model's own arrays.
    intercepts_ : list of ndarray
        The biases of each layer.
    loss_ : float
        The training loss of the last epoch.
    loss_curve_ : list of float
        The training loss of each epoch (accumulated over warm starts and partial fits).
    validation_loss_curve_ : list of float or None
        With early_stopping, the validation log-loss of each epoch (no L2 term).
    validation_scores_ : list of float or None
        With early_stopping, the validation accuracy of each epoch.
    best_loss_ : float or None
        The lowest training loss (None with early_stopping).
    best_validation_loss_, best_validation_score_ : float or None
        With early_stopping, the figures of the epoch whose weights were kept.
    n_iter_ : int
        Epochs run by the last call.
    t_ : int
        Training rows seen, over all calls.
    n_layers_ : int
        Layers, counting the input and the output.
    n_outputs_ : int
        Output units.
    out_activation_ : str
        "logistic" or "softmax".
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        When X was a DataFrame with string column names.
    history_ : retroprop.History
        What ``retroprop.fit`` returned for the last call.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from retroprop.sklearn import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=300,
    ...                     random_state=0).fit(X, y)
    >>> clf.predict(X[:3]), clf.predict_proba(X[:1]).shape
    (array([0, 0, 0]), (1, 3))
    >>> clf.score(X, y) > 0.9
    True
    """

    _parameter_constraints: dict = {
        **BaseMLP._parameter_constraints,
        "loss": [StrOptions(set(LOSSES))],
        "stratify": ["boolean", StrOptions({"if_possible"})],
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
        loss: str = "log_loss",
        init: Any = None,
        dropout: float = 0.0,
        batch_norm: bool = False,
        callbacks: list | tuple | None = None,
        dtype: Any = None,
        max_fun: int = 15000,
        stratify: bool | str = True,
    ) -> None:
        arguments = init_arguments(locals())
        self.stratify = arguments.pop("stratify")
        super().__init__(**arguments)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    # ---------------------------------------------------------------- fitting
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPClassifier:
        """Train the network on (X, y).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels of any type, or a 0/1 indicator matrix for multi-label targets.
        sample_weight : array-like of shape (n_samples,), optional
            Weights of the rows in the loss (and in the validation score).

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    @available_if(stochastic_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(
        self, X: Any, y: Any, sample_weight: Any = None, classes: Any = None
    ) -> MLPClassifier:
        """Train for one epoch on (X, y), continuing from the current network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
        sample_weight : array-like of shape (n_samples,), optional
        classes : array-like of shape (n_classes,), optional
            Every class that will be seen; required on the first call (``y`` may hold only
            some of them).

        Returns
        -------
        self
        """
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool) -> tuple:
        X, y = validate_data(
            self,
            X,
            y,
            multi_output=True,
            dtype=self._input_dtype(reset),
            accept_sparse=["csr", "csc"],
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer().fit(y)
            self.classes_ = self._label_binarizer.classes_
            return X, y
        classes = unique_labels(y)
        if self.warm_start and not incremental:
            if set(classes) != set(self.classes_):
                raise ValueError(
                    "warm_start can only be used where `y` has the same classes as in the "
                    f"previous call to fit. Previously got {self.classes_}, `y` has {classes}"
                )
        elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
            raise ValueError(
                f"`y` has classes not in `self.classes_`. `self.classes_` has {self.classes_}. "
                f"'y' has {classes}."
            )
        return X, y

    def _output_layer(self, y: np.ndarray) -> tuple[str, int]:
        y_type = self._label_binarizer.y_type_
        n_classes = len(self._label_binarizer.classes_)
        if y_type.startswith("multilabel"):
            if self.loss == "cross_entropy":
                raise ValueError(
                    "loss='cross_entropy' (one softmax over the classes) cannot fit multi-label "
                    "targets; use loss='log_loss' (one sigmoid per label)"
                )
            return "logistic", n_classes
        if y_type == "multiclass":
            if self.loss == "binary_cross_entropy_with_logits":
                return "logistic", n_classes
            return "softmax", n_classes
        return ("softmax", 2) if self.loss == "cross_entropy" else ("logistic", 1)

    def _encode_targets(self, y: np.ndarray) -> np.ndarray:
        targets = self._label_binarizer.transform(y)
        if self._output_kind == "softmax" and targets.shape[1] == 1:  # two classes, two units
            targets = np.hstack([1 - targets, targets])
        return targets

    def _stratify(self, y: np.ndarray) -> np.ndarray | None:
        if y.ndim != 1 or not self.stratify:
            return None
        if self._label_binarizer.y_type_ == "binary":  # as scikit-learn: its encoded column
            return self._label_binarizer.transform(y).astype(bool)
        return y

    def _stratify_fallback(self) -> bool:
        return self.stratify == "if_possible"

    def _score_output(self, output: np.ndarray, y: np.ndarray, sample_weight: Any) -> float:
        if not np.isfinite(output).all():
            return float("nan")
        predicted = self._label_binarizer.inverse_transform(self._network_proba(output))
        return float(accuracy_score(y, predicted, sample_weight=sample_weight))

    # ---------------------------------------------------------------- prediction
    def _network_proba(self, output: np.ndarray) -> np.ndarray:
        """The output units' probabilities: softmax, or sigmoids (normalised one-vs-rest)."""
        if self._output_kind == "softmax":
            return softmax(output, axis=1)
        proba = expit(output)
        if self._label_binarizer.y_type_ == "multiclass":
            proba /= proba.sum(axis=1, keepdims=True)
        return proba

    def predict(self, X: Any) -> np.ndarray:
        """Predict class labels (a 0/1 indicator matrix for multi-label targets).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_labels)
        """
        proba = self._network_proba(self._forward(X))
        if proba.shape[1] == 1:
            proba = proba.ravel()
        return self._label_binarizer.inverse_transform(proba)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probability of each class, in the order of ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            For multi-label targets, the probability of each label (rows need not sum to 1).
        """
        output = self._forward(X)
        if self.n_outputs_ == 1:
            return np.hstack([expit(-output), expit(output)])
        return self._network_proba(output)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Log of :meth:`predict_proba`, computed stably from the logits.

        It is ``np.log(predict_proba(X))`` (as scikit-learn's), except where a probability
        underflows to 0 (or a subnormal): there the exact log, finite, from the logits.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        output = self._forward(X)
        if self.n_outputs_ == 1:
            log_proba = np.hstack([log_expit(-output), log_expit(output)])
            proba = np.hstack([expit(-output), expit(output)])
        elif self._output_kind == "softmax":
            log_proba = log_softmax(output, axis=1)
            proba = softmax(output, axis=1)
        else:
            log_proba = log_expit(output)
            if self._label_binarizer.y_type_ == "multiclass":
                log_proba -= logsumexp(log_proba, axis=1, keepdims=True)
            proba = self._network_proba(output)
        representable = proba > np.finfo(proba.dtype).tiny
        return np.where(representable, np.log(np.where(representable, proba, 1.0)), log_proba)
