"""Run the trials of a random search: in this process, or as Dask tasks on a cluster.

On Dask (``dask.distributed``), the data are scattered to every worker once and each trial is
one task (a future); results are gathered as they finish (``as_completed``), so progress shows
at once and Ctrl-C keeps every trial that finished and cancels the rest. Without an address an
embedded ``LocalCluster`` is started: one worker process per core, one thread each, and BLAS on
one thread per worker. Each trial's settings and seed come from the search seed and its index
(:meth:`SearchSpace.sample`), so the scores do not depend on where or in which order the trials
ran: the same search run serially gives the same scores.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from retroprop.tune.space import SearchSpace
from retroprop.tune.trial import TrialData, TrialResult, run_trial

__all__ = ["SearchResult", "run_search", "plan_trials", "cores", "SERIAL"]

#: The ``scheduler`` that runs every trial in this process, one after the other (no Dask).
SERIAL = "serial"
#: Environment of the embedded cluster's worker processes: BLAS on one thread each.
ONE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

OnTrial = Callable[[TrialResult, "SearchResult"], None]


@dataclass
class SearchResult:
    """The trials that finished, in the order they finished.

    Attributes
    ----------
    trials : list of TrialResult
    requested : int
        How many trials were asked for.
    interrupted : bool
        Ctrl-C stopped the search: the trials not finished were cancelled.
    seconds : float
        Wall time of the search, a cluster's start included.
    """

    trials: list[TrialResult]
    requested: int
    interrupted: bool = False
    seconds: float = 0.0

    def ranked(self) -> list[TrialResult]:
        """The trials by score, best (lowest validation loss) first; unscored ones last, by
        index."""
        return sorted(
            self.trials,
            key=lambda t: (t.score is None, t.score if t.score is not None else 0.0, t.index),
        )

    @property
    def best(self) -> TrialResult | None:
        """The scored trial with the lowest validation loss (the lower index on a tie)."""
        ranked = self.ranked()
        return ranked[0] if ranked and ranked[0].score is not None else None


def cores() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def plan_trials(base: Any, space: SearchSpace, trials: int, seed: int) -> list[tuple[Any, dict]]:
    """Each trial's (config, settings): the base config with the sampled settings and seed.

    Raises
    ------
    CLIError
        A sampled combination that ``retroprop train`` would refuse (named).
    """
    planned = []
    for index in range(trials):
        settings, trial_seed = space.sample(seed, index)
        planned.append((base.replace(**settings, seed=trial_seed), settings))
    return planned


@contextlib.contextmanager
def _workers_ignore_ctrl_c() -> Iterator[None]:
    """Start processes with SIGINT ignored (they inherit it): Ctrl-C in a terminal reaches the
    whole process group, and the workers must not die with a traceback each; this process
    handles it, cancels the trials and closes the cluster."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def dask_client(scheduler: str | None, workers: int | None) -> Iterator[Any]:
    """A ``distributed.Client``: of the cluster at ``scheduler``, or of an embedded
    ``LocalCluster`` with ``workers`` processes (default: :func:`cores`); closed afterwards."""
    from dask.distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler, timeout="30s") as client:
            yield client
        return
    with _workers_ignore_ctrl_c():
        cluster = LocalCluster(
            n_workers=workers or cores(),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
            env=ONE_THREAD_ENV,
        )
    try:
        with Client(cluster) as client:
            yield client
    finally:
        with contextlib.suppress(Exception):
            cluster.close()


def _serial(data: TrialData, planned: list, search: SearchResult, on_trial: OnTrial | None):
    for index, (config, settings) in enumerate(planned):
        _record(search, run_trial(data, config, index, settings), on_trial)


def _record(search: SearchResult, result: TrialResult, on_trial: OnTrial | None) -> None:
    search.trials.append(result)
    if on_trial is not None:
        on_trial(result, search)


def _on_dask(data: TrialData, planned: list, search: SearchResult, client: Any, on_trial):
    from dask.distributed import as_completed

    shared = client.scatter(data, broadcast=True)  # once per worker, not once per trial
    futures = {
        client.submit(run_trial, shared, config, index, settings, pure=False): index
        for index, (config, settings) in enumerate(planned)
    }
    try:
        for future in as_completed(futures):
            index = futures[future]
            try:
                result = future.result()
            except Exception as error:  # the task itself was lost (a worker died...)
                config, settings = planned[index]
                message = f"{type(error).__name__}: {error}"
                result = TrialResult(index, config.seed, settings, "failed", error=message)
            _record(search, result, on_trial)
    finally:  # Ctrl-C or an error: the trials not finished are not wanted any more
        with contextlib.suppress(Exception):
            client.cancel([future for future in futures if not future.done()])


def run_search(
    data: TrialData,
    base: Any,
    space: SearchSpace,
    trials: int,
    *,
    seed: int,
    scheduler: str | None = None,
    workers: int | None = None,
    on_trial: OnTrial | None = None,
) -> SearchResult:
    """Train ``trials`` sampled settings on ``data`` and score each on its validation rows.

    Parameters
    ----------
    data : TrialData
        The preprocessed arrays, the same for every trial.
    base : retroprop.cli.config.TrainConfig
        The options every trial starts from (epochs, early stopping, ...).
    space : SearchSpace
    trials : int
        How many settings to try (at least 1).
    seed : int
        The search seed: trial ``i`` is ``space.sample(seed, i)``.
    scheduler : str, optional
        None: an embedded ``LocalCluster``; ``"serial"``: in this process, without Dask; else a
        Dask scheduler's address (``tcp://host:8786``).
    workers : int, optional
        The embedded cluster's worker processes (default: the cores); 0 means serial.
    on_trial : callable, optional
        ``on_trial(result, search)`` as each trial finishes (progress lines).

    Returns
    -------
    SearchResult
        With ``interrupted`` set when Ctrl-C stopped it (the finished trials are kept).

    Raises
    ------
    ValueError
        ``trials`` < 1 or ``workers`` < 0.
    """
    if trials < 1:
        raise ValueError(f"trials must be at least 1, got {trials}")
    if workers is not None and workers < 0:
        raise ValueError(f"workers must be >= 0 (0: serial), got {workers}")
    planned = plan_trials(base, space, trials, seed)
    search = SearchResult([], trials)
    started = time.perf_counter()
    try:
        if scheduler == SERIAL or (workers == 0 and not scheduler):
            _serial(data, planned, search, on_trial)
        else:
            with dask_client(scheduler, workers) as client:
                _on_dask(data, planned, search, client, on_trial)
    except KeyboardInterrupt:
        search.interrupted = True
    search.seconds = time.perf_counter() - started
    return search
