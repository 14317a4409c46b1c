"""Dataset → TrainingRun → Model, as a user runs it: the operator makes each
Job, the local node runs the real workloads, gates promote or reject."""

from __future__ import annotations

from typing import Any

import pytest
from kopf.testing import KopfRunner
from lightkube import Client

from kubetrade_dev.local_node import LocalNode
from kubetrade_testing.cluster import wait_until
from kubetrade_testing.factories import condition, create, dataset, get, model, training_run

pytestmark = pytest.mark.e2e


def _phase(
    client: Client, kind: str, name: str, namespace: str, *done: str
) -> dict[str, Any] | None:
    obj = get(client, kind, name, namespace)
    return obj if (obj.get("status") or {}).get("phase") in done else None


def test_a_trained_model_is_evaluated_and_promoted_or_rejected_by_its_gates(
    operator: KopfRunner, local_node: LocalNode, lightkube_client: Client, namespace: str
) -> None:
    c = lightkube_client
    create(c, dataset("prices", source={"start": "2020-01-01", "end": "2022-06-01"}), namespace)
    run = training_run(
        "ppo",
        dataset_name="prices",
        modelName="ppo-model",
        totalTimesteps=256,
        ppo={"nSteps": 64, "batchSize": 32, "nEpochs": 1},
        environment={"window": 10},
        evaluation={"gates": {"minSharpe": -10.0}},
    )
    # Created before the Dataset is done: the run waits, saying why.
    create(c, run, namespace)
    waiting = wait_until(
        lambda: condition(get(c, "TrainingRun", "ppo", namespace), "Succeeded"), what="a condition"
    )
    assert waiting["reason"] in ("WaitingForDataset", "JobCreated", "JobRunning", "JobComplete")

    done = wait_until(
        lambda: _phase(c, "TrainingRun", "ppo", namespace, "Succeeded", "Failed"),
        timeout=240,
        what="training",
    )
    assert done["status"]["phase"] == "Succeeded", done["status"]
    assert done["status"]["modelName"] == "ppo-model"
    assert done["status"]["progress"]["steps"] >= 256

    mdl = wait_until(
        lambda: _phase(c, "Model", "ppo-model", namespace, "Ready", "Rejected", "Failed"),
        timeout=240,
        what="evaluation",
    )
    assert mdl["status"]["phase"] == "Ready", mdl["status"]
    assert mdl["metadata"]["labels"]["kubetrade.io/trainingrun"] == "ppo"
    assert (
        "sharpe" in mdl["status"]["metrics"] and "totalReturn" in mdl["status"]["benchmarkMetrics"]
    )
    assert [g["name"] for g in mdl["status"]["gates"]] == ["minSharpe"]

    # The same policy judged by a gate it cannot pass.
    strict = model(
        "strict",
        dataset_name="prices",
        artifactUri=mdl["spec"]["artifactUri"],
        gates={"minSharpe": 19.0},
    )
    create(c, strict, namespace)
    rejected = wait_until(
        lambda: _phase(c, "Model", "strict", namespace, "Ready", "Rejected", "Failed"),
        timeout=240,
        what="rejection",
    )
    assert rejected["status"]["phase"] == "Rejected", rejected["status"]
    ready = condition(rejected, "Ready")
    assert ready is not None and (ready["status"], ready["reason"]) == ("False", "GatesFailed")
    assert "vs minimum 19" in ready["message"]
