"""The trade store: orders, fills, positions, cash, equity, decisions, risk events
and config changes, in SQLAlchemy 2 (SQLite by default, Postgres when configured)."""

from .database import StoreInfo, open_engine
from .records import (
    SEQUENCE,
    BarClose,
    Booking,
    OrderRecord,
    OrderState,
    Purpose,
    StatusChange,
    StoredState,
)
from .repository import TradeStore

__all__ = [
    "SEQUENCE",
    "BarClose",
    "Booking",
    "OrderRecord",
    "OrderState",
    "Purpose",
    "StatusChange",
    "StoreInfo",
    "StoredState",
    "TradeStore",
    "open_engine",
]
