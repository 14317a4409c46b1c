"""The trader against a real API server: its Lease, live risk edits, status and suspend.

The operator does not run here: the TradingSession is created by hand and the
trader is started in-process with the session as its owner, as its pod would.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lightkube import Client
from lightkube.resources.coordination_v1 import Lease
from lightkube.types import PatchType

from kubetrade_testing.cluster import wait_until
from kubetrade_testing.factories import RESOURCES, create, trading_session
from kubetrade_testing.factories import status as status_of
from kubetrade_testing.trading import trade_job, trade_store
from kubetrade_workloads.config import TradeJob
from kubetrade_workloads.trading.job import Outcome, Runtime, run
from kubetrade_workloads.trading.lease import KubeLease
from kubetrade_workloads.trading.metrics import TraderMetrics
from kubetrade_workloads.trading.spec_watch import SpecWatcher

SESSION = RESOURCES["TradingSession"]
FAST = {"duration": 3.0, "renew_every": 0.5, "renew_deadline": 2.0, "retry_every": 0.2}


@pytest.fixture
def cluster_env(kubeconfig: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The trader finds the API server as a pod of the local node would."""
    monkeypatch.setenv("KUBETRADE_KUBECONFIG", str(kubeconfig))


# The session's trading spec, as the resource and its trader's job both carry it.
SPEC: dict[str, Any] = {
    "symbols": ["AAPL", "MSFT", "NVDA"],
    "barSeconds": 0.05,
    "risk": {"profile": "aggressive"},
}


def _job(tmp_path: Path, client: Client, namespace: str, name: str) -> TradeJob:
    obj = client.get(SESSION, name, namespace=namespace)
    base = trade_job(tmp_path, session=f"{namespace}/{name}", **SPEC)
    owner = {
        "apiVersion": "kubetrade.io/v1alpha1",
        "kind": "TradingSession",
        "name": name,
        "namespace": namespace,
        "uid": obj.metadata.uid,
    }
    return TradeJob.model_validate(base.to_wire() | {"owner": owner, "lease": True})


class Trader:
    """One trader in a thread, as one pod."""

    def __init__(self, job: TradeJob, identity: str) -> None:
        self.lease = KubeLease(f"{job.owner.name}-trader", job.owner.namespace, identity, **FAST)
        self.watcher = SpecWatcher(job.owner, job.trading.risk, every=0.3)
        self.runtime = Runtime(
            lease=self.lease, watcher=self.watcher, metrics=TraderMetrics(), status_every=0.3
        )
        self.outcome: Outcome | None = None
        self.thread = threading.Thread(target=self._run, args=(job,), daemon=True)

    def _run(self, job: TradeJob) -> None:
        self.outcome = run(job, self.runtime)

    def start(self) -> Trader:
        self.thread.start()
        return self

    def stop(self) -> Outcome:
        self.runtime.stop.set()
        self.thread.join(timeout=30)
        assert self.outcome is not None
        return self.outcome


def _trading(client: Client, namespace: str, name: str) -> dict[str, Any]:
    return status_of(client, "TradingSession", name, namespace)


@pytest.fixture
def session(
    lightkube_client: Client, namespace: str, crds: list[str], cluster_env: None
) -> Iterator[tuple[Client, str, str]]:
    create(lightkube_client, trading_session("paper", "baseline", **SPEC), namespace)
    yield lightkube_client, namespace, "paper"


def test_one_trader_holds_the_lease_follows_risk_edits_and_flattens_on_suspend(
    session: tuple[Client, str, str], tmp_path: Path
) -> None:
    client, namespace, name = session
    job = _job(tmp_path, client, namespace, name)
    first = Trader(job, "trader-a").start()
    status = wait_until(
        lambda: (
            _trading(client, namespace, name).get("trading", {}).get("heartbeat")
            and _trading(client, namespace, name)
        ),
        timeout=60,
        what="the trader's first status report",
    )
    assert status["trading"]["tradingState"] != "HALTED"  # a fresh, reconciled session trades
    assert status["trading"]["reconciled"] is True
    assert status["effectiveLimits"]["maxPositionWeight"] == 0.4
    assert (
        client.get(Lease, f"{name}-trader", namespace=namespace).spec.holderIdentity == "trader-a"
    )

    # A second trader for the same session waits: two traders never trade one session.
    second = KubeLease(f"{name}-trader", namespace, "trader-b", **FAST)
    gave_up = threading.Event()
    threading.Timer(1.5, gave_up.set).start()
    assert second.acquire(gave_up) is False

    # Tightening a limit reaches the running trader within seconds, without a restart.
    patch = {"spec": {"risk": {"profile": "aggressive", "limits": {"maxPositionWeight": 0.05}}}}
    client.patch(SESSION, name, patch, namespace=namespace, patch_type=PatchType.MERGE)
    wait_until(
        lambda: (
            _trading(client, namespace, name).get("effectiveLimits", {}).get("maxPositionWeight")
            == 0.05
        ),
        timeout=10,
        what="the edited limit in status (within seconds)",
    )

    # Suspend: the trader flattens and says so; the operator would then scale it to zero.
    client.patch(
        SESSION, name, {"spec": {"suspend": True}}, namespace=namespace, patch_type=PatchType.MERGE
    )
    wait_until(
        lambda: _trading(client, namespace, name).get("trading", {}).get("flat") is True,
        timeout=30,
        what="flat after suspend",
    )
    assert _trading(client, namespace, name)["trading"]["positions"] == []

    out = first.stop()
    assert out.code == 0
    # Released on a clean stop: the successor takes over at once.
    assert not client.get(Lease, f"{name}-trader", namespace=namespace).spec.holderIdentity
    takeover = threading.Event()
    assert second.acquire(takeover) is True
    second.release()

    with trade_store(tmp_path) as store:
        audit = store.config_changes(job.session_id)
    sources = [a["source"] for a in audit]
    assert sources[:1] == ["start"] and "spec.risk" in sources and "spec.suspend" in sources
    risk_edit = next(a for a in audit if a["source"] == "spec.risk")
    assert "maxPositionWeight 0.4 -> 0.05" in risk_edit["detail"]


