"""Whole paper sessions on the embedded defaults: synthetic bars, the sim venue, SQLite."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest

from kubetrade_testing.trading import Collect, local_runtime, trade_job, trade_store
from kubetrade_workloads.config import RiskConfig
from kubetrade_workloads.trading.alerts import Alerter
from kubetrade_workloads.trading.assemble import Options, build
from kubetrade_workloads.trading.failpoints import RandomCrashes, SimulatedCrash
from kubetrade_workloads.trading.job import run
from kubetrade_workloads.trading.spec_watch import SpecChange, SpecWatcher
from kubetrade_workloads.trading.store import OrderState, TradeStore, open_engine


def test_a_session_resumes_after_its_last_bar(tmp_path: Path) -> None:
    job = trade_job(tmp_path)
    first = run(job, local_runtime(40))
    second = run(job, local_runtime(25))
    assert (first.code, first.bars, second.code, second.bars) == (0, 40, 0, 25)
    with trade_store(tmp_path) as store:
        decisions = store.decisions(job.session_id)
        times = [d["bar_time"] for d in decisions]
        assert len(times) == 65 and times == sorted(set(times))  # no bar twice, none skipped
        orders = store.orders(job.session_id)
        assert orders and len({(o.bar_time, o.symbol) for o in orders}) == len(orders)
        assert [c["source"] for c in store.config_changes(job.session_id)] == ["start", "start"]
        assert second.snapshot is not None and second.snapshot.reconciled is True
        assert second.snapshot.status()["trading"]["tradingState"] == decisions[-1]["state"]
        assert all(d["latency_ms"] > 0 for d in decisions)  # measured; its figures: trader_bench


def test_random_crashes_on_the_sim_venue_double_nothing(tmp_path: Path) -> None:
    job = trade_job(tmp_path, symbols=["AAPL", "MSFT", "NVDA"])
    crashes = RandomCrashes(rate=0.05, seed=3)
    store = open_engine(None, tmp_path)
    options = Options(failpoints=crashes, store=store)
    while sum(crashes.crashes.values()) < 25:
        assembly = build(job, options)
        try:
            assembly.resume()
            assert assembly.trader.reconciled, assembly.trader.reconcile_message
            for _ in range(12):
                bar = assembly.feed.next(1.0)
                assert bar is not None
                assembly.trader.on_bar(bar)
        except SimulatedCrash:
            pass
        finally:
            assembly.close()
    trades = TradeStore(store[0])
    orders = trades.orders(job.session_id)
    assert max(collections.Counter((o.bar_time, o.symbol) for o in orders).values()) == 1
    filled: dict[str, float] = collections.defaultdict(float)
    for _, fill in trades.fills(job.session_id):
        filled[fill.symbol] += fill.signed_quantity
    state = trades.state(job.session_id)
    assert state is not None
    assert {s: p.quantity for s, p in state.positions.items()} == pytest.approx(
        {s: q for s, q in filled.items() if abs(q) > 1e-9}
    )
    store[0].dispose()


def test_live_risk_edits_apply_between_bars_and_are_audited(tmp_path: Path) -> None:
    job = trade_job(tmp_path)
    watcher = SpecWatcher(job.owner, job.trading.risk, every=0)
    tight = RiskConfig.model_validate(
        {"limits": {"maxPositionWeight": 0.05, "maxGrossExposure": 0.1}}
    )
    watcher.poll({"risk": tight.to_wire()})
    watcher.poll({"risk": {"limits": {"maxVar": 7}}})  # invalid: ignored, the limits stay
    channel = Collect()
    out = run(
        job, local_runtime(30, watcher=watcher, alerter=Alerter([channel], min_severity="info"))
    )
    assert out.snapshot is not None
    assert out.snapshot.effective_limits["maxPositionWeight"] == 0.05
    with trade_store(tmp_path) as store:
        audit = store.config_changes(job.session_id)
        assert [a["source"] for a in audit] == ["start", "spec.risk"]
        assert "maxPositionWeight 0.2 -> 0.05" in audit[1]["detail"]
        assert audit[1]["after"]["limits"]["maxPositionWeight"] == 0.05
        assert any(e["kind"] == "ConfigChanged" for e in store.risk_events(job.session_id))
        titles = [a.title for a in channel.alerts]
        assert {"risk edit ignored", "risk limits changed"} <= set(titles)
        assert titles.count("daily summary") == 1  # one a wall-clock hour, however fast the replay
        summary = next(a for a in channel.alerts if a.title == "daily summary")
        assert {"equity", "day PnL", "orders", "state"} <= set(summary.fields)
        equity = out.snapshot.equity
        assert all(abs(p.market_value) <= 0.05 * equity * 1.2 for p in out.snapshot.positions)


def test_suspend_flattens_every_position(tmp_path: Path) -> None:
    job = trade_job(tmp_path, symbols=["AAPL", "MSFT", "NVDA"], risk={"profile": "aggressive"})
    run(job, local_runtime(60, watcher=None))
    with trade_store(tmp_path) as store:
        held = store.state(job.session_id)
    assert held is not None and held.positions
    watcher = SpecWatcher(job.owner, job.trading.risk, every=0)
    watcher.changes.put(SpecChange(suspend=True))
    out = run(job, local_runtime(3, watcher=watcher))
    assert out.snapshot is not None and out.snapshot.flat is True
    with trade_store(tmp_path) as store:
        state = store.state(job.session_id)
        flattened = [o for o in store.orders(job.session_id) if o.purpose == "flatten"]
    assert state is not None and state.positions == {} and state.open_orders == []
    assert flattened and all(o.status == OrderState.FILLED for o in flattened)


def test_a_breach_halts_new_decisions_and_raises_a_critical_alert(tmp_path: Path) -> None:
    job = trade_job(
        tmp_path,
        symbols=["AAPL", "MSFT", "NVDA"],
        risk={"profile": "aggressive", "limits": {"maxDailyLoss": 0.002, "maxDrawdown": 0.004}},
    )
    channel = Collect()
    out = run(job, local_runtime(120, alerter=Alerter([channel], min_severity="warning")))
    assert out.snapshot is not None and out.snapshot.trading_state == "HALTED"
    with trade_store(tmp_path) as store:
        decisions = store.decisions(job.session_id)
        halted = [d for d in decisions if d["state"] == "HALTED"]
        assert halted and all(d["orders"] == 0 for d in halted[1:])
        kinds = {e["kind"] for e in store.risk_events(job.session_id)}
        assert {"LimitBreached", "StateChanged"} <= kinds
        assert any(a.severity == "critical" and "HALTED" in a.title for a in channel.alerts)
        # dailySummary sends whatever minSeverity, at most one a wall-clock hour
        assert sum(a.title == "daily summary" for a in channel.alerts) == 1
