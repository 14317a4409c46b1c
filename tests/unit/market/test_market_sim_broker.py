"""The simulated broker: timing, costs, exactly-once ids, shorting and volume caps."""

from __future__ import annotations

import datetime as dt

import pytest

from kubetrade_testing.histories import history
from kubetrade_workloads.market.costs import CostModel
from kubetrade_workloads.market.history import History
from kubetrade_workloads.market.portfolio import Portfolio
from kubetrade_workloads.market.replay import BarClock
from kubetrade_workloads.market.sim_broker import FillTiming, SimBroker
from kubetrade_workloads.market.types import Order, OrderStatus, OrderType, Side

BARS = history([[10.0], [11.0], [12.0], [13.0]], open_=[[9.5], [10.5], [11.5], [12.5]], volume=100)


def broker(
    bars: History = BARS,
    costs: CostModel | None = None,
    timing: FillTiming = FillTiming.NEXT_OPEN,
    cap: float | None = None,
    cash: float = 1000.0,
) -> tuple[SimBroker, BarClock]:
    clock = BarClock(bars)
    book = Portfolio(cash, allow_short=(costs or CostModel()).allow_short)
    return SimBroker(
        bars, clock, costs or CostModel(), book, timing=timing, max_participation=cap
    ), clock


def order(quantity: float, cid: str = "a", side: Side = Side.BUY, symbol: str = "S0") -> Order:
    return Order(cid, symbol, side, quantity, dt.datetime(2024, 1, 1, tzinfo=dt.UTC))


def test_an_order_decided_on_a_close_fills_at_the_next_open_with_costs() -> None:
    sim, clock = broker(costs=CostModel(commission_bps=10.0, slippage_bps=100.0))
    sim.submit(order(10))
    assert sim.match() == []  # nothing fills on the bar it was decided on
    clock.index = 1
    [fill] = sim.match()
    assert fill.price == pytest.approx(10.5 * 1.01)
    assert fill.commission == pytest.approx(10 * 10.5 * 1.01 * 0.001)
    assert fill.filled_at == clock.now()
    assert sim.positions()["S0"].quantity == 10
    assert sim.cash() == pytest.approx(1000 - 10 * fill.price - fill.commission)
    assert sim.status("a")[0] == OrderStatus.FILLED


def test_close_timing_fills_on_the_same_bar_at_the_close() -> None:
    sim, clock = broker(timing=FillTiming.CLOSE)
    clock.index = 2
    sim.submit(order(1))
    [fill] = sim.match()
    assert fill.price == 12.0


def test_a_resubmitted_client_order_id_never_fills_twice() -> None:
    sim, clock = broker()
    sim.submit(order(5))
    sim.submit(order(5))  # a retry before the fill
    clock.index = 1
    assert len(sim.match()) == 1
    sim.submit(order(5))  # a retry after the fill
    clock.index = 2
    assert sim.match() == []
    assert sim.positions()["S0"].quantity == 5
    assert len(sim.fills()) == 1


def test_a_cancelled_order_does_not_fill_and_its_id_stays_used() -> None:
    sim, clock = broker()
    sim.submit(order(5))
    sim.cancel("a")
    sim.submit(order(5))
    clock.index = 1
    assert sim.match() == []
    assert sim.status("a")[0] == OrderStatus.CANCELED


def test_selling_more_than_held_is_rejected_without_shorting() -> None:
    sim, clock = broker()
    sim.submit(order(3))
    clock.index = 1
    sim.match()
    sim.submit(order(2, "s1", Side.SELL))
    sim.submit(order(2, "s2", Side.SELL))  # 2 + 2 > 3 held
    assert sim.status("s2")[0] == OrderStatus.REJECTED
    assert "short" in sim.status("s2")[2]
    clock.index = 2
    sim.match()
    assert sim.positions()["S0"].quantity == 1


def test_shorting_is_allowed_when_the_cost_model_allows_it() -> None:
    sim, clock = broker(costs=CostModel(allow_short=True))
    sim.submit(order(2, "s", Side.SELL))
    clock.index = 1
    sim.match()
    assert sim.positions()["S0"].quantity == -2


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (order(1, symbol="ZZZ"), "unknown symbol"),
        (order(0), "positive"),
        (order(float("nan")), "positive"),
        (Order("l", "S0", Side.BUY, 1, dt.datetime(2024, 1, 1), OrderType.LIMIT), "limit price"),
    ],
)
def test_bad_orders_are_rejected_with_a_reason(bad: Order, reason: str) -> None:
    sim, _ = broker()
    sim.submit(bad)
    status, filled, why = sim.status(bad.client_order_id)
    assert (status, filled) == (OrderStatus.REJECTED, 0.0)
    assert reason in why


def test_a_volume_cap_fills_part_per_bar_and_the_rest_later() -> None:
    sim, clock = broker(cap=0.1, cash=1e6)  # 10% of 100 shares a bar
    sim.submit(order(25))
    filled = []
    for bar in (1, 2, 3):
        clock.index = bar
        filled += [f.quantity for f in sim.match()]
    assert filled == [10, 10, 5]
    assert sim.status("a")[:2] == (OrderStatus.FILLED, 25)


def test_cancelling_a_partly_filled_order_keeps_what_filled() -> None:
    sim, clock = broker(cap=0.1, cash=1e6)
    sim.submit(order(25))
    clock.index = 1
    sim.match()
    sim.cancel("a")
    clock.index = 2
    assert sim.match() == []
    assert sim.status("a")[:2] == (OrderStatus.CANCELED, 10)
    assert sim.open_orders() == []


def test_a_limit_order_fills_only_when_the_price_reaches_it() -> None:
    sim, clock = broker(costs=CostModel(slippage_bps=500.0))
    limit = Order("l", "S0", Side.BUY, 1, dt.datetime(2024, 1, 1), OrderType.LIMIT, 11.0)
    sim.submit(limit)
    clock.index = 1
    [fill] = sim.match()  # open 10.5 <= 11; slippage may not push it past the limit
    assert fill.price == 11.0
    sim.submit(Order("m", "S0", Side.BUY, 1, dt.datetime(2024, 1, 1), OrderType.LIMIT, 11.0))
    clock.index = 2
    assert sim.match() == []  # open 11.5 > 11


def test_fills_since_a_time() -> None:
    sim, clock = broker()
    sim.submit(order(1, "x"))
    clock.index = 1
    sim.match()
    sim.submit(order(1, "y"))
    clock.index = 2
    sim.match()
    assert [f.client_order_id for f in sim.fills(clock.now())] == ["y"]
    assert len(sim.fills()) == 2