def test_a_trader_whose_lease_is_taken_stops_trading(
    session: tuple[Client, str, str], tmp_path: Path
) -> None:
    client, namespace, name = session
    job = _job(tmp_path, client, namespace, name)
    trader = Trader(job, "trader-a").start()
    wait_until(lambda: trader.lease.held, timeout=60, what="the lease")
    lease = client.get(Lease, f"{name}-trader", namespace=namespace)
    taken = {"spec": {"holderIdentity": "intruder"}}
    client.patch(Lease, lease.metadata.name, taken, namespace=namespace, patch_type=PatchType.MERGE)
    trader.thread.join(timeout=20)
    assert trader.outcome is not None and trader.outcome.code == 3
    assert "taken by intruder" in trader.lease.lost_reason
    assert (
        client.get(Lease, f"{name}-trader", namespace=namespace).spec.holderIdentity == "intruder"
    )


def _pick(
    client: Client, namespace: str, name: str, model: str, challenger: str | None = None
) -> None:
    """Write `status.model` and `status.challenger` as the operator would."""

    def choice(uri: str | None) -> dict[str, Any] | None:
        if uri is None:
            return None  # merge-patch null: no challenger
        version = 2 if "momentum" in uri else 1
        return {
            "name": "baseline",
            "version": version,
            "artifactUri": uri,
            "since": "2026-12-06T12:00:00Z",
        }

    patch = {"status": {"model": choice(model), "challenger": choice(challenger)}}
    client.patch(SESSION.Status, name, patch, namespace=namespace, patch_type=PatchType.MERGE)


def test_the_trader_follows_champion_and_challenger_without_a_restart(
    session: tuple[Client, str, str], tmp_path: Path
) -> None:
    client, namespace, name = session
    hold, momentum = "baseline:buy-and-hold", "baseline:momentum?window=5&top=1"
    _pick(client, namespace, name, hold)  # promoted before the trader (re)starts
    job = _job(tmp_path, client, namespace, name)  # its config names the crossover
    trader = Trader(job, "trader-a").start()

    def trading() -> dict[str, Any]:
        found: dict[str, Any] = _trading(client, namespace, name).get("trading") or {}
        return found

    wait_until(
        lambda: (trading().get("model") or {}).get("artifactUri") == hold,
        timeout=60,
        what="the trader on status.model from its start",
    )
    assert trading()["model"]["version"] == 1

    _pick(client, namespace, name, hold, challenger=momentum)
    shadow = wait_until(
        lambda: (trading().get("shadow") or {}).get("bars", 0) >= 12 and trading()["shadow"],
        timeout=60,
        what="the challenger's shadow report",
    )
    assert shadow["artifactUri"] == momentum and shadow["version"] == 2
    assert shadow.get("error") is None and 0.0 <= shadow["pValue"] <= 1.0

    _pick(client, namespace, name, momentum)  # promoted: champion now, no challenger
    wait_until(
        lambda: (
            (trading().get("model") or {}).get("artifactUri") == momentum
            and "shadow" not in trading()
        ),
        timeout=30,
        what="the promoted challenger trading, its shadow report gone",
    )
    assert trading()["model"]["version"] == 2
    # The same trader all along: its one run still going, the Lease never changed hands.
    assert trader.thread.is_alive() and trader.outcome is None
    lease = client.get(Lease, f"{name}-trader", namespace=namespace)
    assert lease.spec.holderIdentity == "trader-a" and not lease.spec.leaseTransitions
    out = trader.stop()
    assert out.code == 0
    with trade_store(tmp_path) as store:
        audit = [a for a in store.config_changes(job.session_id) if a["source"] == "status.model"]
    assert [a["after"]["artifactUri"] for a in audit] == [momentum]
