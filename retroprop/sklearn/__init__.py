"""scikit-learn estimators trained by retroprop: ``MLPClassifier`` and ``MLPRegressor``.

Import this module explicitly (``import retroprop`` does not import scikit-learn)::

    from retroprop.sklearn import MLPClassifier

The estimators take scikit-learn's parameters (``hidden_layer_sizes``, ``solver``, ``alpha``,
``early_stopping``...) with scikit-learn's defaults, plus retroprop's knobs (every activation,
``init``, ``dropout``, ``batch_norm``, ``loss``, ``callbacks``, ``dtype``), pass scikit-learn's
estimator checks, and save to a directory without pickle (``estimator.save(path)``,
:func:`load`).

Examples
--------
>>> import tempfile
>>> from sklearn.datasets import load_iris
>>> from retroprop.sklearn import MLPClassifier, load
>>> X, y = load_iris(return_X_y=True)
>>> clf = MLPClassifier((16,), learning_rate_init=0.01, max_iter=300, random_state=0).fit(X, y)
>>> folder = clf.save(tempfile.mkdtemp() + "/iris")
>>> again = load(folder)
>>> bool((again.predict_proba(X) == clf.predict_proba(X)).all())
True
"""

from __future__ import annotations

from typing import Any

import sklearn

_version = tuple(int(part) for part in sklearn.__version__.split(".")[:2] if part.isdigit())
if _version < (1, 6):  # pragma: no cover - depends on the environment
    raise ImportError(
        f"retroprop.sklearn needs scikit-learn >= 1.6, found {sklearn.__version__}: "
        "pip install -U scikit-learn"
    )

from retroprop.sklearn._divergence import FitDivergedError  # noqa: E402
from retroprop.sklearn._persistence import load_estimator  # noqa: E402
from retroprop.sklearn.classifier import MLPClassifier  # noqa: E402
from retroprop.sklearn.regressor import MLPRegressor  # noqa: E402

__all__ = ["MLPClassifier", "MLPRegressor", "FitDivergedError", "load"]


def load(path: Any) -> MLPClassifier | MLPRegressor:
    """Load an estimator saved by ``estimator.save(path)``, whichever of the two it is.

    Parameters
    ----------
    path : path-like
        The directory written by ``save``.

    Returns
    -------
    MLPClassifier or MLPRegressor
        Fitted, predicting exactly as the saved estimator did.

    Raises
    ------
    ValueError
        When the directory holds a model but no estimator.
    retroprop.io.ModelFileError
        When the files are missing, corrupt or were changed.
    """
    return load_estimator(path)
