"""``MLPRegressor``: scikit-learn's multilayer perceptron regressor, trained by retroprop."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import column_or_1d, validate_data

from retroprop.sklearn._base import BaseMLP, init_arguments
from retroprop.sklearn._lbfgs import stochastic_solver
from retroprop.sklearn._poisson import check_poisson_targets

__all__ = ["MLPRegressor"]


class MLPRegressor(RegressorMixin, BaseMLP):
    """Multilayer perceptron regressor with scikit-learn's interface, trained by retroprop.

    The network is ``Linear -> [BatchNorm1d] -> activation -> [Dropout]`` per hidden layer,
    then a Linear output layer (identity activation), one unit per target. The loss is
    scikit-learn's "squared_error", 1/2 (y_hat - y)**2 averaged over rows and targets, plus
    alpha / (2 n_batch) ||W||^2: ``loss_curve_`` holds the same figures as scikit-learn's
    (scikit-learn's own gradient sums over several targets; here loss and gradient agree).

    Parameters
    ----------
    hidden_layer_sizes, activation, solver, alpha, batch_size, learning_rate, \
learning_rate_init, power_t, max_iter, shuffle, random_state, tol, verbose, warm_start, \
momentum, nesterovs_momentum, early_stopping, validation_fraction, beta_1, beta_2, epsilon, \
n_iter_no_change, init, dropout, batch_norm, callbacks, dtype, max_fun
        As for :class:`~retroprop.sklearn.MLPClassifier` (scikit-learn's meanings and
        defaults where scikit-learn has the parameter). ``early_stopping`` holds out a random
        ``validation_fraction`` of the rows. Divergence: see the classifier's "Raises".
    early_stopping_metric : {"loss", "score"}, default "loss"
        What ``early_stopping`` monitors: the validation loss, or the validation R^2
        (scikit-learn's choice).
    loss : {"squared_error", "poisson", "mse"}, default "squared_error"
        "squared_error" is scikit-learn's half squared error; "poisson" is scikit-learn's
        half Poisson deviance with the exponential link (the network outputs log mu, predict
        returns mu = exp(z); y must be >= 0); "mse" is the mean squared error (twice as
        large, so alpha weighs half as much).

    Attributes
    ----------
    model_ : retroprop.nn.Sequential
        The trained network.
    optimizer_ : retroprop.optim.Optimizer
        The optimiser, kept for partial_fit and warm_start.
    coefs_, intercepts_ : list of ndarray
        Weights (in, out) and biases of each layer: the model's own arrays.
    loss_, loss_curve_, validation_loss_curve_, validation_scores_, best_loss_, \
best_validation_loss_, best_validation_score_, n_iter_, t_, n_layers_, history_
        As for :class:`~retroprop.sklearn.MLPClassifier`; the score is R^2.
    n_outputs_ : int
        Number of targets.
    out_activation_ : str
        "identity", or "exp" for loss="poisson".
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        When X was a DataFrame with string column names.

    Examples
    --------
    >>> from retroprop.sklearn import MLPRegressor
    >>> X = np.linspace(-1, 1, 200).reshape(-1, 1)
    >>> y = X.ravel() ** 2
    >>> reg = MLPRegressor(hidden_layer_sizes=(32,), learning_rate_init=0.01, max_iter=300,
    ...                    random_state=0).fit(X, y)
    >>> reg.predict(X[:2]).shape
    (2,)
    >>> reg.score(X, y) > 0.9
    True
    """

    _parameter_constraints: dict = {
        **BaseMLP._parameter_constraints,
        "loss": [StrOptions({"squared_error", "mse", "poisson"})],
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
        loss: str = "squared_error",
        init: Any = None,
        dropout: float = 0.0,
        batch_norm: bool = False,
        callbacks: list | tuple | None = None,
        dtype: Any = None,
        max_fun: int = 15000,
    ) -> None:
        super().__init__(**init_arguments(locals()))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """Train the network on (X, y).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), optional
            Weights of the rows in the loss (and in the validation score).

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    @available_if(stochastic_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """Train for one epoch on (X, y), continuing from the current network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool) -> tuple:
        X, y = validate_data(
            self,
            X,
            y,
            multi_output=True,
            y_numeric=True,
            dtype=self._input_dtype(reset),
            accept_sparse=["csr", "csc"],
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if self.loss == "poisson":
            check_poisson_targets(y)
        return X, y

    def _output_layer(self, y: np.ndarray) -> tuple[str, int]:
        return self.loss, 1 if y.ndim == 1 else y.shape[1]

    def _encode_targets(self, y: np.ndarray) -> np.ndarray:
        return y.reshape(-1, 1) if y.ndim == 1 else y

    def _prediction(self, output: np.ndarray) -> np.ndarray:
        """The predictions from the network's outputs: z, or exp(z) for loss="poisson"."""
        if self._output_kind == "poisson":
            with np.errstate(over="ignore"):
                output = np.exp(output)
        return output.ravel() if output.shape[1] == 1 else output

    def _score_output(self, output: np.ndarray, y: np.ndarray, sample_weight: Any) -> float:
        predicted = self._prediction(output)
        if not np.isfinite(predicted).all():
            return float("nan")
        return float(r2_score(y, predicted, sample_weight=sample_weight))

    def predict(self, X: Any) -> np.ndarray:
        """Predict the targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        return self._prediction(self._forward(X))
