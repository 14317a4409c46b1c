"""Hyperparameter search workers: pruning, the best published, crashes and restarts."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.trial import TrialState
from typer.testing import CliRunner

from kubetrade_operator.cli.main import app
from kubetrade_testing import markets, training
from kubetrade_workloads.tuning import study, worker

SPACE = [
    {"name": "learningRate", "low": 1e-5, "high": 1e-2, "log": True},
    {"name": "nEpochs", "type": "int", "low": 1, "high": 3},
]


def _job(root: Path, **search: Any) -> Any:
    body = {"space": SPACE, "maxTrials": 6, "seed": 1, "trialTimesteps": 320} | search
    return training.job(root, "PPO", search=body)


def _states(root: Path, job: Any) -> list[str]:
    store = study.study_storage(job.output_uri)
    trials = optuna.load_study(study_name=worker.study_name(job), storage=store).trials
    assert [t.number for t in trials] == list(range(len(trials)))  # unique, no gaps
    return [t.state.name for t in trials]


def test_a_sweep_prunes_and_publishes_the_best_trial(tmp_path: Path) -> None:
    reports: list[dict[str, Any]] = []
    job = _job(tmp_path, maxTrials=8, pruner="median")
    summary = worker.run(job, 0, report=reports.append)
    assert summary["trials"] == 8 and summary["running"] == 0
    assert summary["completed"] + summary["pruned"] + summary["failed"] == 8
    assert summary["pruned"] >= 1 and summary["completed"] >= 2
    assert reports[-1] == summary and len(reports) == 9  # after each trial, then the end
    out = tmp_path / "out"
    card = json.loads((out / "model_card.json").read_text())
    best = tmp_path / "out" / "trials" / f"{summary['bestTrial']:04d}"
    assert (out / "policy.zip").read_bytes() == (best / "policy.zip").read_bytes()
    assert card["metrics"]["trials"] == 8 and card["metrics"]["trialSharpeVariance"] > 0
    assert card["metrics"]["validationSharpe"] == pytest.approx(summary["bestValue"])
    rows = list(csv.DictReader((out / "trials.csv").read_text().splitlines()))
    assert [r["state"] for r in rows].count("PRUNED") == summary["pruned"]
    pruned = [r for r in rows if r["state"] == "PRUNED"]
    assert all(int(r["steps"]) < 320 for r in pruned)  # stopped before the budget
    assert {"param.learningRate", "param.nEpochs"} <= set(rows[0])


def test_a_crashing_trial_is_failed_and_the_sweep_goes_on(tmp_path: Path) -> None:
    # clipRange 5 is outside PPO's bounds: that trial's config fails to validate.
    space = [{"name": "clipRange", "type": "categorical", "choices": [0.2, 5.0]}]
    job = _job(tmp_path, space=space, sampler="grid", pruner="none", maxTrials=2)
    summary = worker.run(job, 0)
    assert (summary["completed"], summary["failed"]) == (1, 1)
    assert summary["bestParams"] == {"clipRange": 0.2}
    assert sorted(_states(tmp_path, job)) == ["COMPLETE", "FAIL"]


def test_a_restarted_worker_fails_its_orphan_and_completes_the_study(tmp_path: Path) -> None:
    job = _job(tmp_path, maxTrials=3, pruner="none")
    search = job.training.search
    assert search is not None
    first = study.open_study(
        worker.study_name(job), search, study.study_storage(job.output_uri), worker=1
    )
    orphan = first.ask()  # worker 1 died mid-trial: RUNNING for ever
    orphan.set_user_attr("worker", 1)
    summary = worker.run(job, 1, store=study.study_storage(job.output_uri))
    assert summary["trials"] == 3 and summary["running"] == 0
    assert _states(tmp_path, job)[0] == TrialState.FAIL.name
    assert summary["completed"] == 2


def test_the_study_storage_refuses_an_object_store_without_postgres() -> None:
    with pytest.raises(ValueError, match="storageSecretRef"):
        study.study_storage("s3://bucket/models/run")


def test_optimize_runs_worker_processes_on_one_study(tmp_path: Path) -> None:
    dataset = markets.dataset(tmp_path / "ds", n=160)
    config = tmp_path / "search.json"
    config.write_text(json.dumps(training.config("PPO").to_wire()))
    out = tmp_path / "sweep"
    result = CliRunner().invoke(
        app,
        [
            "optimize", "--algorithm", "PPO", "--trials", "4", "--parallel", "2",
            "--dataset", dataset, "--out", str(out), "--timesteps", "128",
            "--config", str(config), "--sampler", "random",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["trials"] >= 4 and summary["running"] == 0
    rows = json.loads((out / "trials.json").read_text())
    assert sorted(r["number"] for r in rows) == list(range(len(rows)))
    assert {r["worker"] for r in rows} == {0, 1}  # both processes took trials
    assert (out / "policy.zip").exists()
