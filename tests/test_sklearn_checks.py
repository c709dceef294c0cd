"""scikit-learn's own estimator checks, run on both estimators; none is expected to fail.

The instances are small (16 hidden units, 100 epochs) so the whole suite runs in seconds, and
train in float64 (``dtype="float64"``): ``check_sample_weight_equivalence_on_dense_data``
compares weighted and repeated fits to a relative 1e-7, below float32's resolution (float32
passes every other check; ``test_sklearn.py`` checks that equivalence to float32 precision).
"""

from __future__ import annotations

import pytest

pytest.importorskip("sklearn")

from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from retroprop.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

# 100 epochs do not converge on every check's data; scikit-learn's MLP warns there too.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = {"hidden_layer_sizes": (16,), "max_iter": 100, "learning_rate_init": 0.01}


@parametrize_with_checks(
    [MLPClassifier(dtype="float64", **SMALL), MLPRegressor(dtype="float64", **SMALL)]
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
