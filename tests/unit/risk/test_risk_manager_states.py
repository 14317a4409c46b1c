"""Trading states: every transition, what each state lets through, and the events."""

from __future__ import annotations

import numpy as np
import pytest

from kubetrade_testing.risk import FakeClock, manager, order, view
from kubetrade_workloads.config.risk import RiskConfig, RiskLimits
from kubetrade_workloads.market.types import Side
from kubetrade_workloads.risk.events import RiskEventKind, TradingState
from kubetrade_workloads.risk.manager import RiskManager

LONG = {"AAA": 100.0}  # 100 shares at 100: weight 0.1 of 100k


def _kinds(m: RiskManager) -> list[RiskEventKind]:
    # Without price history the VaR limit cannot be judged; that note is not under test here.
    return [e.kind for e in m.drain_events() if e.kind != RiskEventKind.VAR_UNAVAILABLE]


def test_a_new_manager_is_active_with_the_profile_limits() -> None:
    m = manager(max_var=0.03)
    assert m.state == TradingState.ACTIVE and m.reasons == [] and m.breaker_state == "ok"
    assert m.effective.max_var == 0.03 and m.effective.max_drawdown == 0.20


def test_daily_loss_halts_until_the_next_utc_day() -> None:
    clock = FakeClock()
    m = manager(clock)
    m.on_bar(view(94_000, LONG, day_start=100_000, peak=100_000))
    assert m.state == TradingState.HALTED
    assert "maxDailyLoss" in m.reasons[0]
    assert _kinds(m) == [RiskEventKind.LIMIT_BREACHED, RiskEventKind.STATE_CHANGED]
    # Recovering within the day does not lift the halt ...
    clock.advance(hours=2)
    m.on_bar(view(99_000, LONG, day_start=100_000, peak=100_000))
    assert m.state == TradingState.HALTED
    # ... the next day does.
    clock.advance(hours=8)
    m.on_bar(view(99_000, LONG, day_start=99_000, peak=100_000))
    assert m.state == TradingState.ACTIVE
    assert _kinds(m) == [RiskEventKind.LIMIT_CLEARED, RiskEventKind.STATE_CHANGED]


def test_drawdown_halt_holds_until_a_person_acts() -> None:
    clock = FakeClock()
    m = manager(clock, max_daily_loss=0.1, max_drawdown=0.15)
    m.on_bar(view(84_000, LONG, peak=100_000, day_start=84_000))
    assert m.state == TradingState.HALTED
    clock.advance(days=30)
    m.on_bar(view(99_000, LONG, peak=100_000, day_start=99_000))
    assert m.state == TradingState.HALTED  # recovered, but still latched
    m.resume("risk desk reviewed the drawdown")
    assert m.state == TradingState.ACTIVE
    assert RiskEventKind.RESUMED in _kinds(m)


def test_resume_cannot_override_a_limit_still_breached() -> None:
    m = manager(max_daily_loss=0.1, max_drawdown=0.15)
    m.on_bar(view(80_000, LONG, peak=100_000, day_start=80_000))
    m.resume()
    assert m.state == TradingState.HALTED


def test_raising_a_limit_lifts_its_halt_at_once() -> None:
    m = manager(max_daily_loss=0.1, max_drawdown=0.15)
    m.on_bar(view(82_000, LONG, peak=100_000, day_start=82_000))
    assert m.state == TradingState.HALTED
    m.drain_events()
    m.update_config(RiskConfig(limits=RiskLimits(max_daily_loss=0.1, max_drawdown=0.25)))
    assert m.state == TradingState.ACTIVE
    events = m.drain_events()
    assert events[0].kind == RiskEventKind.CONFIG_CHANGED
    assert "maxDrawdown 0.15 -> 0.25" in events[0].detail
    assert events[-1].kind == RiskEventKind.STATE_CHANGED


def test_tightening_a_limit_takes_effect_without_a_bar() -> None:
    m = manager()
    m.on_bar(view(85_000, LONG, peak=100_000, day_start=85_000))
    assert m.state == TradingState.ACTIVE
    m.update_config(RiskConfig(limits=RiskLimits(max_drawdown=0.1, max_daily_loss=0.05)))
    assert m.state == TradingState.HALTED


def test_an_unchanged_config_records_nothing() -> None:
    m = manager()
    m.update_config(RiskConfig())
    assert m.drain_events() == []


