"""scikit-learn's own MLP test file, run on retroprop's estimators.

The installed ``sklearn/neural_network/tests/test_mlp.py`` is loaded as a private copy of the
module (nothing is copied into this repository), its ``MLPClassifier`` and ``MLPRegressor``
are replaced by retroprop's, and its test functions, with their parametrisations, are
collected from here. The items that do not apply or deliberately differ are listed in
``DEVIATIONS`` with their reason (also in the README's scikit-learn section): an item that
reaches into scikit-learn's private internals is skipped; an item whose assertion retroprop
deliberately does not meet is an ``xfail(strict=True)``, so it fails the suite the day it
starts to pass.
"""

from __future__ import annotations

import importlib.util
import inspect

import pytest

pytest.importorskip("sklearn")

from retroprop.sklearn import MLPClassifier, MLPRegressor  # noqa: E402


def _upstream_module():
    """A private copy of scikit-learn's test module with retroprop's estimators in it."""
    installed = pytest.importorskip("sklearn.neural_network.tests.test_mlp")
    spec = importlib.util.spec_from_file_location("_upstream_test_mlp", installed.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.MLPClassifier = MLPClassifier
    module.MLPRegressor = MLPRegressor
    return module


UPSTREAM = _upstream_module()

# Item name (or the name of a test function, for all its parametrisations) -> (kind, reason).
DEVIATIONS: dict[str, tuple[str, str]] = {}


@pytest.fixture
def global_random_seed() -> int:
    """scikit-learn's fixture, at its default seed (42)."""
    return 42


@pytest.fixture(autouse=True)
def _deviation(request: pytest.FixtureRequest) -> None:
    """Apply the listed deviation of this item, if any."""
    entry = DEVIATIONS.get(request.node.name) or DEVIATIONS.get(request.node.originalname)
    if entry is None:
        return
    kind, reason = entry
    if kind == "skip":
        pytest.skip(reason)
    request.applymarker(pytest.mark.xfail(strict=True, reason=reason))


for _name, _test in inspect.getmembers(UPSTREAM, inspect.isfunction):
    if _name.startswith("test_"):
        globals()[_name] = _test
