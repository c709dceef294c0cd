"""scikit-learn's own estimator checks, run on both estimators at their DEFAULT parameters.

Nothing is set: the network trains in X's dtype (float64 for the checks' float64 data, which
``check_sample_weight_equivalence_on_dense_data`` compares to a relative 1e-7) and starts from
scikit-learn's initialisation, as a scikit-learn user would run them. None is expected to fail.
"""

from __future__ import annotations

import pytest

pytest.importorskip("sklearn")

from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from retroprop.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

# 200 epochs do not converge on every check's data; scikit-learn's MLP warns there too.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@parametrize_with_checks([MLPClassifier(), MLPRegressor()])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
