"""What every doctest of the package may take as imported.

The examples in retroprop's docstrings assume the three usual imports, as NumPy's own
docstrings assume ``np``::

    import numpy as np
    import retroprop as rp
    from retroprop import nn

pytest runs the doctests with ``--doctest-modules`` (see ``pyproject.toml``), and the
``doctest_namespace`` fixture below puts these names in each one, so no docstring repeats
them. A doctest whose printed output depends on random draws still seeds them itself
(``_ = rp.manual_seed(0)``), so its reader sees where the numbers come from.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import retroprop as rp
from retroprop import nn

DOCTEST_NAMESPACE: dict[str, Any] = {"np": np, "rp": rp, "nn": nn}


@pytest.fixture(autouse=True)
def _doctest_imports(doctest_namespace: dict[str, Any]) -> None:
    """``np``, ``rp`` and ``nn`` in every doctest (see the module's docstring)."""
    doctest_namespace.update(DOCTEST_NAMESPACE)
