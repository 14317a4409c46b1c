"""What the trader shows and sends: status, metrics, publishing, alerts, spec edits."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from prometheus_client import generate_latest

from kubetrade_operator.api.trading_session import TradingState as StatusSchema
from kubetrade_workloads.config import RiskConfig
from kubetrade_workloads.config.jobs import OwnerRef
from kubetrade_workloads.config.trading import Severity
from kubetrade_workloads.risk.events import RiskEvent, RiskEventKind, TradingState
from kubetrade_workloads.trading.alerts import Alert, Alerter, from_risk_event
from kubetrade_workloads.trading.alerts.alerter import RANK
from kubetrade_workloads.trading.metrics import TraderMetrics
from kubetrade_workloads.trading.orders import Counts
from kubetrade_workloads.trading.publish import Publisher
from kubetrade_workloads.trading.snapshot import PositionView, Snapshot
from kubetrade_workloads.trading.spec_watch import SpecWatcher

NOW = dt.datetime(2024, 3, 1, 21, tzinfo=dt.UTC)
OWNER = OwnerRef(
    api_version="kubetrade.io/v1alpha1", kind="TradingSession", name="s", namespace="n", uid="u"
)


def _snapshot(**changes: object) -> Snapshot:
    base: dict[str, object] = dict(
        session_id="n/s",
        equity=101_234.567,
        cash=50_000.0,
        day_pnl=-12.3,
        total_pnl=1_234.567,
        drawdown=0.0123456789,
        var=0.021,
        positions=(PositionView("AAPL", 10.0, 1_800.0, 25.0),),
        orders_today=3,
        last_decision="2024-03-01T00:00:00Z: 1 orders; targets AAPL 0.20",
        heartbeat=NOW,
        trading_state="REDUCING",
        breaker_state="ok",
        state_reason="maxVar: VaR above limit",
        reconciled=True,
        reconcile_message="1 positions match the venue",
        flat=None,
        effective_limits={"maxVar": 0.04},
        bar_time=NOW,
    )
    return Snapshot(**(base | changes))  # type: ignore[arg-type]


def test_the_status_carries_every_field_the_session_shows() -> None:
    model = {
        "version": 3,
        "artifactUri": "file:///m/v3",
        "since": "2024-03-01T20:00:00Z",
        "bars": 7,
    }
    status = _snapshot(model=model, drift={"bars": 3}).status()
    trading = status["trading"]
    assert set(trading) == {
        "model",
        "shadow",
        "drift",
        "equity",
        "cash",
        "dayPnl",
        "totalPnl",
        "drawdown",
        "var",
        "positions",
        "ordersToday",
        "lastDecision",
        "heartbeat",
        "tradingState",
        "breakerState",
        "reconciled",
        "reconcileMessage",
        "flat",
        "error",
    }
    # Every field is one the TradingSession schema keeps (the API server prunes others).
    assert set(trading) == {f.alias for f in StatusSchema.model_fields.values()}
    assert trading["error"] is None  # a trading trader clears a start-up error
    assert trading["equity"] == 101_234.57 and trading["heartbeat"] == "2024-03-01T21:00:00Z"
    assert trading["positions"] == [
        {"symbol": "AAPL", "quantity": 10.0, "marketValue": 1800.0, "unrealizedPnl": 25.0}
    ]
    assert trading["flat"] is None  # merge-patch null: the field is removed
    assert trading["shadow"] is None  # no challenger: a withdrawn one's report goes
    assert StatusSchema.model_validate(trading).model is not None
    assert status["effectiveLimits"] == {"maxVar": 0.04}
    assert _snapshot().cache()["stateReason"] == "maxVar: VaR above limit"


def test_metrics_follow_snapshots_decisions_and_the_router() -> None:
    metrics = TraderMetrics()
    metrics.snapshot(_snapshot())
    metrics.decision(0.004, refused=2)
    metrics.router(Counts(acknowledged=5, rejected=1, retries=2, fills=4))
    metrics.router(Counts(acknowledged=7, rejected=1, retries=2, fills=6))
    text = generate_latest(metrics.registry).decode()
    assert "kubetrade_trader_equity 101234.567" in text
    assert 'kubetrade_trader_state{state="REDUCING"} 1.0' in text
    assert 'kubetrade_trader_orders_total{outcome="sent"} 7.0' in text
    assert 'kubetrade_trader_orders_total{outcome="refused"} 2.0' in text
    assert "kubetrade_trader_fills_total 6.0" in text
    assert 'kubetrade_trader_decision_latency_seconds_bucket{le="0.005"} 1.0' in text
    assert "kubetrade_trader_drift_psi_max NaN" in text  # no figure yet: not a stale one


def test_drift_and_shadow_gauges_follow_the_report_and_clear_when_it_goes() -> None:
    metrics = TraderMetrics()
    drift = {"maxPsi": 0.31, "decay": {"pValue": 0.004}}
    metrics.snapshot(_snapshot(drift=drift, shadow={"sharpeDiff": 0.42, "bars": 120}))
    text = generate_latest(metrics.registry).decode()
    assert "kubetrade_trader_drift_psi_max 0.31" in text
    assert "kubetrade_trader_decay_p_value 0.004" in text
    assert "kubetrade_trader_shadow_sharpe_diff 0.42" in text
    metrics.snapshot(_snapshot(drift={"maxPsi": None, "decay": None}, shadow=None))
    text = generate_latest(metrics.registry).decode()
    assert "kubetrade_trader_drift_psi_max NaN" in text
    assert "kubetrade_trader_shadow_sharpe_diff NaN" in text


def test_the_publisher_sends_every_snapshot_to_sinks_and_the_status_at_a_bounded_rate() -> None:
    cached: list[Snapshot] = []
    reported: list[float] = []
    publisher = Publisher(
        [cached.append], status=lambda s: reported.append(time.monotonic()), status_every=0.2
    )
    started = time.monotonic()
    while time.monotonic() - started < 0.7:
        publisher.offer(_snapshot())
        time.sleep(0.005)
    publisher.close()
    assert len(cached) > len(reported) >= 3
    gaps = [b - a for a, b in zip(reported, reported[1:], strict=False)]
    assert all(g >= 0.19 for g in gaps[:-1])  # the last one is the final flush


def test_a_failing_sink_never_reaches_the_trading_loop(caplog: pytest.LogCaptureFixture) -> None:
    def broken(snapshot: Snapshot) -> None:
        raise RuntimeError("redis down")

    cached: list[Snapshot] = []
    publisher = Publisher([broken, cached.append], status_every=0.01)
    publisher.offer(_snapshot())
    publisher.close()
    assert len(cached) == 1  # the sink after the broken one still gets the snapshot
    assert "publishing a snapshot failed: redis down" in caplog.text


def test_risk_events_become_alerts_by_severity() -> None:
    def event(kind: RiskEventKind, state: TradingState) -> RiskEvent:
        return RiskEvent(NOW, kind, "detail", state)

    halted = from_risk_event(event(RiskEventKind.STATE_CHANGED, TradingState.HALTED), "n/s")
    assert halted is not None and halted.severity == Severity.CRITICAL
    reducing = from_risk_event(event(RiskEventKind.STATE_CHANGED, TradingState.REDUCING), "n/s")
    assert reducing is not None and reducing.severity == Severity.WARNING
    assert (
        from_risk_event(event(RiskEventKind.BREAKER_TRIPPED, TradingState.HALTED), "n/s").severity
        == Severity.WARNING
    )  # type: ignore[union-attr]
    assert from_risk_event(event(RiskEventKind.ORDER_REFUSED, TradingState.ACTIVE), "n/s") is None
    assert "[kubetrade CRITICAL] n/s" in halted.subject


def test_the_alerter_filters_and_quiets_repeats() -> None:
    sent: list[Alert] = []

    class Channel:
        name = "list"

        def send(self, alert: Alert) -> None:
            sent.append(alert)

    alerter = Alerter([Channel()], Severity.WARNING, quiet_seconds=60)
    assert not alerter(Alert(Severity.INFO, "daily summary", "x"))
    assert alerter(Alert(Severity.WARNING, "breach", "x"))
    assert not alerter(Alert(Severity.WARNING, "breach", "x"))
    assert alerter(Alert(Severity.WARNING, "breach", "y"))
    alerter.flush()
    alerter.close()
    assert [a.text for a in sent] == ["x", "y"]
    assert not Alerter([])(Alert(Severity.CRITICAL, "nobody listens", "x"))


def test_spec_edits_are_queued_once_and_bad_ones_reported() -> None:
    watcher = SpecWatcher(OWNER, RiskConfig(), every=0)
    watcher.poll(
        {
            "risk": {"profile": "moderate", "limits": {}, "sizing": {}, "breakers": {}},
            "suspend": False,
        }
    )
    assert watcher.changes.empty()  # the API server's defaults are no edit
    watcher.poll({"risk": {"limits": {"maxVar": 0.02}}})
    watcher.poll({"risk": {"limits": {"maxVar": 0.02}}})
    watcher.poll({"risk": {"limits": {"maxVar": 2}}, "suspend": True})
    changes = [watcher.changes.get_nowait() for _ in range(watcher.changes.qsize())]
    assert changes[0].risk is not None and changes[0].risk.limits.max_var == 0.02
    assert changes[1].risk is None
    assert "maxVar" in changes[1].error or "max_var" in changes[1].error
    assert changes[2].suspend is True and len(changes) == 3


def test_the_watcher_keeps_polling_through_api_errors() -> None:
    calls = threading.Semaphore(0)

    class Client:
        def __enter__(self) -> Client:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def get(self, *args: object, **kwargs: object) -> object:
            calls.release()
            raise ConnectionError("the API server is restarting")

    watcher = SpecWatcher(OWNER, RiskConfig(), every=0.01, make_client=Client)
    watcher.start()
    assert all(calls.acquire(timeout=5) for _ in range(3))  # polled again after each error
    watcher.stop()
    assert watcher.changes.empty()


def test_every_severity_has_a_rank_in_order() -> None:
    assert sorted(Severity, key=RANK.__getitem__) == [
        Severity.INFO,
        Severity.WARNING,
        Severity.CRITICAL,
    ]
