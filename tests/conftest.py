"""Shared fixtures for the test suite."""

from __future__ import annotations

import numpy as np
import pytest

from retroprop.grad_mode import _GradMode


@pytest.fixture
def rng() -> np.random.Generator:
    """A generator seeded per test, so every test draws the same numbers on every run."""
    return np.random.default_rng(20240611)


@pytest.fixture(autouse=True)
def _grad_mode_restored():
    """A test that leaves graph recording off would silently break the tests that follow."""
    yield
    leaked = not _GradMode.enabled
    _GradMode.enabled = True
    assert not leaked, "the test left grad mode disabled (an unbalanced no_grad)"
