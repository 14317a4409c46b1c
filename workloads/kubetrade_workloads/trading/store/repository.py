"""The trade store's writes (and the reads a restart needs), each one short transaction.

Exactly-once rests on three of them: `add_intents` writes orders before they
are sent (so a restarted trader knows every order it may have sent), `record`
books fills with their orders, positions and cash together under fill ids
derived from each order's cumulative fill (so a fill seen again is not booked
twice), and `close_bar` moves the resume point only once a bar is done.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ...market.types import Order, OrderType, Position, Side
from ...risk.events import RiskEvent
from . import statements as sql
from .database import checkpoint
from .history import TradeHistory
from .records import (
    OPEN_STATES,
    BarClose,
    Booking,
    OrderRecord,
    OrderState,
    Purpose,
    StatusChange,
    StoredState,
    utc,
)
from .schema import AccountRow, ConfigChangeRow, OrderRow, PositionRow
from .statements import DECISIONS, EQUITY, FILLS, ORDERS, POSITIONS


def _record(row: OrderRow) -> OrderRecord:
    return OrderRecord(
        client_order_id=row.client_order_id,
        symbol=row.symbol,
        side=Side(row.side),
        quantity=row.quantity,
        order_type=OrderType(row.order_type),
        limit_price=row.limit_price,
        purpose=Purpose(row.purpose),
        bar_time=utc(row.bar_time),
        created_at=utc(row.created_at),
        status=OrderState(row.status),
        broker_order_id=row.broker_order_id,
        filled_quantity=row.filled_quantity,
        average_price=row.average_price,
        commission=row.commission,
        reason=row.reason,
    )


class TradeStore(TradeHistory):
    """Reads and writes one database; safe to share between sessions (rows carry theirs)."""

    def checkpoint(self) -> None:
        """Fold a SQLite store's write-ahead log into the file, between bars."""
        checkpoint(self.engine)

    def state(self, session_id: str) -> StoredState | None:
        """The session's account, positions and open orders; None before its first start."""
        with self._sessions() as s:
            account = s.get(AccountRow, session_id)
            if account is None:
                return None
            positions = s.scalars(sa.select(PositionRow).filter_by(session_id=session_id))
            orders = s.scalars(_orders_query(session_id, open_only=True))
            return StoredState(
                broker=account.broker,
                initial_cash=account.initial_cash,
                cash=account.cash,
                realised_pnl=account.realised_pnl,
                commissions=account.commissions,
                peak_equity=account.peak_equity,
                day=account.day,
                day_start_equity=account.day_start_equity,
                last_bar_time=utc(account.last_bar_time) if account.last_bar_time else None,
                baseline=dict(account.baseline or {}),
                positions={
                    p.symbol: Position(p.symbol, p.quantity, p.average_price) for p in positions
                },
                open_orders=[_record(o) for o in orders],
            )

    def create_account(
        self,
        session_id: str,
        broker: str,
        initial_cash: float,
        now: dt.datetime,
        baseline: dict[str, float] | None = None,
    ) -> None:
        """Start a session's books with `initial_cash` and nothing held of its own."""
        with self._sessions.begin() as s:
            s.add(
                AccountRow(
                    session_id=session_id,
                    broker=broker,
                    initial_cash=initial_cash,
                    cash=initial_cash,
                    realised_pnl=0.0,
                    commissions=0.0,
                    peak_equity=initial_cash,
                    day=None,
                    day_start_equity=initial_cash,
                    last_bar_time=None,
                    baseline=dict(baseline or {}),
                    updated_at=now,
                )
            )

    # -- orders ------------------------------------------------------------------

    def add_intents(
        self,
        session_id: str,
        intents: Sequence[tuple[Order, dt.datetime, Purpose]],
        now: dt.datetime,
    ) -> list[bool]:
        """Write orders before they are sent; False for ids the store already has."""
        rows: dict[str, dict[str, object]] = {}
        for order, bar_time, purpose in intents:
            rows.setdefault(
                order.client_order_id, sql.intent_row(session_id, order, bar_time, purpose, now)
            )
        if not rows:
            return []
        # One statement: insert what is new, learn which were (a SELECT of the ids
        # first, then the INSERT, was most of this call's time at 30 orders a bar).
        insert = _insert_for(self.engine.dialect.name)(ORDERS).on_conflict_do_nothing()
        with self.engine.begin() as s:
            written = set(
                s.scalars(insert.returning(ORDERS.c.client_order_id), list(rows.values()))
            )
        fresh = []
        for order, _, _ in intents:
            fresh.append(order.client_order_id in written)
            written.discard(order.client_order_id)  # a repeated id is new once
        return fresh

    def order(self, client_order_id: str) -> OrderRecord | None:
        """One order by its client id."""
        with self._sessions() as s:
            row = s.get(OrderRow, client_order_id)
            return _record(row) if row is not None else None

    def orders(self, session_id: str, *, open_only: bool = False) -> list[OrderRecord]:
        """The session's orders, oldest first."""
        with self._sessions() as s:
            return [_record(r) for r in s.scalars(_orders_query(session_id, open_only=open_only))]

    def update_order(
        self,
        client_order_id: str,
        status: OrderState,
        now: dt.datetime,
        *,
        broker_order_id: str | None = None,
        reason: str | None = None,
    ) -> None:
        """Move an order to `status` (its fills are booked by `book_fill`)."""
        change = StatusChange(client_order_id, status, broker_order_id or None, reason)
        with self.engine.begin() as s:
            self._change_statuses(s, [change], now)

    def orders_since(self, session_id: str, since: dt.datetime) -> int:
        """How many orders were made at or after `since` (bar time)."""
        query = (
            sa.select(sa.func.count())
            .select_from(OrderRow)
            .filter_by(session_id=session_id)
            .where(OrderRow.bar_time >= since)
            .where(OrderRow.status != OrderState.EXPIRED.value)
        )
        with self._sessions() as s:
            return int(s.execute(query).scalar_one())

    def _change_statuses(
        self, s: sa.Connection, changes: Sequence[StatusChange], now: dt.datetime
    ) -> None:
        """Every status change in one statement where the driver counts rows of a
        batch (a bar of 30 acknowledgements was 30 round trips), one by one otherwise."""
        rows = [
            {
                "id": c.client_order_id,
                "status": c.status.value,
                "broker": c.broker_order_id,
                "why": c.reason,
                "now": now,
            }
            for c in changes
        ]
        if len(rows) > 1 and self.engine.dialect.supports_sane_multi_rowcount:
            if s.execute(sql.ORDER_STATUS, rows).rowcount == len(rows):
                return
            raise KeyError(", ".join(sorted(c.client_order_id for c in changes)))
        for row in rows:
            if s.execute(sql.ORDER_STATUS, row).rowcount != 1:
                raise KeyError(row["id"])

    # -- fills -------------------------------------------------------------------

    def known_fills(self, fill_ids: Sequence[str]) -> set[str]:
        """The ids among `fill_ids` the store has booked."""
        if not fill_ids:
            return set()
        with self.engine.connect() as s:
            query = sa.select(FILLS.c.fill_id).where(FILLS.c.fill_id.in_(list(fill_ids)))
            return set(s.scalars(query))

    def record(
        self,
        session_id: str,
        bookings: Sequence[Booking],
        changes: Sequence[StatusChange],
        account: tuple[float, float, float] | None,
        now: dt.datetime,
    ) -> None:
        """Fills (with their orders and positions), status changes and the cash, at once.

        The caller has checked with `known_fills` that the fills are new; a fill
        id seen twice breaks the transaction (primary key) and writes nothing.
        """
        with self.engine.begin() as s:
            if bookings:
                s.execute(sa.insert(FILLS), [sql.fill_row(session_id, b, now) for b in bookings])
                s.execute(
                    sql.ORDER_FILLED,
                    [
                        {
                            "id": b.fill.client_order_id,
                            "status": b.order_status.value,
                            "filled": b.filled_quantity,
                            "average": b.average_price,
                            "fees": b.commission,
                            "broker": b.broker_order_id,
                            "now": now,
                        }
                        for b in bookings
                    ],
                )
                last = {b.fill.symbol: b.position for b in bookings}  # the latest per symbol
                s.execute(sql.POSITION_DELETE, [{"sid": session_id, "sym": sym} for sym in last])
                held = [
                    {
                        "session_id": session_id,
                        "symbol": sym,
                        "quantity": pos.quantity,
                        "average_price": pos.average_price,
                        "updated_at": now,
                    }
                    for sym, pos in last.items()
                    if pos is not None
                ]
                if held:
                    s.execute(sa.insert(POSITIONS), held)
            self._change_statuses(s, changes, now)
            if account is not None:
                cash, realised, fees = account
                params = {"sid": session_id, "cash": cash, "realised": realised, "fees": fees}
                sql.exactly_one(s.execute(sql.ACCOUNT_CASH, params | {"now": now}), session_id)

    def close_bar(
        self, session_id: str, bar: BarClose, events: Iterable[RiskEvent], now: dt.datetime
    ) -> None:
        """The bar's equity point, decision, risk events and resume point, together."""
        with self.engine.begin() as s:
            s.execute(
                sa.insert(EQUITY),
                {
                    "session_id": session_id,
                    "time": bar.time,
                    "equity": bar.equity,
                    "cash": bar.cash,
                    "gross_exposure": bar.gross_exposure,
                    "drawdown": bar.drawdown,
                    "day_pnl": bar.day_pnl,
                    "total_pnl": bar.total_pnl,
                },
            )
            s.execute(
                sa.insert(DECISIONS),
                {
                    "session_id": session_id,
                    "bar_time": bar.time,
                    "decided_at": now,
                    "trading_state": bar.trading_state,
                    "targets": bar.targets,
                    "orders": bar.orders,
                    "refused": bar.refused,
                    "latency_ms": bar.latency_ms,
                    "detail": bar.detail,
                },
            )
            sql.add_events(s, session_id, events)
            marks = {
                "sid": session_id,
                "peak": bar.peak_equity,
                "day_": bar.day,
                "day_start": bar.day_start_equity,
                "bar": bar.time,
                "now": now,
            }
            sql.exactly_one(s.execute(sql.ACCOUNT_MARKS, marks), session_id)

    def add_events(self, session_id: str, events: Iterable[RiskEvent]) -> None:
        """Risk events outside a bar (a live config change, a reconciliation halt)."""
        with self.engine.begin() as s:
            sql.add_events(s, session_id, events)

    def add_config_change(
        self,
        session_id: str,
        source: str,
        detail: str,
        before: dict[str, Any] | None,
        after: dict[str, Any],
        now: dt.datetime,
    ) -> None:
        """One entry of the configuration audit trail."""
        with self._sessions.begin() as s:
            s.add(
                ConfigChangeRow(
                    session_id=session_id,
                    time=now,
                    source=source,
                    detail=detail,
                    before=before,
                    after=after,
                )
            )


def _orders_query(session_id: str, *, open_only: bool) -> sa.Select[OrderRow]:
    """A session's orders (only those the broker may still change), oldest first."""
    query = sa.select(OrderRow).filter_by(session_id=session_id)
    if open_only:
        query = query.where(OrderRow.status.in_([str(o) for o in OPEN_STATES]))
    return query.order_by(OrderRow.created_at, OrderRow.client_order_id)


def _insert_for(dialect: str) -> Callable[[sa.Table], postgresql.Insert | sqlite.Insert]:
    """The dialect's INSERT, which has ON CONFLICT DO NOTHING.

    Without a conflict target it skips a row that breaks any unique constraint;
    the orders table has one, its primary key (the client order id).
    """
    if dialect == "postgresql":
        return postgresql.insert
    if dialect == "sqlite":
        return sqlite.insert
    raise ValueError(f"the trade store runs on SQLite or PostgreSQL, not {dialect}")
