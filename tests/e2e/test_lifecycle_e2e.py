"""Dataset → TrainingRun → Model → TradingSession, as a user runs it: the
operator makes each Job and the trader's Deployment, the local node runs the
real workloads, gates promote or reject, and a session on the trained model
reports why its trader cannot trade it yet."""

from __future__ import annotations

from typing import Any

import pytest
from kopf.testing import KopfRunner
from lightkube import Client

from kubetrade_dev.local_node import LocalNode
from kubetrade_testing.cluster import wait_until
from kubetrade_testing.factories import (
    condition,
    create,
    dataset,
    get,
    model,
    trading_session,
    training_run,
)

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
    assert waiting["reason"] in ("WaitingForDataset", "JobPending", "JobRunning", "JobComplete")

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

    _trade_the_promoted_model(c, namespace, "ppo-model")


def _trading(c: Client, name: str, namespace: str) -> dict[str, Any]:
    return dict(get(c, "TradingSession", name, namespace).get("status") or {})


def _trade_the_promoted_model(c: Client, namespace: str, model_name: str) -> None:
    """A session on the promoted Model gets one trader Deployment; the trader's bars
    carry prices only, so a model trained on features fails the session at start
    with the reason (no order is sent) instead of crash-looping."""
    create(c, trading_session("paper", model_name, barSeconds=0.1), namespace)
    failed = wait_until(
        lambda: s if (s := _trading(c, "paper", namespace)).get("phase") == "Failed" else None,
        timeout=180,
        what="the session's verdict",
    )
    assert failed["deploymentName"] == "paper-trader"
    ready = condition({"status": failed}, "Ready")
    assert ready is not None and ready["reason"] == "TraderError", failed
    assert "lacks features" in ready["message"] and "feed" in ready["message"]
    assert not (failed.get("trading") or {}).get("ordersToday")
