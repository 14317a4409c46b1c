"""Plain values the trade store hands out: no ORM object leaves the store."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ...market.types import Fill, Order, OrderType, Position, Side


class OrderState(StrEnum):
    """An order's life in the store; PENDING means written but not yet acknowledged."""

    PENDING = "pending"
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"
    """Never reached the broker before a restart, and too old to send then."""


OPEN_STATES = frozenset({OrderState.PENDING, OrderState.NEW, OrderState.PARTIALLY_FILLED})


class Purpose(StrEnum):
    """Why an order was made; part of its client order id's sequence number."""

    REBALANCE = "rebalance"
    FLATTEN = "flatten"


SEQUENCE = {Purpose.REBALANCE: 0, Purpose.FLATTEN: 1}


def utc(value: dt.datetime) -> dt.datetime:
    """`value` as aware UTC (SQLite hands back naive datetimes)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


@dataclass(frozen=True)
class OrderRecord:
    """An order as the store knows it."""

    client_order_id: str
    symbol: str
    side: Side
    quantity: float
    order_type: OrderType
    limit_price: float | None
    purpose: Purpose
    bar_time: dt.datetime
    created_at: dt.datetime
    status: OrderState
    broker_order_id: str | None = None
    filled_quantity: float = 0.0
    average_price: float | None = None
    commission: float = 0.0
    reason: str = ""

    @property
    def is_open(self) -> bool:
        """Pending, new or partially filled: the broker may still change it."""
        return self.status in OPEN_STATES

    def order(self) -> Order:
        """The order as it was sent."""
        return Order(
            client_order_id=self.client_order_id,
            symbol=self.symbol,
            side=self.side,
            quantity=self.quantity,
            created_at=self.created_at,
            type=self.order_type,
            limit_price=self.limit_price,
        )


@dataclass(frozen=True)
class StoredState:
    """What a restarted trader reloads."""

    broker: str
    initial_cash: float
    cash: float
    realised_pnl: float
    commissions: float
    peak_equity: float
    day: dt.date | None
    day_start_equity: float
    last_bar_time: dt.datetime | None
    baseline: dict[str, float] = field(default_factory=dict)
    """Venue positions that predate the session (reconciliation adds them)."""
    positions: dict[str, Position] = field(default_factory=dict)
    open_orders: list[OrderRecord] = field(default_factory=list)


@dataclass(frozen=True)
class Booking:
    """A fill to record with what it changes: its order, its symbol's position, the cash."""

    fill_id: str
    fill: Fill
    order_status: OrderState
    filled_quantity: float
    average_price: float | None
    commission: float
    broker_order_id: str
    position: Position | None
    """The symbol's position after the fill (None: flat)."""


@dataclass(frozen=True)
class StatusChange:
    """An order's new status without a new fill."""

    client_order_id: str
    status: OrderState
    broker_order_id: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class BarClose:
    """Everything written when a bar is done, in one transaction."""

    time: dt.datetime
    equity: float
    cash: float
    gross_exposure: float
    drawdown: float
    day_pnl: float
    total_pnl: float
    peak_equity: float
    day: dt.date
    day_start_equity: float
    trading_state: str
    targets: dict[str, Any]
    orders: int
    refused: int
    latency_ms: float
    detail: str = ""
