"""Exactly-once orders: write first, send once, ask before resending, book fills once.

1. Every order of a bar is written to the store (PENDING) before any is sent,
   under its deterministic client order id; an id the store already has is
   never sent again, so re-running a bar after a crash cannot double it.
2. When sending fails in a way that leaves the outcome unknown (429, 5xx, a
   timeout), the router looks the order up by client id; only a venue that
   has never seen it gets it again, under the same id, so a late original is
   refused as a duplicate rather than filled twice.
3. Fills come from the venue's cumulative fill of each open order; each one
   is booked with its position and cash in one transaction under an id
   derived from that cumulative quantity, so a fill seen twice is booked once.
   The fills a bar's first sync finds are stored with the router's next write
   (the bar's acknowledgements, after its orders are out, or the cancels of
   stale orders before them): until then they live in the books only, and a
   crash loses nothing the venue cannot tell again.

A PENDING order the venue does not know after a restart is sent then if its
bar is the one being redone; otherwise it is looked up again on every sync
and expires once `expire_after` seconds old (a stale decision, never sent).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from ..data.sources.retry import Retry
from ..market.types import Fill, Order, OrderStatus
from .book import Book
from .brokers import (
    BrokerOrder,
    BrokerUnavailable,
    DuplicateOrder,
    OrderRejected,
    TradingBroker,
)
from .brokers.base import increment
from .failpoints import Failpoints
from .store import Booking, OrderRecord, OrderState, Purpose, StatusChange, TradeStore

log = logging.getLogger(__name__)


class LeaseLost(RuntimeError):
    """This trader no longer holds its session's Lease: it must not send another order."""


_STATE = {
    OrderStatus.NEW: OrderState.NEW,
    OrderStatus.PARTIALLY_FILLED: OrderState.PARTIALLY_FILLED,
    OrderStatus.FILLED: OrderState.FILLED,
    OrderStatus.CANCELED: OrderState.CANCELED,
    OrderStatus.REJECTED: OrderState.REJECTED,
}


@dataclass(frozen=True)
class RetryPolicy(Retry):
    """How hard to try (the data sources' backoff, quicker) before leaving an order
    PENDING for the next sync."""

    attempts: int = 4
    base_delay: float = 0.25
    max_delay: float = 4.0
    expire_after: float = 120.0
    """Seconds a PENDING order the venue does not know keeps being looked up before it
    expires: a request sent just before a crash can still land after the restart."""


@dataclass
class Counts:
    """What the router did, for metrics and tests."""

    sent: int = 0
    acknowledged: int = 0
    rejected: int = 0
    retries: int = 0
    lookups: int = 0
    resent: int = 0
    expired: int = 0
    fills: int = 0
    duplicates_refused: int = 0


def fill_id(client_order_id: str, cumulative: float) -> str:
    """The id of the fill that brought an order to `cumulative` filled."""
    return f"{client_order_id}:{cumulative:.9f}"


