"""Two tuning workers share one study in a real Postgres (the storage a TrainingRun's
`search.storageSecretRef` names): every trial number once, the study complete, and
a restarted worker's orphan failed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.storages import RDBStorage
from optuna.trial import TrialState

from kubetrade_testing import markets, training
from kubetrade_workloads.tuning import study, worker

pytestmark = pytest.mark.integration

SPACE = [{"name": "learningRate", "low": 1e-5, "high": 1e-2, "log": True}]


def _job(root: Path, dataset: str) -> Any:
    search = {"space": SPACE, "sampler": "random", "pruner": "median", "maxTrials": 6,
              "parallelism": 2, "trialTimesteps": 256, "seed": 3}  # fmt: skip
    return training.job(root, "PPO", dataset=dataset, search=search, evalEvery=64)


@pytest.fixture
def opened() -> Iterator[list[Any]]:
    """Storages the test opens, closed after it: a psycopg connection left to the
    garbage collector warns (an error) in whichever later test collects it."""
    stores: list[Any] = []
    yield stores
    for store in stores:
        if isinstance(store, RDBStorage):
            store.remove_session()
            store.engine.dispose()


def test_two_workers_on_postgres_complete_one_study(
    tmp_path: Path, postgres_url: str, opened: list[Any]
) -> None:
    dataset = markets.dataset(tmp_path / "dataset", n=160)
    job = _job(tmp_path, dataset)
    search = job.training.search
    # Worker 1 died mid-trial in an earlier life: its trial is RUNNING.
    # (Storage without the heartbeat: Optuna warns when ask() runs beside one.)
    plain = optuna.storages.RDBStorage(postgres_url)
    opened.append(plain)
    study.open_study(worker.study_name(job), search, plain).ask().set_user_attr("worker", 1)
    summaries: dict[int, dict[str, Any]] = {}
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            store = study.study_storage(job.output_uri, postgres_url)
            opened.append(store)
            summaries[index] = worker.run(job, index, store=store)
        except BaseException as err:  # noqa: BLE001 - reported by the test thread
            errors.append(err)

    threads = [threading.Thread(target=work, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not errors, errors
    reader = study.study_storage("", postgres_url)
    opened.append(reader)
    trials = optuna.load_study(study_name=worker.study_name(job), storage=reader).trials
    assert sorted(t.number for t in trials) == list(range(len(trials)))
    assert len(trials) >= 6 and trials[0].state == TrialState.FAIL  # the orphan
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    assert {t.user_attrs.get("worker") for t in trials[1:]} == {0, 1}
    assert summaries[0]["bestValue"] == summaries[1]["bestValue"]
    assert (tmp_path / "out" / "policy.zip").exists()
