"""Orders, fills and positions: plain frozen values shared by every mode."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from enum import StrEnum


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"


class OrderStatus(StrEnum):
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"


def client_order_id(session: str, bar_time: dt.datetime, symbol: str, seq: int = 0) -> str:
    """A deterministic id: the same decision always maps to the same id.

    A retried submission therefore carries the id of the first one, and the
    broker (or our lookup by client id) refuses to make it twice.
    """
    raw = f"{session}|{bar_time.isoformat()}|{symbol}|{seq}"
    return "kt-" + hashlib.sha256(raw.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Order:
    client_order_id: str
    symbol: str
    side: Side
    quantity: float
    """Always positive; the side says the direction."""
    created_at: dt.datetime
    type: OrderType = OrderType.MARKET
    limit_price: float | None = None

    @property
    def signed_quantity(self) -> float:
        """Positive for buys, negative for sells."""
        return self.quantity if self.side == Side.BUY else -self.quantity


@dataclass(frozen=True)
class Fill:
    client_order_id: str
    symbol: str
    side: Side
    quantity: float
    price: float
    commission: float
    filled_at: dt.datetime

    @property
    def signed_quantity(self) -> float:
        """Positive for buys, negative for sells."""
        return self.quantity if self.side == Side.BUY else -self.quantity


@dataclass(frozen=True)
class Position:
    symbol: str
    quantity: float
    """Signed: negative is short."""
    average_price: float
