"""A hyperparameter search as a user runs it: a TrainingRun with `spec.search`
becomes an Indexed Job of tuning workers on the local node; the median pruner
stops trials early, the status counts the trials and the best trial's policy is
published as a Model whose evaluation records the Deflated Sharpe Ratio."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kopf.testing import KopfRunner
from lightkube import Client

from kubetrade_dev.local_node import LocalNode
from kubetrade_testing.cluster import wait_until
from kubetrade_testing.factories import create, dataset, get, in_phase, quick_training_run

pytestmark = pytest.mark.e2e

TRIALS, WORKERS = 12, 3


def test_a_sweep_prunes_trials_and_publishes_the_best_as_a_model(
    operator: KopfRunner, local_node: LocalNode, lightkube_client: Client, namespace: str
) -> None:
    c = lightkube_client
    create(c, dataset("prices", source={"start": "2020-01-01", "end": "2022-06-01"}), namespace)
    search = {
        "sampler": "random",
        "pruner": "median",
        "seed": 7,
        "maxTrials": TRIALS,
        "parallelism": WORKERS,
        "trialTimesteps": 640,
        "space": [
            {"name": "learningRate", "low": 1e-6, "high": 1e-2, "log": True},
            {"name": "nEpochs", "type": "int", "low": 1, "high": 2},
        ],
    }
    run = quick_training_run(
        "sweep", "prices", evalEvery=128, search=search,
        evaluation={"gates": {"minSharpe": -10.0, "minDeflatedSharpe": 0.0}},
    )  # fmt: skip
    create(c, run, namespace)
    done = wait_until(
        lambda: in_phase(c, "TrainingRun", "sweep", namespace, "Succeeded", "Failed"),
        timeout=170,
        what="the sweep",
    )
    assert done["status"]["phase"] == "Succeeded", done["status"]
    found = done["status"]["search"]
    assert found["trials"] >= TRIALS and found["running"] == 0
    assert found["pruned"] >= 1, found  # pruning visibly stopped trials
    assert found["completed"] >= 2 and set(found["bestParams"]) == {"learningRate", "nEpochs"}

    mdl = wait_until(
        lambda: in_phase(c, "Model", "sweep", namespace, "Ready", "Rejected", "Failed"),
        timeout=120,
        what="evaluation",
    )
    assert mdl["status"]["phase"] == "Ready", mdl["status"]
    assert 0.0 <= mdl["status"]["metrics"]["deflatedSharpe"] <= 1.0
    assert "minDeflatedSharpe" in [g["name"] for g in mdl["status"]["gates"]]
    # The run's output on the node's artifact volume (as test_dataset_e2e reads it).
    volume = Path(local_node.workdir) / "volumes" / namespace / "kubetrade-artifacts"
    folder = volume / mdl["spec"]["artifactUri"].split("/artifacts/", 1)[1]
    rows = json.loads((folder / "trials.json").read_text())
    assert sorted(r["number"] for r in rows) == list(range(len(rows)))  # no number twice
    assert {r["worker"] for r in rows} == set(range(WORKERS))  # every pod took trials
    card = json.loads((folder / "model_card.json").read_text())
    assert card["metrics"]["trials"] == len(rows)
    assert (
        get(c, "TrainingRun", "sweep", namespace)["status"]["search"]["bestValue"]
        == (found["bestValue"])
    )
