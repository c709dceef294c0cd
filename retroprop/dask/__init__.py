"""retroprop on Dask: the estimators trained on Dask arrays and dataframes, block by block.

Nothing here imports Dask until it is called: ``pip install retroprop[dask]`` brings it.
Searches (``GridSearchCV``, ``RandomizedSearchCV``) over the estimators need nothing of ours:
run them under ``joblib.parallel_backend("dask")`` with a ``dask.distributed.Client``.
"""

from retroprop.dask.blocks import fit_blocks

__all__ = ["fit_blocks"]
