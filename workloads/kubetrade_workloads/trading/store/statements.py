"""The trade store's hot statements, built once: Core statements with bound
parameters compile once and are cached, where the ORM's unit of work costs
milliseconds a statement (every bar, every order and every fill runs these)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ...market.types import Order
from ...risk.events import RiskEvent
from .records import Booking, OrderState, Purpose
from .schema import (
    AccountRow,
    DecisionRow,
    EquityRow,
    FillRow,
    OrderRow,
    PositionRow,
    RiskEventRow,
)

ORDERS = cast(sa.Table, OrderRow.__table__)
FILLS = cast(sa.Table, FillRow.__table__)
POSITIONS = cast(sa.Table, PositionRow.__table__)
ACCOUNTS = cast(sa.Table, AccountRow.__table__)
EQUITY = cast(sa.Table, EquityRow.__table__)
DECISIONS = cast(sa.Table, DecisionRow.__table__)
EVENTS = cast(sa.Table, RiskEventRow.__table__)
_B = sa.bindparam
# Built once: a statement with bound parameters compiles once and is cached.
ORDER_FILLED = (
    sa.update(ORDERS)
    .where(ORDERS.c.client_order_id == _B("id"))
    .values(
        status=_B("status"),
        filled_quantity=_B("filled"),
        average_price=_B("average"),
        commission=_B("fees"),
        broker_order_id=_B("broker"),
        updated_at=_B("now"),
    )
)
ORDER_STATUS = (
    sa.update(ORDERS)
    .where(ORDERS.c.client_order_id == _B("id"))
    .values(
        status=_B("status"),
        broker_order_id=sa.func.coalesce(_B("broker"), ORDERS.c.broker_order_id),
        reason=sa.func.coalesce(_B("why"), ORDERS.c.reason),
        updated_at=_B("now"),
    )
)
POSITION_DELETE = (
    sa.delete(POSITIONS)
    .where(POSITIONS.c.session_id == _B("sid"))
    .where(POSITIONS.c.symbol == _B("sym"))
)
ACCOUNT_CASH = (
    sa.update(ACCOUNTS)
    .where(ACCOUNTS.c.session_id == _B("sid"))
    .values(
        cash=_B("cash"),
        realised_pnl=_B("realised"),
        commissions=_B("fees"),
        updated_at=_B("now"),
    )
)
ACCOUNT_MARKS = (
    sa.update(ACCOUNTS)
    .where(ACCOUNTS.c.session_id == _B("sid"))
    .values(
        peak_equity=_B("peak"),
        day=_B("day_"),
        day_start_equity=_B("day_start"),
        last_bar_time=_B("bar"),
        updated_at=_B("now"),
    )
)


def intent_row(
    session_id: str, order: Order, bar_time: dt.datetime, purpose: Purpose, now: dt.datetime
) -> dict[str, Any]:
    """The `orders` row of an order written before it is sent."""
    return {
        "client_order_id": order.client_order_id,
        "session_id": session_id,
        "symbol": order.symbol,
        "side": order.side.value,
        "quantity": order.quantity,
        "order_type": order.type.value,
        "limit_price": order.limit_price,
        "purpose": purpose.value,
        "bar_time": bar_time,
        "created_at": order.created_at,
        "updated_at": now,
        "status": OrderState.PENDING.value,
        "broker_order_id": None,
        "filled_quantity": 0.0,
        "average_price": None,
        "commission": 0.0,
        "reason": "",
    }


def fill_row(session_id: str, booking: Booking, now: dt.datetime) -> dict[str, Any]:
    """The `fills` row of a booking."""
    fill = booking.fill
    return {
        "fill_id": booking.fill_id,
        "client_order_id": fill.client_order_id,
        "session_id": session_id,
        "symbol": fill.symbol,
        "side": fill.side.value,
        "quantity": fill.quantity,
        "price": fill.price,
        "commission": fill.commission,
        "filled_at": fill.filled_at,
        "recorded_at": now,
    }


def exactly_one(result: Any, session_id: str) -> None:
    """Raise KeyError unless the statement touched the session's one account row."""
    if result.rowcount != 1:
        raise KeyError(f"no account for session {session_id}")


def add_events(s: Connection, session_id: str, events: Iterable[RiskEvent]) -> None:
    """Insert risk events (a detail is cut at 4,000 characters)."""
    rows = [
        {
            "session_id": session_id,
            "time": event.time,
            "kind": event.kind.value,
            "detail": event.detail[:4000],
            "state": event.state.value,
        }
        for event in events
    ]
    if rows:
        s.execute(sa.insert(EVENTS), rows)
