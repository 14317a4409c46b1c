"""A tuning worker: pull trials from the shared study until it holds `maxTrials`,
wait for the other workers' trials to end, then publish the best.

    python -m kubetrade_workloads tune --config job.json    # one pod of the Indexed Job
    trading-cli optimize --algorithm PPO --trials 20 --parallel 4 ...   # processes

Faults: a trial that raises is recorded FAIL and the loop goes on (`catch`). A
pod told to stop (SIGTERM: deleted, evicted, preempted) records its running trial
FAIL before it exits. A worker that restarts after a harder death (SIGKILL, a lost
node) first fails the trials its index left RUNNING (the Indexed Job replaces a
pod under the same index), and a trial RUNNING with no worker named on it long
after it began lost its worker between Optuna's ask and the objective's first
line; any worker fails those. So the study completes and, as Optuna's storage
numbers trials, no number repeats. With Postgres a heartbeat also fails trials
whose worker went silent.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType
from typing import Any

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.storages import BaseStorage
from optuna.trial import TrialState

from ..config.jobs import TrainJob
from .objective import Objective
from .results import counts, publish_best, table, write_table
from .study import open_study, study_storage

log = logging.getLogger(__name__)
POLL_SECONDS = 2.0
UNCLAIMED_SECONDS = 300.0
"""A RUNNING trial naming no worker this long after it began has lost its worker:
the objective names it first thing, a moment after Optuna's ask."""


def study_name(job: TrainJob) -> str:
    """One study per run output (per revision and run request)."""
    return job.output_uri.rstrip("/").rsplit("/", 1)[-1] or "kubetrade"


def orphaned(trial: optuna.trial.FrozenTrial, worker: int | None, now: datetime) -> bool:
    """Whether RUNNING `trial` has no live worker: an earlier life of `worker` ran it
    (None: no worker restarted), or none claimed it in `UNCLAIMED_SECONDS`."""
    owner = trial.user_attrs.get("worker")
    if owner is not None:
        return worker is not None and owner == worker
    started = trial.datetime_start
    if started is None:
        return False
    if started.tzinfo is None:
        started = started.astimezone()  # RDBStorage keeps naive local times
    return (now - started).total_seconds() > UNCLAIMED_SECONDS


def fail_orphans(study: optuna.Study, worker: int | None) -> int:
    """Fail the RUNNING trials that have no live worker (see `orphaned`); return how many."""
    now = datetime.now(UTC)
    failed = 0
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if not orphaned(trial, worker, now):
            continue
        try:
            study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)  # noqa: SLF001
        except UpdateFinishedTrialError:
            continue  # its stopping worker recorded it first
        failed += 1
    return failed


def stop_on_sigterm() -> None:
    """Make SIGTERM raise KeyboardInterrupt in the main thread: Optuna then records
    the running trial FAIL before the exception ends the process (the default
    action would end it at once, leaving the trial RUNNING)."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)


def wait_for_others(study: optuna.Study, seconds: float) -> None:
    """Return once no trial is RUNNING: every worker publishes the finished study.
    Unclaimed trials are failed on the way, so one cannot hold every worker here."""
    deadline = time.monotonic() + seconds
    while study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if fail_orphans(study, None):
            continue
        if time.monotonic() > deadline:
            raise TimeoutError("other workers' trials did not finish")
        time.sleep(POLL_SECONDS)


def run(
    job: TrainJob,
    worker: int = 0,
    *,
    store: BaseStorage | None = None,
    report: Callable[[dict[str, Any]], object] | None = None,
    wait_seconds: float = 24 * 3600.0,
) -> dict[str, Any]:
    """Work the study to `maxTrials`, publish the best trial; return the summary."""
    search = job.training.search
    if search is None:
        raise ValueError("the tune workload needs training.search")
    store = store or study_storage(job.output_uri)
    study = open_study(study_name(job), search, store, worker)
    if orphans := fail_orphans(study, worker):
        log.warning("worker %d failed %d trial(s) its last life left running", worker, orphans)

    def after_trial(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        log.info("trial %d %s value=%s", trial.number, trial.state.name, trial.value)
        if report:
            report(counts(study))
        if len(study.get_trials(deepcopy=False)) >= search.max_trials:
            study.stop()

    if len(study.get_trials(deepcopy=False)) < search.max_trials:
        study.optimize(
            Objective(job, search, worker),
            callbacks=[after_trial],
            catch=(Exception,),  # a crashing trial is FAIL; the sweep goes on
        )
    wait_for_others(study, wait_seconds)
    summary = counts(study)
    write_table(job.output_uri, table(study))
    if summary["completed"]:
        summary["modelUri"] = publish_best(study, job.output_uri)
    if report:
        report(summary)
    if not summary["completed"]:
        raise RuntimeError(f"no trial of {summary['trials']} completed")
    return summary
