"""The model lifecycle closed, as a desk runs it on the local node: a TrainingRun
retrains on a one-minute cron, the new Model version is evaluated and shadows the
live one beside the running trader, is promoted into it without a restart (same
pod, same Lease holder), and a risk breach right after rolls it back; the order
log shows no bar decided twice and no order filled twice.

The promotion policy here promotes any challenger after 20 shadow bars
(`maxPValue: 1`, a margin far below zero), so the test does not depend on which
of two briefly trained policies trades better; the unit tests of the planner and
of the Sharpe-difference test cover the judgement itself.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from kopf.testing import KopfRunner
from lightkube import Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.coordination_v1 import Lease
from lightkube.resources.core_v1 import Event, Pod, Secret
from lightkube.types import PatchType

from kubetrade_dev.local_node import LocalNode
from kubetrade_testing.cluster import wait_until
from kubetrade_testing.factories import (
    RESOURCES,
    create,
    dataset,
    in_phase,
    quick_training_run,
    status,
    trading_session,
)

pytestmark = pytest.mark.e2e

PROMOTE_ANY = {
    "mode": "Shadow",
    "minShadowBars": 20,
    "minSharpeMargin": -1000.0,
    "maxPValue": 1.0,
    "rollbackWindowBars": 1_000_000,
}


def _session(c: Client, namespace: str) -> dict[str, Any]:
    return status(c, "TradingSession", "paper", namespace)


def _when(c: Client, namespace: str, what: str, test: Any, timeout: float = 180) -> dict[str, Any]:
    return wait_until(
        lambda: s if test(s := _session(c, namespace)) else None, timeout=timeout, what=what
    )


def _traded(s: dict[str, Any]) -> int | None:
    return ((s.get("trading") or {}).get("model") or {}).get("version")


def _trader(c: Client, namespace: str) -> tuple[str, str]:
    """The trader pod's name and the Lease holder: both must outlive every swap."""
    pods = [
        p.metadata.name
        for p in c.list(Pod, namespace=namespace, labels={"kubetrade.io/tradingsession": "paper"})
        if p.metadata.deletionTimestamp is None
    ]
    assert len(pods) == 1, pods
    lease = c.get(Lease, "paper-trader", namespace=namespace)
    return pods[0], str(lease.spec.holderIdentity)


def _events(c: Client, namespace: str) -> set[str]:
    return {
        e.reason or ""
        for e in c.list(Event, namespace=namespace)
        if e.involvedObject.name == "paper"
    }


def _patch(c: Client, kind: str, name: str, namespace: str, spec: dict[str, Any]) -> None:
    c.patch(  # type: ignore[call-overload]
        RESOURCES[kind], name, {"spec": spec}, namespace=namespace, patch_type=PatchType.MERGE
    )


def test_a_scheduled_retrain_shadows_is_promoted_live_and_rolled_back_on_a_breach(
    operator: KopfRunner,
    local_node: LocalNode,
    lightkube_client: Client,
    namespace: str,
    tmp_path: Path,
) -> None:
    c = lightkube_client
    store = tmp_path / "trades.db"
    c.create(
        Secret(metadata=ObjectMeta(name="trades"), stringData={"url": f"sqlite:///{store}"}),
        namespace=namespace,
    )
    create(c, dataset("prices", source={"start": "2020-01-01", "end": "2022-06-01"}), namespace)
    create(c, quick_training_run("ppo", "prices", schedule={"cron": "* * * * *"}), namespace)
    trained = wait_until(
        lambda: in_phase(c, "TrainingRun", "ppo", namespace, "Succeeded", "Failed"),
        timeout=300,
        what="the first training",
    )
    assert trained["status"]["phase"] == "Succeeded", trained["status"]
    wait_until(
        lambda: in_phase(c, "Model", "ppo", namespace, "Ready", "Rejected", "Failed"),
        timeout=300,
        what="the first version's evaluation",
    )
    session = trading_session(
        "paper",
        "ppo",
        barSeconds=0.1,
        risk={"profile": "aggressive"},
        promotion=PROMOTE_ANY,
        store={"urlSecretRef": {"name": "trades"}},
    )
    create(c, session, namespace)
    first = _when(c, namespace, "the trader on version 1", lambda s: _traded(s) == 1)
    assert first["model"]["version"] == 1
    pod, holder = _trader(c, namespace)

    # The cron's next minute retrains; one new version is enough for the test.
    wait_until(
        lambda: status(c, "TrainingRun", "ppo", namespace).get("lastScheduleTime"),
        timeout=150,
        what="the schedule to fire",
    )
    _patch(c, "TrainingRun", "ppo", namespace, {"schedule": {"suspend": True}})
    # 20 shadow bars take two seconds: the promotion is what there is time to see.
    promoted = _when(c, namespace, "version 2 live", lambda s: _traded(s) == 2, timeout=420)
    assert promoted["model"]["version"] == 2 and promoted["previousModel"]["version"] == 1
    last = promoted["modelHistory"][-1]
    assert last["reason"] == "Promoted" and last["fromVersion"] == 1
    shadow_bars = int(re.search(r"over (\d+) shadow bars", last["message"]).group(1))  # type: ignore[union-attr]
    assert shadow_bars >= PROMOTE_ANY["minShadowBars"]
    assert {"ChallengerStarted", "Promoted"} <= _events(c, namespace)
    assert _trader(c, namespace) == (pod, holder), "the swap restarted the trader"

    # A limit no trade can keep: the breach comes right after the promotion.
    tight = {"profile": "aggressive", "limits": {"maxDailyLoss": 0.00001, "maxDrawdown": 0.00002}}
    _patch(c, "TradingSession", "paper", namespace, {"risk": tight})
    rolled = _when(c, namespace, "the rollback to version 1", lambda s: _traded(s) == 1)
    assert rolled["model"]["version"] == 1 and rolled["refusedVersions"] == [2]
    assert [row["reason"] for row in rolled["modelHistory"]][-2:] == ["Promoted", "RolledBack"]
    assert "RolledBack" in _events(c, namespace)
    assert _trader(c, namespace) == (pod, holder), "the rollback restarted the trader"
    assert rolled.get("restarts", 0) == 0

    _patch(c, "TradingSession", "paper", namespace, {"suspend": True})
    _when(c, namespace, "suspension", lambda s: s.get("phase") == "Suspended", timeout=120)
    _no_duplicates(store)


def _no_duplicates(store: Path) -> None:
    """No bar decided twice for a symbol and side, no order filled past its quantity;
    the swaps are in the audit trail."""
    with sqlite3.connect(store) as db:
        orders = db.execute(
            "SELECT client_order_id, bar_time, symbol, side, purpose, quantity FROM orders"
        ).fetchall()
        fills = db.execute("SELECT client_order_id, quantity FROM fills").fetchall()
        swaps = db.execute(
            "SELECT detail FROM config_changes WHERE source = 'status.model'"
        ).fetchall()
    assert orders, "the session traded"
    per_decision = Counter(
        (bar, symbol, side, purpose) for _, bar, symbol, side, purpose, _ in orders
    )
    assert max(per_decision.values()) == 1, per_decision.most_common(3)
    ordered = {oid: qty for oid, *_, qty in orders}
    filled: Counter[str] = Counter()
    for oid, qty in fills:
        filled[oid] += qty
    assert all(filled[o] <= ordered[o] + 1e-9 for o in filled), "an order filled twice"
    assert len(swaps) >= 2, swaps  # the promotion and the rollback
