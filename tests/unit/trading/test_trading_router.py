"""The order router against a scripted venue: write first, send once, ask before resending."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from kubetrade_workloads.market.types import Order, OrderStatus, Side
from kubetrade_workloads.trading.book import Book
from kubetrade_workloads.trading.brokers import (
    BrokerOrder,
    BrokerUnavailable,
    DuplicateOrder,
    OrderRejected,
)
from kubetrade_workloads.trading.orders import LeaseLost, OrderRouter, RetryPolicy
from kubetrade_workloads.trading.store import OrderState, Purpose, TradeStore, open_engine

SESSION = "ns/s"
BAR = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
NOW = dt.datetime(2024, 3, 1, 21, tzinfo=dt.UTC)


class ScriptedVenue:
    """A venue whose next answers are scripted: exceptions raised or orders acknowledged."""

    name = "scripted"
    max_in_flight = 1

    def __init__(self) -> None:
        self.book: dict[str, BrokerOrder] = {}
        self.place_script: list[Exception | str] = []  # "take": accept then raise next item
        self.lookup_script: list[Exception] = []
        self.placed: list[str] = []
        self.fill_fraction = 1.0

    def place(self, order: Order) -> BrokerOrder:
        step = self.place_script.pop(0) if self.place_script else None
        if step == "take-then-fail":
            self._take(order)
            raise BrokerUnavailable("504 after taking the order")
        if isinstance(step, Exception):
            raise step
        if order.client_order_id in self.book:
            raise DuplicateOrder("client_order_id must be unique")
        return self._take(order)

    def _take(self, order: Order) -> BrokerOrder:
        self.placed.append(order.client_order_id)
        filled = order.quantity * self.fill_fraction
        status = OrderStatus.FILLED if self.fill_fraction == 1.0 else OrderStatus.PARTIALLY_FILLED
        ack = BrokerOrder(
            order.client_order_id,
            f"b-{len(self.placed)}",
            order.symbol,
            order.side,
            order.quantity,
            status,
            filled,
            100.0 if filled else None,
            0.0,
        )
        self.book[order.client_order_id] = ack
        return ack

    def lookup(self, client_order_id: str, symbol: str = "") -> BrokerOrder | None:
        if self.lookup_script:
            raise self.lookup_script.pop(0)
        return self.book.get(client_order_id)

    def cancel(self, client_order_id: str, symbol: str = "") -> None:
        """Cancel what is still working; a filled order stays filled."""
        old = self.book[client_order_id]
        if old.status != OrderStatus.FILLED:
            self.book[client_order_id] = replace(old, status=OrderStatus.CANCELED)

    def finish(self, client_order_id: str, price: float) -> None:
        """Fill the rest of an order at `price` (the average moves accordingly)."""
        old = self.book[client_order_id]
        rest = old.quantity - old.filled_quantity
        average = (old.filled_quantity * (old.average_price or 0) + rest * price) / old.quantity
        self.book[client_order_id] = replace(
            old, filled_quantity=old.quantity, average_price=average, status=OrderStatus.FILLED
        )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[TradeStore]:
    engine, _ = open_engine(None, tmp_path)
    trades = TradeStore(engine)
    trades.create_account(SESSION, "scripted", 10_000.0, NOW)
    yield trades
    engine.dispose()


def _router(store: TradeStore, venue: ScriptedVenue, **kw: object) -> OrderRouter:
    state = store.state(SESSION)
    assert state is not None
    return OrderRouter(
        SESSION,
        venue,
        store,
        Book(state),  # type: ignore[arg-type]
        policy=RetryPolicy(attempts=4, base_delay=0.0, max_delay=0.0),
        sleep=lambda s: None,
        **kw,  # type: ignore[arg-type]
    )


def _order(symbol: str = "AAPL", quantity: float = 10.0, side: Side = Side.BUY) -> Order:
    return Order(f"kt-{symbol}-{side}", symbol, side, quantity, NOW)


def test_an_order_is_written_before_it_is_sent_and_never_sent_twice(store: TradeStore) -> None:
    venue = ScriptedVenue()
    router = _router(store, venue)
    assert router.send([_order()], BAR, Purpose.REBALANCE) == 1
    assert router.send([_order()], BAR, Purpose.REBALANCE) == 0  # a redone bar
    assert venue.placed == ["kt-AAPL-buy"]
    assert router.counts.duplicates_refused == 1
    record = store.order("kt-AAPL-buy")
    assert (
        record is not None and record.status == OrderState.FILLED and record.filled_quantity == 10
    )
    assert router.book.portfolio.quantity("AAPL") == 10


def test_after_a_timeout_the_order_is_looked_up_not_resent(store: TradeStore) -> None:
    venue = ScriptedVenue()
    venue.place_script = ["take-then-fail"]
    router = _router(store, venue)
    router.send([_order()], BAR, Purpose.REBALANCE)
    assert venue.placed == ["kt-AAPL-buy"]
    assert router.counts.lookups == 1 and router.counts.resent == 0
    assert [f.quantity for _, f in store.fills(SESSION)] == [10.0]


def test_an_order_the_venue_never_saw_is_resent_under_the_same_id(store: TradeStore) -> None:
    venue = ScriptedVenue()
    venue.place_script = [BrokerUnavailable("429"), BrokerUnavailable("500")]
    router = _router(store, venue)
    router.send([_order()], BAR, Purpose.REBALANCE)
    assert venue.placed == ["kt-AAPL-buy"]
    assert router.counts.resent == 2 and router.counts.retries == 2


def test_a_late_duplicate_is_found_by_lookup(store: TradeStore) -> None:
    venue = ScriptedVenue()
    venue.place_script = [BrokerUnavailable("timeout")]
    venue.lookup_script = [BrokerUnavailable("lookup timed out")]
    router = _router(store, venue)
    venue._take(_order())  # the "timed out" POST actually landed
    venue.place_script.insert(0, BrokerUnavailable("timeout"))
    router.send([_order()], BAR, Purpose.REBALANCE)
    assert venue.placed == ["kt-AAPL-buy"]  # taken once, by the first POST
    record = store.order("kt-AAPL-buy")
    assert record is not None and record.status == OrderState.FILLED


def test_a_rejection_is_final_and_recorded(store: TradeStore) -> None:
    venue = ScriptedVenue()
    venue.place_script = [OrderRejected("HTTP 403: insufficient buying power")]
    router = _router(store, venue)
    router.send([_order()], BAR, Purpose.REBALANCE)
    record = store.order("kt-AAPL-buy")
    assert record is not None and record.status == OrderState.REJECTED
    assert "insufficient buying power" in record.reason
    assert router.open_orders == []


def test_partial_fills_are_booked_once_each(store: TradeStore) -> None:
    venue = ScriptedVenue()
    venue.fill_fraction = 0.5
    router = _router(store, venue)
    router.send([_order()], BAR, Purpose.REBALANCE)
    assert router.sync() == []  # nothing new
    venue.finish("kt-AAPL-buy", 110.0)
    fills = router.sync()
    assert [(f.quantity, f.price) for f in fills] == [(5.0, pytest.approx(110.0))]
    assert router.sync() == []
    # A restarted router (fresh books from the store) finds nothing more to book.
    again = _router(store, venue)
    assert again.sync() == [] and again.open_orders == []
    assert [f.quantity for _, f in store.fills(SESSION)] == [5.0, 5.0]
    state = store.state(SESSION)
    assert state is not None and state.positions["AAPL"].quantity == 10.0
    assert state.cash == pytest.approx(10_000.0 - 5 * 100.0 - 5 * 110.0)


def test_fills_stored_later_are_booked_now_and_after_a_crash_once(store: TradeStore) -> None:
    venue = ScriptedVenue()
    venue.fill_fraction = 0.5
    router = _router(store, venue)
    router.send([_order(), _order("MSFT")], BAR, Purpose.REBALANCE)
    venue.finish("kt-AAPL-buy", 110.0)
    assert [f.quantity for f in router.sync(store_later=True)] == [5.0]
    assert router.book.portfolio.positions["AAPL"].quantity == 10.0  # the books have it
    assert len(store.fills(SESSION)) == 2  # the store does not, yet
    assert router.sync(store_later=True) == []  # booked once, though not stored
    # The venue reporting the filled order again (it left the open orders) books nothing.
    assert router.apply_all([(venue.book["kt-AAPL-buy"], None)], store_later=True) == []
    # A crash now: the restarted router books the venue's fill again, once.
    again = _router(store, venue)
    assert [f.quantity for f in again.sync(store_later=True)] == [5.0]
    venue.finish("kt-MSFT-buy", 90.0)
    again.send([_order("NVDA")], BAR, Purpose.REBALANCE)  # stores what waited, with its ack
    again.sync(store_later=True)
    again.save()
    assert sorted((f.client_order_id, f.quantity) for _, f in store.fills(SESSION)) == [
        ("kt-AAPL-buy", 5.0),
        ("kt-AAPL-buy", 5.0),
        ("kt-MSFT-buy", 5.0),
        ("kt-MSFT-buy", 5.0),
        ("kt-NVDA-buy", 5.0),
    ]
    state = store.state(SESSION)
    assert state is not None
    assert {s: p.quantity for s, p in state.positions.items()} == {
        "AAPL": 10.0,
        "MSFT": 10.0,
        "NVDA": 5.0,
    }
    assert state.cash == pytest.approx(10_000.0 - 500 - 550 - 500 - 450 - 500)


def test_pending_orders_after_a_restart_are_resent_on_their_bar_and_expire_later(
    store: TradeStore,
) -> None:
    venue = ScriptedVenue()
    recent = Order("kt-NVDA-buy", "NVDA", Side.BUY, 10.0, dt.datetime.now(dt.UTC))
    yesterday = BAR - dt.timedelta(days=1)
    store.add_intents(SESSION, [(_order("AAPL"), BAR, Purpose.REBALANCE)], NOW)
    store.add_intents(SESSION, [(_order("MSFT"), yesterday, Purpose.REBALANCE)], NOW)
    store.add_intents(SESSION, [(recent, yesterday, Purpose.REBALANCE)], NOW)
    router = _router(store, venue)  # the process died before any POST left
    router.resend_from = BAR
    router.sync()
    assert venue.placed == ["kt-AAPL-buy"]  # the bar being redone
    stale = store.order("kt-MSFT-buy")
    assert stale is not None and stale.status == OrderState.EXPIRED  # old: never sent
    waiting = store.order("kt-NVDA-buy")
    assert waiting is not None and waiting.status == OrderState.PENDING  # may still land
    venue._take(recent)  # the POST sent just before the crash lands late
    assert [f.client_order_id for f in router.sync()] == ["kt-NVDA-buy"]


def test_a_venue_that_never_answers_leaves_the_order_pending(store: TradeStore) -> None:
    venue = ScriptedVenue()
    venue.place_script = [BrokerUnavailable("down")] * 4
    venue.lookup_script = [BrokerUnavailable("down")] * 3
    router = _router(store, venue)
    router.send([_order()], BAR, Purpose.REBALANCE)
    record = store.order("kt-AAPL-buy")
    assert record is not None and record.status == OrderState.PENDING
    assert router.sync() == [] and venue.placed == []


def test_no_order_leaves_once_the_lease_is_lost(store: TradeStore) -> None:
    venue = ScriptedVenue()
    router = _router(store, venue, may_trade=lambda: False)
    with pytest.raises(LeaseLost):
        router.send([_order()], BAR, Purpose.REBALANCE)
    assert venue.placed == []


def test_cancel_books_what_filled_before_it(store: TradeStore) -> None:
    venue = ScriptedVenue()
    venue.fill_fraction = 0.5
    router = _router(store, venue)
    router.send([_order()], BAR, Purpose.REBALANCE)
    router.cancel_open()
    record = store.order("kt-AAPL-buy")
    assert (
        record is not None and record.status == OrderState.CANCELED and record.filled_quantity == 5
    )
    assert router.open_orders == []


def test_a_bars_orders_may_go_out_together_and_each_goes_once(store: TradeStore) -> None:
    venue = ScriptedVenue()
    venue.max_in_flight = 4  # type: ignore[misc]
    venue.place_script = [BrokerUnavailable("429"), "take-then-fail"]
    router = _router(store, venue)
    orders = [_order(f"S{i}") for i in range(12)]
    assert router.send(orders, BAR, Purpose.REBALANCE) == 12
    router.close()
    assert sorted(venue.placed) == sorted(o.client_order_id for o in orders)
    assert all(store.order(o.client_order_id).status == OrderState.FILLED for o in orders)  # type: ignore[union-attr]
    assert len(store.fills(SESSION)) == 12


def test_a_status_stored_later_never_lands_over_newer_news(store: TradeStore) -> None:
    venue = ScriptedVenue()
    venue.fill_fraction = 0.0  # taken, nothing filled yet
    # The venue takes the order but every answer is lost: it stays PENDING.
    venue.place_script = ["take-then-fail"]
    venue.lookup_script = [BrokerUnavailable("504")] * 3
    router = _router(store, venue)
    router.send([_order()], BAR, Purpose.REBALANCE)
    assert store.order("kt-AAPL-buy").status == OrderState.PENDING  # type: ignore[union-attr]
    router.sync(store_later=True)  # the venue has it, working: news for the store, later
    venue.finish("kt-AAPL-buy", 100.0)
    router.cancel_open({"AAPL"})  # finds it filled and stores at once
    record = store.order("kt-AAPL-buy")
    assert record is not None and record.status == OrderState.FILLED
    assert record.filled_quantity == 10 and router.open_orders == []