class OrderRouter:
    """Sends a session's orders to its venue exactly once and books their fills."""

    def __init__(
        self,
        session_id: str,
        broker: TradingBroker,
        store: TradeStore,
        book: Book,
        *,
        policy: RetryPolicy | None = None,
        failpoints: Failpoints | None = None,
        on_fill: Callable[[Fill], None] | None = None,
        may_trade: Callable[[], bool] = lambda: True,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.session_id = session_id
        self.broker = broker
        self.store = store
        self.book = book
        self.policy = policy or RetryPolicy()
        self.counts = Counts()
        self._fail = failpoints or Failpoints()
        self._on_fill = on_fill or (lambda fill: None)
        self._sleep = sleep
        self._may_trade = may_trade
        self._counting = threading.Lock()  # orders of a bar may be sent from several threads
        self._pool: ThreadPoolExecutor | None = None
        self._closed = threading.Event()
        self.acknowledged_at = 0.0
        """time.perf_counter() when the last `send` had every answer from the venue."""
        self.postponed = 0
        """Open orders the last sync could not check (the venue did not answer)."""
        self._open: dict[str, OrderRecord] = {
            r.client_order_id: r for r in store.orders(session_id, open_only=True)
        }
        self.market_time: dt.datetime | None = None
        """The bar being traded: fills are stamped with it, so cool-downs that start
        from a fill run on the same clock as the bars (simulated when replaying)."""
        self.resend_from: dt.datetime | None = None
        """PENDING orders of this bar or later are resent when the venue never saw them."""
        self._unsaved_bookings: list[Booking] = []
        self._unsaved_changes: list[StatusChange] = []

    def begin_bar(self, time_: dt.datetime) -> None:
        """A new bar: fills are stamped with it, its PENDING orders may be resent, and
        no answer of it has come yet."""
        self.resend_from = self.market_time = time_
        self.acknowledged_at = 0.0

    # -- sending ----------------------------------------------------------------

    def send(self, orders: Sequence[Order], bar_time: dt.datetime, purpose: Purpose) -> int:
        """Write all of `orders`, send the new ones, then record the acknowledgements.

        Returns how many were new: an order the store already has (decided before a
        restart) is never sent again. Acknowledgements are stored after the last
        order is out, so a bar's orders leave as fast as the venue takes them;
        a crash in between loses nothing, the restart looks them up.
        """
        if not orders:
            return 0
        fresh = self.store.add_intents(
            self.session_id, [(o, bar_time, purpose) for o in orders], _now()
        )
        for order, new in zip(orders, fresh, strict=True):
            if new:
                self._open[order.client_order_id] = _pending(order, bar_time, purpose)
        self._fail.hit("after-intent")
        self.counts.duplicates_refused += fresh.count(
            False
        )  # decided (maybe sent) before a restart
        todo = [order for order, new in zip(orders, fresh, strict=True) if new]
        acks = [ack for ack in self._transmit_all(todo) if ack is not None]
        self.acknowledged_at = time.perf_counter()
        self.apply_all([(ack, None) for ack in acks])
        return sum(fresh)

    def _transmit_all(self, orders: list[Order]) -> list[BrokerOrder | None]:
        """Send orders, up to the venue's `max_in_flight` at a time; answers in order."""
        width = min(self.broker.max_in_flight, len(orders))
        if width <= 1:
            out = []
            for order in orders:
                out.append(self._transmit(order))
                self._fail.hit("mid-bar")
            return out
        # Each order has its own client id and intent row: sending them together
        # changes nothing for exactly-once, only how long the bar's orders take.
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.broker.max_in_flight, thread_name_prefix="send")
        return list(self._pool.map(self._transmit, orders))

    def close(self) -> None:
        """Send nothing more; wait for calls already on the wire (each bounded by the
        venue's deadline)."""
        self._closed.set()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def _transmit(self, order: Order) -> BrokerOrder | None:
        """Send one order; the venue's answer, or None (rejected, or still unknown)."""
        for attempt in range(self.policy.attempts):
            if self._closed.is_set():
                return None  # stopping: what was not sent stays pending for the next start
            if not self._may_trade():
                raise LeaseLost(f"{order.client_order_id} not sent: the session's Lease is lost")
            if attempt:
                self._count("retries")
                self._sleep(self.policy.delay(attempt - 1))
                # The last try's outcome is unknown: ask before sending again.
                try:
                    found = self._lookup(order)
                except BrokerUnavailable as err:
                    log.warning("looking up %s: %s", order.client_order_id, err)
                    continue
                if found is not None:
                    return found
                self._count("resent")  # the venue never saw it: the same id again
            try:
                self._count("sent")
                ack = self.broker.place(order)
            except DuplicateOrder:
                continue  # a late earlier try got through: the lookup finds it
            except OrderRejected as err:
                self._reject(order.client_order_id, str(err))
                return None
            except BrokerUnavailable as err:
                log.warning("sending %s: %s", order.client_order_id, err)
                continue
            self._fail.hit("after-place")
            self._count("acknowledged")
            return ack
        log.warning("%s stays pending: the venue did not answer", order.client_order_id)
        return None

    def _count(self, what: str) -> None:
        with self._counting:
            setattr(self.counts, what, getattr(self.counts, what) + 1)

    def _lookup(self, order: Order) -> BrokerOrder | None:
        self._count("lookups")
        return self.broker.lookup(order.client_order_id, order.symbol)

    def _reject(self, client_order_id: str, reason: str) -> None:
        self._count("rejected")
        log.warning("order %s rejected: %s", client_order_id, reason)
        self.store.update_order(client_order_id, OrderState.REJECTED, _now(), reason=reason)
        self._open.pop(client_order_id, None)

    # -- following ----------------------------------------------------------------

    def sync(self, *, store_later: bool = False) -> list[Fill]:
        """Ask the venue about every open order; book new fills; return them.

        `store_later`: the books take the fills now, the store at the router's next
        write (`save`). A bar's sync does that, so writing the last bar's fills
        is not on the path from the bar to its orders; a crash before the write
        loses nothing, as the restart's sync books the venue's fills again (each
        once, by its fill id).
        """
        found: list[tuple[BrokerOrder, OrderRecord | None]] = []
        self.postponed = 0
        for record in list(self._open.values()):
            try:
                ack = self.broker.lookup(record.client_order_id, record.symbol)
            except BrokerUnavailable as err:
                log.warning("sync of %s postponed: %s", record.client_order_id, err)
                self.postponed += 1
                continue
            if ack is None:
                self._unknown(record)
            else:
                found.append((ack, record))
        return self.apply_all(found, store_later=store_later)

    def _unknown(self, record: OrderRecord) -> None:
        if record.status != OrderState.PENDING:
            log.error("the venue no longer knows acknowledged order %s", record.client_order_id)
            return
        if self.resend_from is not None and record.bar_time >= self.resend_from:
            self._count("resent")
            ack = self._transmit(record.order())
            if ack is not None:
                self.apply(ack)
            return
        if (_now() - record.created_at).total_seconds() < self.policy.expire_after:
            return  # a request sent just before a crash may still land: ask again next time
        self.counts.expired += 1
        self.store.update_order(
            record.client_order_id,
            OrderState.EXPIRED,
            _now(),
            reason="never reached the venue before a restart; too old to send",
        )
        self._open.pop(record.client_order_id, None)

    def apply(self, ack: BrokerOrder, record: OrderRecord | None = None) -> list[Fill]:
        """Bring the store up to what the venue says of one order."""
        return self.apply_all([(ack, record)])

    def apply_all(
        self,
        items: Sequence[tuple[BrokerOrder, OrderRecord | None]],
        *,
        store_later: bool = False,
    ) -> list[Fill]:
        """Bring the store up to the venue's view of several orders, in one transaction
        (`store_later`: at the next `save`, as `sync` explains)."""
        now = _now()
        planned = self._plan(items, now)
        ids = [fill_id(a.client_order_id, a.filled_quantity) for a, _, _, f in planned if f]
        if ids:
            self._fail.hit("before-fill")
        known = self.store.known_fills(ids) | {b.fill_id for b in self._unsaved_bookings}
        bookings, changes, tracked = self._changes(planned, known)
        # The store writes a batch's fills before its status changes: a change
        # waiting from an earlier call must not land after this call's news of
        # the same order (NEW written over FILLED), so it goes.
        newer = {b.fill.client_order_id for b in bookings} | {c.client_order_id for c in changes}
        self._unsaved_changes = [
            c for c in self._unsaved_changes if c.client_order_id not in newer
        ] + changes
        self._unsaved_bookings += bookings
        if (bookings or changes) and not store_later:
            self.save()  # with what waited: one transaction
        for record in tracked:
            self._track(record)
        fills = [b.fill for b in bookings]
        for fill in fills:
            self.counts.fills += 1
            self._on_fill(fill)
        if fills:
            self._fail.hit("after-fill")
        return fills

    def save(self) -> None:
        """Store the fills and status changes booked since the last write, at once."""
        bookings, changes = self._unsaved_bookings, self._unsaved_changes
        if bookings or changes:
            p = self.book.portfolio
            account = (p.cash, p.realised_pnl, p.commissions) if bookings else None
            self.store.record(self.session_id, bookings, changes, account, _now())
        self._unsaved_bookings, self._unsaved_changes = [], []

    def _plan(
        self, items: Sequence[tuple[BrokerOrder, OrderRecord | None]], now: dt.datetime
    ) -> list[tuple[BrokerOrder, OrderRecord, OrderState, Fill | None]]:
        """Each reported order with its stored record, new state and new fill (if any)."""
        planned = []
        for ack, given in items:
            record = self._open.get(ack.client_order_id) or given
            record = record or self.store.order(ack.client_order_id)
            if record is None:
                log.error(
                    "the venue reports %s, which this session never made", ack.client_order_id
                )
                continue
            paid = (record.filled_quantity, record.average_price, record.commission)
            fill = increment(ack, *paid, self.market_time or now)
            planned.append((ack, record, _STATE[ack.status], fill))
        return planned

    def _changes(
        self,
        planned: list[tuple[BrokerOrder, OrderRecord, OrderState, Fill | None]],
        known: set[str],
    ) -> tuple[list[Booking], list[StatusChange], list[OrderRecord]]:
        """Bookings for new fills (applied to the books), status changes, updated records."""
        bookings: list[Booking] = []
        changes: list[StatusChange] = []
        tracked: list[OrderRecord] = []
        for ack, record, state, fill in planned:
            fid = fill_id(ack.client_order_id, ack.filled_quantity)
            if fill is not None and fid not in known:
                position = self.book.apply(fill)  # then the store, or a crash and a reload
                bookings.append(
                    Booking(
                        fid, fill, state, ack.filled_quantity, ack.average_price,
                        ack.commission, ack.broker_order_id, position,
                    )
                )  # fmt: skip
            elif state == record.status and not (ack.reason and ack.reason != record.reason):
                continue
            else:
                if state == OrderState.REJECTED:
                    self._count("rejected")
                reason = ack.reason or None
                changes.append(
                    StatusChange(ack.client_order_id, state, ack.broker_order_id, reason)
                )
            tracked.append(
                replace(
                    record,
                    status=state,
                    filled_quantity=ack.filled_quantity,
                    average_price=ack.average_price,
                    commission=ack.commission,
                    reason=ack.reason or record.reason,
                )
            )
        return bookings, changes, tracked

    def _track(self, record: OrderRecord) -> None:
        if record.is_open:
            self._open[record.client_order_id] = record
        else:
            self._open.pop(record.client_order_id, None)

    @property
    def open_orders(self) -> list[OrderRecord]:
        """Orders the venue may still change, oldest first."""
        return list(self._open.values())

    def cancel_open(self, symbols: set[str] | None = None) -> list[Fill]:
        """Cancel open orders (of `symbols`, or all); book what filled before the cancel."""
        found: list[tuple[BrokerOrder, OrderRecord | None]] = []
        for record in list(self._open.values()):
            if symbols is not None and record.symbol not in symbols:
                continue
            if record.status == OrderState.PENDING:
                continue  # unknown at the venue yet: sync resolves it
            try:
                self.broker.cancel(record.client_order_id, record.symbol)
                ack = self.broker.lookup(record.client_order_id, record.symbol)
            except BrokerUnavailable as err:
                log.warning("cancel of %s postponed: %s", record.client_order_id, err)
                continue
            if ack is not None:
                found.append((ack, record))
        return self.apply_all(found)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _pending(order: Order, bar_time: dt.datetime, purpose: Purpose) -> OrderRecord:
    return OrderRecord(
        client_order_id=order.client_order_id,
        symbol=order.symbol,
        side=order.side,
        quantity=order.quantity,
        order_type=order.type,
        limit_price=order.limit_price,
        purpose=purpose,
        bar_time=bar_time,
        created_at=order.created_at,
        status=OrderState.PENDING,
    )
