"""``tune``: read and preprocess the data once, search, retrain the best and save it as a run.

The data go through ``retroprop train``'s preprocessing (the schema, the seeded split, the
encoding fitted on the training rows) once; every trial trains on the same arrays and is scored
on the same validation rows. The best settings are then trained again with the trial's seed by
``retroprop train``'s own code path (:func:`retroprop.cli.train.train_and_save`), so the folder
is a normal run folder (model, ``history.csv``, ``metrics.json``, ``report.html``) plus
``trials.csv`` and ``trials.json``, and the report has a "Trials" section.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retroprop.tune.search import OnTrial, SearchResult, run_search
from retroprop.tune.space import SearchSpace, load_space

__all__ = ["Tuned", "tune", "base_config", "write_trials", "keep_unscored_trials"]


@dataclass
class Tuned:
    """What :func:`tune` did.

    Attributes
    ----------
    search : SearchResult
        Every trial that finished.
    out : Path
        The run folder of the best settings; when none scored, the folder of ``trials.csv``
        alone (:func:`keep_unscored_trials`: ``out`` if it was new or empty, else beside it).
    exit_code : int
        As ``retroprop train``'s: 0 done, 1 no trial scored (or the retrain diverged), 130
        interrupted.
    model : Module or None
        The best settings' model, retrained.
    """

    search: SearchResult
    out: Path
    exit_code: int
    model: Any = None


def base_config(**options: Any) -> Any:
    """The :class:`~retroprop.cli.config.TrainConfig` of ``retroprop train``'s defaults with
    ``options`` applied (quiet: no per-epoch lines).

    Raises
    ------
    CLIError
        An unknown option or an impossible value, named.

    Examples
    --------
    >>> config = base_config(dataset="xor", seed=3)
    >>> config.epochs, config.early_stopping, config.seed
    (200, 10, 3)
    """
    from retroprop.cli.config import TrainConfig
    from retroprop.cli.options import TRAIN_OPTIONS, option_name

    defaults = {
        option_name(flags): keywords.get("default", False if "action" in keywords else None)
        for _, flags, keywords in TRAIN_OPTIONS
    }
    return TrainConfig.from_options({**defaults, "quiet": True, **options})


def _space(space: SearchSpace | Mapping[str, Any] | str | Path | None) -> SearchSpace:
    if space is None:
        return SearchSpace.default()
    if isinstance(space, SearchSpace):
        return space
    if isinstance(space, Mapping):
        return SearchSpace.from_mapping(space)
    return load_space(space)


def write_trials(folder: Path, search: SearchResult, space: SearchSpace, seed: int) -> None:
    """``trials.csv`` (one row per trial, best first) and ``trials.json`` into ``folder``."""
    from retroprop.cli.files import atomic_write, write_json

    rows = [trial.row() for trial in search.ranked()]
    columns = list(dict.fromkeys(key for row in rows for key in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write(folder / "trials.csv", buffer.getvalue())
    write_json(
        folder / "trials.json",
        {
            "score": "validation loss as trained (lower is better)",
            "seed": seed,
            "requested": search.requested,
            "finished": len(search.trials),
            "interrupted": search.interrupted,
            "space": space.to_mapping(),
            "trials": rows,
        },
    )


def keep_unscored_trials(out: Path, search: SearchResult, space: SearchSpace, seed: int) -> Path:
    """Publish the trials of a search where no trial scored (why each failed) as a folder of
    their own; its path.

    Into ``out`` when it is new or empty; otherwise into a fresh folder beside it
    (``<out>-trials-<time>``), so an earlier run in ``out`` stays whole, even with
    ``overwrite``: the trials are no run and replace none. Written through
    :func:`retroprop._io_publish.staged_folder` (one rename, with a manifest).

    Raises
    ------
    SaveError
        The folder cannot be written (another writer, no space, permission...).
    """
    from retroprop._io_publish import staged_folder
    from retroprop.cli.outputs import default_out_dir

    out = Path(out).absolute()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        out = default_out_dir(f"{out.name}-trials", root=str(out.parent)).absolute()
    with staged_folder(out) as folder:
        write_trials(folder, search, space, seed)
    return out


def _retrain(base: Any, data: Any, search: SearchResult, space: SearchSpace, out: Path,
             command: str) -> tuple[int, Any]:  # fmt: skip
    """Train the best settings again by ``retroprop train``'s path; (exit code, model)."""
    from retroprop.cli.train import train_and_save

    best = search.best
    config = base.replace(**best.settings, seed=best.seed, out=str(out))

    def finish(folder: Path, result: Any) -> None:
        result.trials = [trial.row() for trial in search.ranked()]
        result.command = command
        write_trials(folder, search, space, base.seed)

    print(
        f"\n{len(search.trials)} trials in {search.seconds:.1f} s; retraining the best settings "
        f"(trial {best.index}, seed {best.seed})",
        flush=True,
    )
    code, model, _ = train_and_save(config, data=data, finish=finish)
    return code, model


def tune(
    *,
    trials: int = 20,
    space: SearchSpace | Mapping[str, Any] | str | Path | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    on_trial: OnTrial | None = None,
    command: str = "",
    **options: Any,
) -> Tuned:
    """Search the settings of a network for a table, then retrain and save the best.

    Parameters
    ----------
    trials : int
        Settings to try (random search).
    space : SearchSpace, mapping, path or None
        What to try (a mapping or a JSON/TOML file as :meth:`SearchSpace.from_mapping` reads);
        None: :data:`~retroprop.tune.space.DEFAULT_SPACE`.
    scheduler, workers :
        Where the trials run (:func:`~retroprop.tune.search.run_search`): None, an embedded
        ``LocalCluster``; ``"serial"``; or a Dask scheduler's address.
    on_trial : callable, optional
        ``on_trial(result, search)`` as each trial finishes.
    command : str
        The command that reproduces the search, shown in the report (default: this call).
    **options
        ``retroprop train``'s options by name: ``data`` and ``target`` (or ``dataset``),
        ``seed`` (the search seed, also the split's), ``out``, ``epochs``, ``early_stopping``...

    Returns
    -------
    Tuned

    Raises
    ------
    CLIError
        A bad option, unreadable data, or an ``out`` that cannot be written (before any trial).
    ValueError
        A bad space, ``trials`` < 1.
    """
    from retroprop.cli.outputs import check_out, default_out_dir
    from retroprop.cli.train import prepare_checked
    from retroprop.tune.trial import TrialData

    base = base_config(**options)
    search_space = _space(space)
    if not command:  # the call that gives the same trials, the seed resolved
        given = {**options, "seed": base.seed, "space": search_space.to_mapping()}
        command = f"retroprop.tune.tune(trials={trials}, " + ", ".join(
            f"{key}={value!r}" for key, value in given.items()
        ) + ")"  # fmt: skip
    if base.validation_size <= 0:
        raise ValueError("a search scores each trial on validation rows: validation_size > 0")
    data = prepare_checked(base)
    out = Path(base.out) if base.out else default_out_dir(f"tune-{data.source}")
    check_out(out, base.overwrite)
    trial_data = TrialData.from_prepared(data, base.class_weight)
    search = run_search(
        trial_data,
        base,
        search_space,
        trials,
        seed=base.seed,
        scheduler=scheduler,
        workers=workers,
        on_trial=on_trial,
    )
    if search.best is None:
        kept = keep_unscored_trials(out, search, search_space, base.seed)
        return Tuned(search, kept, 130 if search.interrupted else 1)
    code, model = _retrain(base, data, search, search_space, out, command)
    return Tuned(search, out, 130 if search.interrupted else code, model)
