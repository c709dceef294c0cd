"""Hyper-parameter search (``retroprop tune``): random search over a space of settings, each
trial a Dask task on an embedded ``LocalCluster`` or on a cluster, the best retrained and saved
as a normal run folder with its trials.

>>> space = SearchSpace.from_mapping({"lr": "1e-3:1e-1", "layers": "8;8,8"})
>>> space.describe()
'layers 8, 8,8; lr 0.001:0.1 (log-uniform)'

Dask (``pip install retroprop[dask]``) is imported only when trials run on it.
"""

from retroprop.tune.run import Tuned, base_config, tune, write_trials
from retroprop.tune.search import SERIAL, SearchResult, run_search
from retroprop.tune.space import (
    DEFAULT_SPACE,
    SETTINGS,
    Choice,
    LogUniform,
    SearchSpace,
    load_space,
)
from retroprop.tune.trial import TrialData, TrialResult, run_trial

__all__ = [
    "tune",
    "Tuned",
    "base_config",
    "write_trials",
    "run_search",
    "SearchResult",
    "SERIAL",
    "SearchSpace",
    "Choice",
    "LogUniform",
    "load_space",
    "DEFAULT_SPACE",
    "SETTINGS",
    "TrialData",
    "TrialResult",
    "run_trial",
]
