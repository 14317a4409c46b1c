"""Circuit breakers: market drop, consecutive losses, cool-down in the clock's time."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from kubetrade_testing.risk import START, FakeClock, fill, manager, order, view
from kubetrade_workloads.config.risk import RiskConfig
from kubetrade_workloads.market.ports import PortfolioView
from kubetrade_workloads.market.types import Side
from kubetrade_workloads.risk.events import RiskEventKind, TradingState
from kubetrade_workloads.risk.manager import RiskManager


def test_market_drop_halts_for_the_cooldown() -> None:
    clock = FakeClock()
    m = manager(clock)  # moderate: 7% drop, 3600 s cool-down
    m.on_bar(view(prices={"AAA": 100.0, "BBB": 100.0}))
    clock.advance(minutes=1)
    m.on_bar(view(prices={"AAA": 90.0, "BBB": 95.0}))  # mean -7.5%
    assert m.state == TradingState.HALTED
    assert m.breaker_state.startswith("marketDrop until 2024-01-02T15:31")
    tripped = [e for e in m.drain_events() if e.kind == RiskEventKind.BREAKER_TRIPPED]
    assert "market fell 7.50%" in tripped[0].detail
    clock.advance(minutes=59)
    m.on_bar(view(prices={"AAA": 90.0, "BBB": 95.0}))
    assert m.state == TradingState.HALTED
    clock.advance(minutes=1)
    m.on_bar(view(prices={"AAA": 90.0, "BBB": 95.0}))
    assert m.state == TradingState.ACTIVE and m.breaker_state == "ok"
    assert RiskEventKind.BREAKER_RESET in [e.kind for e in m.drain_events()]


def test_a_small_drop_does_not_trip() -> None:
    m = manager()
    m.on_bar(view(prices={"AAA": 100.0}))
    m.on_bar(view(prices={"AAA": 94.0}))
    assert m.state == TradingState.ACTIVE


def test_consecutive_losing_trades_stop_new_entries() -> None:
    clock = FakeClock()
    m = manager(clock, profile="conservative")  # 3 losses, one day
    for _ in range(3):
        m.on_fill(fill("AAA", Side.BUY, 10, 100.0))
        m.on_fill(fill("AAA", Side.SELL, 10, 99.0))
    assert m.state == TradingState.REDUCING
    assert m.check(order(quantity=1), view()).order is None
    clock.advance(days=1)
    m.on_bar(view())
    assert m.state == TradingState.ACTIVE


def test_a_winning_trade_resets_the_count() -> None:
    m = manager(profile="conservative")
    for pnl in (-1.0, -1.0, 5.0, -1.0, -1.0):
        m.record_trade(pnl)
    assert m.state == TradingState.ACTIVE
    m.record_trade(-1.0)
    assert m.state == TradingState.REDUCING


def test_commissions_can_turn_a_flat_trade_into_a_loss() -> None:
    m = manager(profile="conservative")
    for _ in range(3):
        m.on_fill(fill("AAA", Side.SELL, 5, 100.0, commission=0.5))
        m.on_fill(fill("AAA", Side.BUY, 2, 100.0, commission=0.2))
        m.on_fill(fill("AAA", Side.BUY, 3, 100.0, commission=0.3))
    assert m.state == TradingState.REDUCING


def test_a_reversal_closes_one_trade_and_opens_the_next() -> None:
    m = manager(profile="conservative")
    m.on_fill(fill("AAA", Side.BUY, 10, 100.0))
    m.on_fill(fill("AAA", Side.SELL, 20, 90.0))  # closes a loser, opens a short at 90
    m.on_fill(fill("AAA", Side.BUY, 10, 80.0))  # the short wins
    m.record_trade(-1.0)
    m.record_trade(-1.0)
    assert m.state == TradingState.ACTIVE  # the win in between reset the count


def test_positions_from_the_view_seed_the_trade_book() -> None:
    m = manager(profile="conservative")
    m.on_bar(view(positions={"AAA": 10}, prices={"AAA": 100.0}))  # restored after a restart
    m.record_trade(-1.0)
    m.record_trade(-1.0)
    m.on_fill(fill("AAA", Side.SELL, 10, 95.0))
    assert m.state == TradingState.REDUCING


def test_a_shorter_cooldown_applies_to_a_running_breaker() -> None:
    clock = FakeClock()
    m = manager(clock, profile="conservative")
    for _ in range(3):
        m.record_trade(-1.0)
    clock.advance(minutes=10)
    m.update_config(
        RiskConfig.model_validate({"profile": "conservative", "breakers": {"cooldownSeconds": 300}})
    )
    assert m.state == TradingState.ACTIVE


def _at(v: PortfolioView, minutes: int) -> PortfolioView:
    return replace(v, time=START + dt.timedelta(minutes=minutes))


def test_the_views_time_runs_the_cooldown_without_a_clock() -> None:
    m = RiskManager(RiskConfig())  # no clock: simulated time comes with the views
    m.on_bar(_at(view(prices={"AAA": 100.0}), 0))
    m.on_bar(_at(view(prices={"AAA": 90.0}), 1))
    assert m.state == TradingState.HALTED
    assert m.events[-1].time == START + dt.timedelta(minutes=1)
    m.on_bar(_at(view(prices={"AAA": 90.0}), 61))
    assert m.state == TradingState.ACTIVE


def test_check_alone_trips_on_consecutive_bars_only() -> None:
    # An engine that only calls check(): each check at a new time is a bar.
    m = RiskManager(RiskConfig())
    for minute, price in ((0, 100.0), (1, 100.0), (2, 99.0)):
        m.check(order(quantity=1), _at(view(prices={"AAA": price}), minute))
    m.check(order(quantity=1), _at(view(prices={"AAA": 80.0}), 30))  # 28 bars unseen
    assert m.state == TradingState.ACTIVE
    m.check(order(quantity=1), _at(view(prices={"AAA": 70.0}), 31))  # one bar: -12.5%
    assert m.state == TradingState.HALTED
