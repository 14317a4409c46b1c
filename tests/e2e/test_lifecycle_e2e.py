"""Dataset → TrainingRun → Model → TradingSession, as a user runs it: the
operator makes each Job and the trader's Deployment, the local node runs the
real workloads, gates promote or reject, the trader trades the promoted model
(its Dataset features made live from the synthetic stream) and suspends."""

from __future__ import annotations

from typing import Any

import pytest
from kopf.testing import KopfRunner
from lightkube import Client
from lightkube.types import PatchType

from kubetrade_dev.local_node import LocalNode
from kubetrade_testing.cluster import wait_until
from kubetrade_testing.factories import (
    RESOURCES,
    condition,
    create,
    dataset,
    get,
    in_phase,
    model,
    quick_training_run,
    status,
    trading_session,
)

pytestmark = pytest.mark.e2e


def test_a_trained_model_is_evaluated_and_promoted_or_rejected_by_its_gates(
    operator: KopfRunner, local_node: LocalNode, lightkube_client: Client, namespace: str
) -> None:
    c = lightkube_client
    create(c, dataset("prices", source={"start": "2020-01-01", "end": "2022-06-01"}), namespace)
    run = quick_training_run("ppo", "prices", modelName="ppo-model")
    # Created before the Dataset is done: the run waits, saying why.
    create(c, run, namespace)
    waiting = wait_until(
        lambda: condition(get(c, "TrainingRun", "ppo", namespace), "Succeeded"), what="a condition"
    )
    assert waiting["reason"] in ("WaitingForDataset", "JobPending", "JobRunning", "JobComplete")

    done = wait_until(
        lambda: in_phase(c, "TrainingRun", "ppo", namespace, "Succeeded", "Failed"),
        timeout=240,
        what="training",
    )
    assert done["status"]["phase"] == "Succeeded", done["status"]
    assert done["status"]["modelName"] == "ppo-model"
    assert done["status"]["progress"]["steps"] >= 256

    mdl = wait_until(
        lambda: in_phase(c, "Model", "ppo-model", namespace, "Ready", "Rejected", "Failed"),
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
        lambda: in_phase(c, "Model", "strict", namespace, "Ready", "Rejected", "Failed"),
        timeout=240,
        what="rejection",
    )
    assert rejected["status"]["phase"] == "Rejected", rejected["status"]
    ready = condition(rejected, "Ready")
    assert ready is not None and (ready["status"], ready["reason"]) == ("False", "GatesFailed")
    assert "vs minimum 19" in ready["message"]

    _trade_the_promoted_model(c, namespace, "ppo-model")


def _trading(c: Client, name: str, namespace: str) -> dict[str, Any]:
    return status(c, "TradingSession", name, namespace)


def _trade_the_promoted_model(c: Client, namespace: str, model_name: str) -> None:
    """One trader Deployment trades the Ready Model (trained on the Dataset's
    features, which the trader makes from the synthetic stream's prices) until
    it holds positions; suspend flattens and stops it."""
    create(c, trading_session("paper", model_name, barSeconds=0.1), namespace)
    trading = wait_until(
        lambda: (
            s
            if (s := _trading(c, "paper", namespace)).get("phase") == "Running"
            and (s.get("trading") or {}).get("positions")
            else None
        ),
        timeout=180,
        what="the trader to take positions",
    )
    assert trading["deploymentName"] == "paper-trader"
    assert trading["trading"]["equity"] > 0 and trading["trading"]["heartbeat"]
    assert trading["trading"]["tradingState"] != "HALTED"  # trading, if maybe reducing
    assert trading["effectiveLimits"], "the merged risk limits are on the resource"
    ready = condition({"status": trading}, "Ready")
    assert ready is not None and ready["reason"] == "TraderRunning", trading

    c.patch(  # type: ignore[call-overload]
        RESOURCES["TradingSession"],
        "paper",
        {"spec": {"suspend": True}},
        namespace=namespace,
        patch_type=PatchType.MERGE,
    )
    stopped = wait_until(
        lambda: s if (s := _trading(c, "paper", namespace)).get("phase") == "Suspended" else None,
        timeout=120,
        what="suspension",
    )
    suspended = condition({"status": stopped}, "Suspended")
    assert suspended is not None and suspended["reason"] == "Flattened", stopped
    assert stopped["trading"]["positions"] == []
