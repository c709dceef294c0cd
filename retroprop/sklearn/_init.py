"""The estimators' default initialisation: scikit-learn's, so a drop-in replacement learns alike.

scikit-learn's ``BaseMultilayerPerceptron._init_coef`` draws every weight AND every bias of a
layer from Glorot's uniform distribution, U(-b, b) with b = sqrt(factor / (fan_in + fan_out)),
factor = 2 for the logistic activation and 6 otherwise (Glorot & Bengio, 2010), layer by
layer, weights before biases, from the estimator's ``random_state``. Drawing in the same order
from the same ``RandomState`` gives the very same initial network as scikit-learn's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from retroprop.nn.linear import Linear

__all__ = ["SIGMOID_NAMES", "sklearn_glorot_uniform_"]

SIGMOID_NAMES = ("logistic", "sigmoid")


def sklearn_glorot_uniform_(
    model: Any, activation: str, random_state: np.random.RandomState
) -> None:
    """Re-draw the weights and biases of every Linear of ``model`` as scikit-learn does.

    Parameters
    ----------
    model : Module
        Its Linear layers are written in place, in their own dtype.
    activation : str
        The estimator's hidden activation (scikit-learn's name or retroprop's).
    random_state : numpy.random.RandomState
        The estimator's; the draws advance it as scikit-learn's do.

    Examples
    --------
    >>> from retroprop.nn import mlp
    >>> model = mlp([3, 4, 1])
    >>> sklearn_glorot_uniform_(model, "relu", np.random.RandomState(0))
    >>> bound = np.sqrt(6 / (3 + 4))
    >>> bool((np.abs(model[0].weight.data) <= bound).all()), model[0].bias.data.any()
    (True, np.True_)
    """
    factor = 2.0 if activation in SIGMOID_NAMES else 6.0
    for layer in (m for m in model.modules() if isinstance(m, Linear)):
        fan_in, fan_out = layer.weight.data.shape
        bound = np.sqrt(factor / (fan_in + fan_out))
        layer.weight.data[...] = random_state.uniform(-bound, bound, (fan_in, fan_out))
        bias = random_state.uniform(-bound, bound, fan_out)
        if layer.bias is not None:
            layer.bias.data[...] = bias
