"""The simulated venue: the shared SimBroker fed bar by bar, rebuilt from the store."""

from __future__ import annotations

import datetime as dt

import pytest

from kubetrade_workloads.market.costs import CostModel
from kubetrade_workloads.market.types import Order, OrderStatus, Position, Side
from kubetrade_workloads.trading.brokers import DuplicateOrder
from kubetrade_workloads.trading.brokers.sim import SimVenue

T0 = dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def _bar(price: float, volume: float = 1e6) -> tuple[float, ...]:
    return (price, price + 1, price - 1, price + 0.5, volume)


def _order(coid: str, quantity: float, side: Side = Side.BUY) -> Order:
    return Order(coid, "AAA", side, quantity, T0)


def test_orders_fill_at_the_next_open_with_costs() -> None:
    venue = SimVenue(["AAA"], CostModel(commission_bps=10, slippage_bps=5), cash=10_000)
    venue.advance(T0, {"AAA": _bar(100)})
    ack = venue.place(_order("a", 10))
    assert ack.status == OrderStatus.NEW and ack.filled_quantity == 0
    venue.advance(T0 + DAY, {"AAA": _bar(102)})
    done = venue.lookup("a")
    assert done is not None and done.status == OrderStatus.FILLED
    assert done.average_price == pytest.approx(102 * 1.0005)
    assert done.commission == pytest.approx(10 * 102 * 1.0005 * 0.001)
    assert venue.positions()["AAA"].quantity == 10
    with pytest.raises(DuplicateOrder):
        venue.place(_order("a", 10))
    assert venue.lookup("unknown") is None


def test_a_sell_beyond_holdings_is_rejected_when_shorting_is_off() -> None:
    venue = SimVenue(["AAA"], CostModel(), cash=10_000)
    venue.advance(T0, {"AAA": _bar(100)})
    ack = venue.place(_order("s", 5, Side.SELL))
    assert ack.status == OrderStatus.REJECTED and "short" in ack.reason


def test_restored_open_orders_fill_only_their_rest() -> None:
    venue = SimVenue(["AAA"], CostModel(), cash=9_500, positions={"AAA": Position("AAA", 5, 100)})
    venue.restore([(_order("p", 10), 5.0, 100.0, 0.0)])
    before = venue.lookup("p")
    assert before is not None and before.status == OrderStatus.PARTIALLY_FILLED
    venue.advance(T0, {"AAA": _bar(110)})
    after = venue.lookup("p")
    assert after is not None and after.status == OrderStatus.FILLED and after.filled_quantity == 10
    assert after.average_price == pytest.approx(105.0)
    assert venue.positions()["AAA"].quantity == 10
    assert venue.account().cash == pytest.approx(9_500 - 5 * 110)


def test_a_full_history_starts_a_new_epoch_and_keeps_open_orders() -> None:
    venue = SimVenue(["AAA"], CostModel(), cash=10_000, capacity=4)
    for i in range(3):
        venue.advance(T0 + i * DAY, {"AAA": _bar(100 + i)})
    venue.place(_order("x", 1))
    venue.advance(T0 + 3 * DAY, {"AAA": _bar(200)})  # the epoch rolls over here
    filled = venue.lookup("x")
    assert filled is not None and filled.status == OrderStatus.FILLED
    assert filled.average_price == pytest.approx(200)


def test_a_symbol_without_a_bar_does_not_fill() -> None:
    venue = SimVenue(["AAA", "BBB"], CostModel(), cash=10_000)
    venue.advance(T0, {"AAA": _bar(100), "BBB": _bar(50)})
    venue.place(Order("b", "BBB", Side.BUY, 1, T0))
    venue.advance(T0 + DAY, {"AAA": _bar(101)})
    waiting = venue.lookup("b")
    assert waiting is not None and waiting.status == OrderStatus.NEW