def test_manual_halt_and_resume() -> None:
    m = manager()
    m.halt("positions do not reconcile with the broker")
    assert m.state == TradingState.HALTED
    assert m.check(order(), view()).order is None
    m.resume()
    assert m.state == TradingState.ACTIVE
    assert _kinds(m)[:2] == [RiskEventKind.HALT_REQUESTED, RiskEventKind.STATE_CHANGED]


def test_gross_exposure_over_the_limit_means_reducing() -> None:
    m = manager(max_gross_exposure=0.5, max_position_weight=0.5)
    m.on_bar(view(100_000, {"AAA": 300, "BBB": 300}, {"AAA": 100.0, "BBB": 100.0}))
    assert m.state == TradingState.REDUCING and "maxGrossExposure" in m.reasons[0]
    m.on_bar(view(100_000, {"AAA": 200, "BBB": 300}, {"AAA": 100.0, "BBB": 100.0}))
    assert m.state == TradingState.ACTIVE


def test_var_over_the_limit_means_reducing() -> None:
    m = manager(max_var=0.01, max_position_weight=1.0, max_gross_exposure=2.0)
    prices = 100 * np.cumprod(1 + np.tile([0.03, -0.03], 15))
    for p in prices:
        m.on_bar(view(100_000, {}, {"AAA": float(p)}))
    assert m.state == TradingState.ACTIVE and m.var == 0.0
    m.on_bar(view(100_000, {"AAA": 900}, {"AAA": 100.0}))
    assert m.state == TradingState.REDUCING and m.var is not None and m.var > 0.01


def test_reducing_passes_only_orders_that_shrink() -> None:
    m = manager()
    m.halt("x")
    m.resume()
    m.record_trade(-1)
    for _ in range(4):
        m.record_trade(-1)
    assert m.state == TradingState.REDUCING
    v = view(100_000, LONG)
    assert m.check(order(quantity=40, side=Side.SELL), v).order == order(
        quantity=40, side=Side.SELL
    )
    crossing = m.check(order(quantity=150, side=Side.SELL), v)
    assert crossing.order is not None and crossing.order.quantity == 100
    refused = m.check(order(quantity=1), v)
    assert refused.order is None and "REDUCING" in refused.reason
    assert m.check(order("BBB", 1, Side.SELL), v).order is None  # opening a short grows exposure


def test_halted_passes_only_flattening_orders() -> None:
    m = manager()
    m.halt("kill switch")
    v = view(100_000, LONG)
    assert m.check(order(quantity=100, side=Side.SELL), v).order is not None
    bigger = m.check(order(quantity=500, side=Side.SELL), v)
    assert bigger.order is not None and bigger.order.quantity == 100
    partial = m.check(order(quantity=40, side=Side.SELL), v)
    assert partial.order is None and "flatten" in partial.reason
    assert m.check(order(quantity=1), v).order is None
    assert m.check(order("BBB", quantity=1), v).order is None


def test_every_event_is_timestamped_by_the_clock_and_carries_the_state() -> None:
    clock = FakeClock()
    m = manager(clock)
    clock.advance(minutes=5)
    m.halt("because")
    events = m.events
    assert [e.time for e in events] == [clock.time, clock.time]
    assert events[-1].state == TradingState.HALTED
    assert events[-1].to_dict()["kind"] == "StateChanged"
    assert m.drain_events() == list(events) and m.drain_events() == []


@pytest.mark.parametrize("quantity", [0.0, -5.0, float("nan")])
def test_invalid_quantities_are_refused(quantity: float) -> None:
    assert manager().check(order(quantity=quantity), view()).order is None


def test_an_unrelated_edit_does_not_lift_the_days_halt() -> None:
    m = manager(max_daily_loss=0.05, max_drawdown=0.2)
    m.on_bar(view(94_000, LONG, day_start=100_000, peak=100_000))
    m.on_bar(view(99_000, LONG, day_start=100_000, peak=100_000))  # recovered intraday
    assert m.state == TradingState.HALTED
    edited = RiskConfig.model_validate(
        {"limits": {"maxDailyLoss": 0.05, "maxDrawdown": 0.2}, "breakers": {"cooldownSeconds": 60}}
    )
    m.update_config(edited)
    assert m.state == TradingState.HALTED and m.config == edited
