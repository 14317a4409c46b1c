"""Drift against a real API server: the trader's report (written here as the trader
writes it) past the session's thresholds turns `Drifted` True, raises a Warning Event
and, with `action: Retrain`, puts the run-request annotation on the Model's
TrainingRun, once per cooldown."""

from __future__ import annotations

from typing import Any

import pytest
from kopf.testing import KopfRunner
from lightkube import Client
from lightkube.resources.core_v1 import Event
from lightkube.types import PatchType

from kubetrade_operator.builders.schedule import RUN_REASON, RUN_REQUESTED_AT
from kubetrade_testing.cluster import wait_until
from kubetrade_testing.drift import drift_report
from kubetrade_testing.factories import (
    RESOURCES,
    create,
    get,
    mark_evaluated,
    model,
    status,
    trading_session,
    training_run,
)

pytestmark = pytest.mark.integration

CALM = {"log_return": {"psi": 0.03, "ksPValue": 0.7}, "range": {"psi": 0.05, "ksPValue": 0.4}}
SHIFTED = CALM | {"range": {"psi": 0.42, "ksPValue": 1e-7}}


def _report(client: Client, namespace: str, bars: int, features: dict[str, Any]) -> None:
    """Merge-patch `status.trading.drift` as the trader's publisher does."""
    client.patch(
        RESOURCES["TradingSession"].Status,
        "ts",
        {"status": {"trading": {"drift": drift_report(bars, features)}}},
        namespace=namespace,
        patch_type=PatchType.MERGE,
    )


def _drifted(client: Client, namespace: str, state: str, contains: str = "") -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        conds = status(client, "TradingSession", "ts", namespace).get("conditions") or []
        cond = next((c for c in conds if c["type"] == "Drifted"), None)
        ok = cond is not None and cond["status"] == state and contains in cond["message"]
        return cond if ok else None

    return wait_until(found, what=f"Drifted={state} {contains}")


def _annotations(client: Client, namespace: str) -> dict[str, str]:
    return dict(get(client, "TrainingRun", "tr", namespace)["metadata"].get("annotations") or {})


def test_drift_past_the_threshold_sets_the_condition_an_event_and_one_retrain_request(
    operator: KopfRunner, lightkube_client: Client, namespace: str
) -> None:
    create(lightkube_client, training_run("tr"), namespace)
    create(lightkube_client, model("m", trainingRunRef={"name": "tr"}), namespace)
    wait_until(lambda: mark_evaluated(lightkube_client, "m", namespace), what="a Ready Model")
    drift = {"minBars": 20, "action": "Retrain", "cooldownMinutes": 60}
    create(lightkube_client, trading_session("ts", "m", drift=drift), namespace)
    _drifted(lightkube_client, namespace, "Unknown", "has not reported")

    _report(lightkube_client, namespace, 10, SHIFTED)  # too few bars: no verdict yet
    _drifted(lightkube_client, namespace, "Unknown", "10 of 20 bars")
    _report(lightkube_client, namespace, 40, CALM)
    _drifted(lightkube_client, namespace, "False", "max PSI 0.05 (range)")
    assert RUN_REQUESTED_AT not in _annotations(lightkube_client, namespace)

    _report(lightkube_client, namespace, 60, SHIFTED)
    cond = _drifted(lightkube_client, namespace, "True", "feature range: PSI 0.42")
    assert cond["reason"] == "FeatureDrift"
    asked = wait_until(
        lambda: _annotations(lightkube_client, namespace).get(RUN_REQUESTED_AT),
        what="the run request on the TrainingRun",
    )
    assert _annotations(lightkube_client, namespace)[RUN_REASON] == "drift"
    record = status(lightkube_client, "TradingSession", "ts", namespace)["lastRetrainRequest"]
    assert record["time"] == asked and record["trainingRun"] == "tr"

    def events() -> set[str] | None:
        reasons = {
            str(e.reason)
            for e in lightkube_client.list(Event, namespace=namespace)
            if e.involvedObject.name == "ts" and e.type == "Warning"
        }
        return reasons if {"FeatureDrift", "RetrainRequested"} <= reasons else None

    wait_until(events, what="the Warning Events")

    # Still drifted, within the cooldown: the condition follows the numbers, no new request.
    _report(lightkube_client, namespace, 80, CALM | {"range": {"psi": 0.55, "ksPValue": 1e-9}})
    _drifted(lightkube_client, namespace, "True", "PSI 0.55")
    assert _annotations(lightkube_client, namespace)[RUN_REQUESTED_AT] == asked
    warnings = [
        e
        for e in lightkube_client.list(Event, namespace=namespace)
        if e.involvedObject.name == "ts" and e.reason == "RetrainRequested"
    ]
    assert sum(e.count or 1 for e in warnings) == 1
