"""A tuning worker: pull trials from the shared study until it holds `maxTrials`,
wait for the other workers' trials to end, then publish the best.

    python -m kubetrade_workloads tune --config job.json    # one pod of the Indexed Job
    trading-cli optimize --algorithm PPO --trials 20 --parallel 4 ...   # processes

Faults: a trial that raises is recorded FAIL and the loop goes on (`catch`). A
worker that restarts first fails the trials its index left RUNNING (the Indexed
Job never runs one index twice at once), so the study completes and, as Optuna's
storage numbers trials, no number repeats. With Postgres a heartbeat also fails
trials whose worker went silent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import optuna
from optuna.storages import BaseStorage
from optuna.trial import TrialState

from ..config.jobs import TrainJob
from .objective import Objective
from .results import counts, publish_best, table, write_table
from .study import open_study, study_storage

log = logging.getLogger(__name__)
POLL_SECONDS = 2.0


def study_name(job: TrainJob) -> str:
    """One study per run output (per revision and run request)."""
    return job.output_uri.rstrip("/").rsplit("/", 1)[-1] or "kubetrade"


def fail_orphans(study: optuna.Study, worker: int) -> int:
    """Fail the trials an earlier life of this worker left RUNNING; return how many."""
    failed = 0
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if trial.user_attrs.get("worker") == worker:
            study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)  # noqa: SLF001
            failed += 1
    return failed


def wait_for_others(study: optuna.Study, seconds: float) -> None:
    """Return once no trial is RUNNING: every worker publishes the finished study."""
    deadline = time.monotonic() + seconds
    while study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
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
