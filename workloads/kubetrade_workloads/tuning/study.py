"""The study every worker shares: storage, sampler and pruner from the SearchConfig.

Storage is Postgres when the run names a Secret (its key `url`, mounted into
each pod), else Optuna's journal file beside the run's artifacts. The journal
appends under a file lock, so several processes, or pods sharing one
ReadWriteMany volume, may write it at once; an object store (s3://) has no such
lock, so an s3:// artifact root needs the Postgres Secret.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import optuna
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock

from .. import storage
from ..config.search import Direction, Pruner, Sampler, SearchConfig

JOURNAL = "study.journal"
HEARTBEAT_SECONDS = 30
"""With Postgres: a trial whose worker stopped beating for 4 intervals is failed."""
CREDENTIALS_URL = Path("/etc/kubetrade/credentials/url")


def study_storage(output_uri: str, url: str | None = None) -> BaseStorage:
    """Postgres at `url`, else the journal file under `output_uri` (file:// or a path)."""
    if url:
        with warnings.catch_warnings():
            # Optuna still labels the heartbeat experimental; it is how its docs fail
            # the trials of a dead worker, and the warning would fill each pod's log.
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return RDBStorage(
                url, heartbeat_interval=HEARTBEAT_SECONDS, grace_period=4 * HEARTBEAT_SECONDS
            )
    resolved = storage.resolve(output_uri.rstrip("/"))
    if "://" in resolved and not resolved.startswith("file://"):
        raise ValueError(
            f"the study journal needs a shared file system, not {resolved.split('://')[0]}://;"
            " set search.storageSecretRef to a Postgres URL"
        )
    folder = Path(resolved.removeprefix("file://"))
    folder.mkdir(parents=True, exist_ok=True)
    path = str(folder / JOURNAL)
    # open(O_EXCL) locks work on NFS too, where symlink locks may not.
    return JournalStorage(JournalFileBackend(path, lock_obj=JournalFileOpenLock(path)))


def sampler(search: SearchConfig, worker: int) -> optuna.samplers.BaseSampler:
    """The sampler the spec names; each worker seeds its own (seed + index)."""
    seed = None if search.seed is None else search.seed + worker
    if search.sampler == Sampler.RANDOM:
        return optuna.samplers.RandomSampler(seed=seed)
    if search.sampler == Sampler.CMAES:
        return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
    if search.sampler == Sampler.GRID:
        grid = {p.name: list(p.choices or []) for p in search.space}
        return optuna.samplers.GridSampler(grid, seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def pruner(search: SearchConfig) -> optuna.pruners.BasePruner:
    """The pruner the spec names; trials report the validation Sharpe at each evaluation."""
    if search.pruner == Pruner.MEDIAN:
        return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0)
    if search.pruner == Pruner.HYPERBAND:
        return optuna.pruners.HyperbandPruner()
    if search.pruner == Pruner.SUCCESSIVE_HALVING:
        return optuna.pruners.SuccessiveHalvingPruner()
    return optuna.pruners.NopPruner()


def open_study(
    name: str, search: SearchConfig, store: BaseStorage, worker: int = 0
) -> optuna.Study:
    """Create the study, or join it when another worker (or an earlier pod) made it."""
    return optuna.create_study(
        study_name=name,
        storage=store,
        sampler=sampler(search, worker),
        pruner=pruner(search),
        direction=(
            optuna.study.StudyDirection.MAXIMIZE
            if search.direction == Direction.MAXIMIZE
            else optuna.study.StudyDirection.MINIMIZE
        ),
        load_if_exists=True,
    )


def storage_url() -> str | None:
    """The Postgres URL a pod finds in its mounted Secret, if the run named one."""
    return CREDENTIALS_URL.read_text().strip() if CREDENTIALS_URL.exists() else None
