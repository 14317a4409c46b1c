"""Tuning workers that die: a trial left RUNNING is failed, never waited on for ever,
and the study still completes with every trial number once."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.trial import FrozenTrial, TrialState

from kubetrade_testing import training
from kubetrade_workloads.tuning import study, worker
from kubetrade_workloads.tuning.objective import Objective

SPACE = [{"name": "learningRate", "low": 1e-5, "high": 1e-2, "log": True}]


def _job(root: Path, **search: Any) -> Any:
    body = {"space": SPACE, "seed": 1, "trialTimesteps": 256, "pruner": "none"} | search
    return training.job(root, "PPO", search=body)


def _trials(job: Any) -> list[FrozenTrial]:
    store = study.study_storage(job.output_uri)
    trials = optuna.load_study(study_name=worker.study_name(job), storage=store).trials
    assert [t.number for t in trials] == list(range(len(trials)))  # unique, no gaps
    return trials


@pytest.fixture
def sigterm_restored() -> Iterator[None]:
    before = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, before)


class TerminatedInFirstTrial(Objective):
    """Trial 0 is under way (a validation reported) when the pod is deleted."""

    def __call__(self, trial: optuna.Trial) -> float:
        if trial.number > 0:
            return super().__call__(trial)
        trial.set_user_attr("worker", self.worker)
        trial.report(0.1, 32)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(30)  # the handler interrupts this
        raise AssertionError("SIGTERM did not interrupt the trial")


def test_a_terminated_worker_fails_its_trial_as_it_goes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sigterm_restored: None
) -> None:
    job = _job(tmp_path, maxTrials=3)
    worker.stop_on_sigterm()
    monkeypatch.setattr(worker, "Objective", TerminatedInFirstTrial)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        worker.run(job, 0)
    assert time.monotonic() - started < 25  # interrupted, not slept through
    assert [t.state for t in _trials(job)] == [TrialState.FAIL]  # recorded before exiting
    monkeypatch.setattr(worker, "Objective", Objective)
    summary = worker.run(job, 0)  # the pod the Indexed Job makes in its place
    assert (summary["trials"], summary["running"], summary["failed"]) == (3, 0, 1)
    assert summary["completed"] == 2 and summary["bestTrial"] in (1, 2)


def _running(store: optuna.storages.BaseStorage, job: Any, **trial: Any) -> int:
    """A RUNNING trial made as Optuna's ask makes one, with `trial`'s fields; its id."""
    search = job.training.search
    made = study.open_study(worker.study_name(job), search, store)
    template = FrozenTrial(
        **{
            "number": 0, "state": TrialState.RUNNING, "value": None,
            "datetime_start": datetime.now(UTC), "datetime_complete": None,
            "params": {}, "distributions": {}, "user_attrs": {}, "system_attrs": {},
            "intermediate_values": {}, "trial_id": 0,
        } | trial
    )  # fmt: skip
    return store.create_new_trial(made._study_id, template_trial=template)  # noqa: SLF001


def test_a_trial_no_worker_claimed_is_failed_instead_of_awaited(tmp_path: Path) -> None:
    # Its worker died between Optuna's ask and the objective naming the worker:
    # no restart recognises it, and every worker waits for RUNNING trials to end.
    job = _job(tmp_path, maxTrials=2)
    store = study.study_storage(job.output_uri)
    long_ago = datetime.now(UTC) - timedelta(seconds=worker.UNCLAIMED_SECONDS + 60)
    _running(store, job, datetime_start=long_ago)
    summary = worker.run(job, 1, store=store, wait_seconds=20)
    assert (summary["trials"], summary["running"]) == (2, 0)
    assert [t.state for t in _trials(job)] == [TrialState.FAIL, TrialState.COMPLETE]


def test_only_orphans_are_failed() -> None:
    now = datetime.now(UTC)

    def trial(started: datetime, **attrs: Any) -> FrozenTrial:
        return FrozenTrial(0, TrialState.RUNNING, None, started, None, {}, {}, attrs, {}, {}, 0)

    just_now = trial(now - timedelta(seconds=5))
    assert not worker.orphaned(just_now, 0, now)  # being claimed by its live worker
    assert worker.orphaned(trial(now - timedelta(hours=1)), None, now)
    assert worker.orphaned(trial(now, worker=2), 2, now)  # an earlier life of worker 2
    assert not worker.orphaned(trial(now - timedelta(hours=1), worker=2), 1, now)
    assert not worker.orphaned(trial(now - timedelta(hours=1), worker=2), None, now)
    naive = trial((now - timedelta(hours=1)).astimezone().replace(tzinfo=None))
    assert worker.orphaned(naive, None, now)  # as RDBStorage returns times


def test_an_orphan_its_old_life_finished_meanwhile_is_left_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The pod being deleted still records its trial while its replacement starts.
    job = _job(tmp_path, maxTrials=2)
    store = study.study_storage(job.output_uri)
    trial_id = _running(store, job, user_attrs={"worker": 1})
    joined = study.open_study(worker.study_name(job), job.training.search, store, worker=1)
    seen = joined.get_trials(deepcopy=True, states=(TrialState.RUNNING,))
    store.set_trial_state_values(trial_id, TrialState.FAIL)  # the old life, first
    monkeypatch.setattr(joined, "get_trials", lambda **_: seen)  # the replacement's view
    assert worker.fail_orphans(joined, 1) == 0
    assert [t.state for t in _trials(job)] == [TrialState.FAIL]
