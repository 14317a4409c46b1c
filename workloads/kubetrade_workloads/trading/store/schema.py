"""The trade store's tables, as SQLAlchemy 2 declarative models.

Every row carries its `session_id`, so one database can hold many sessions.
The equity curve and the decisions are time series keyed by (session, time):
TimescaleDB turns them into hypertables when the extension exists. Times are
stored timezone-aware (UTC); SQLite drops the zone, so readers re-attach it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Float, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

UTC_TIME = DateTime(timezone=True)


class Base(DeclarativeBase):
    """The metadata Alembic migrates."""


class OrderRow(Base):
    """An order, written before it is sent (write-ahead) and updated from the broker."""

    __tablename__ = "orders"
    # Newest-first pages of one session's orders (the console) read this index in
    # order instead of sorting every row the session has.
    __table_args__ = (Index("ix_orders_session_created", "session_id", "created_at"),)

    client_order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(253), index=True)
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(4))
    quantity: Mapped[float] = mapped_column(Float)
    order_type: Mapped[str] = mapped_column(String(16))
    limit_price: Mapped[float | None] = mapped_column(Float, nullable=True)
    purpose: Mapped[str] = mapped_column(String(16))
    bar_time: Mapped[dt.datetime] = mapped_column(UTC_TIME)
    created_at: Mapped[dt.datetime] = mapped_column(UTC_TIME)
    updated_at: Mapped[dt.datetime] = mapped_column(UTC_TIME)
    status: Mapped[str] = mapped_column(String(20), index=True)
    broker_order_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    filled_quantity: Mapped[float] = mapped_column(Float, default=0.0)
    average_price: Mapped[float | None] = mapped_column(Float, nullable=True)
    commission: Mapped[float] = mapped_column(Float, default=0.0)
    reason: Mapped[str] = mapped_column(Text, default="")


class FillRow(Base):
    """One execution; `fill_id` is derived from the order's cumulative fill, so a
    fill seen twice (after a restart) is the same row."""

    __tablename__ = "fills"
    __table_args__ = (Index("ix_fills_session_filled", "session_id", "filled_at"),)

    fill_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    client_order_id: Mapped[str] = mapped_column(String(64), index=True)
    session_id: Mapped[str] = mapped_column(String(253), index=True)
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(4))
    quantity: Mapped[float] = mapped_column(Float)
    price: Mapped[float] = mapped_column(Float)
    commission: Mapped[float] = mapped_column(Float)
    filled_at: Mapped[dt.datetime] = mapped_column(UTC_TIME)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTC_TIME)


class PositionRow(Base):
    """The position the store's fills add up to."""

    __tablename__ = "positions"

    session_id: Mapped[str] = mapped_column(String(253), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    quantity: Mapped[float] = mapped_column(Float)
    average_price: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[dt.datetime] = mapped_column(UTC_TIME)


class AccountRow(Base):
    """Cash and the running marks of one session (peak, day start, last bar)."""

    __tablename__ = "accounts"

    session_id: Mapped[str] = mapped_column(String(253), primary_key=True)
    broker: Mapped[str] = mapped_column(String(32))
    initial_cash: Mapped[float] = mapped_column(Float)
    cash: Mapped[float] = mapped_column(Float)
    realised_pnl: Mapped[float] = mapped_column(Float, default=0.0)
    commissions: Mapped[float] = mapped_column(Float, default=0.0)
    peak_equity: Mapped[float] = mapped_column(Float)
    day: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    day_start_equity: Mapped[float] = mapped_column(Float)
    last_bar_time: Mapped[dt.datetime | None] = mapped_column(UTC_TIME, nullable=True)
    baseline: Mapped[dict[str, float]] = mapped_column(JSON)
    """Positions the venue held before the session's first start: not the trader's."""
    updated_at: Mapped[dt.datetime] = mapped_column(UTC_TIME)


class EquityRow(Base):
    """One point of the equity curve per bar."""

    __tablename__ = "equity_curve"

    session_id: Mapped[str] = mapped_column(String(253), primary_key=True)
    time: Mapped[dt.datetime] = mapped_column(UTC_TIME, primary_key=True)
    equity: Mapped[float] = mapped_column(Float)
    cash: Mapped[float] = mapped_column(Float)
    gross_exposure: Mapped[float] = mapped_column(Float)
    drawdown: Mapped[float] = mapped_column(Float)
    day_pnl: Mapped[float] = mapped_column(Float)
    total_pnl: Mapped[float] = mapped_column(Float)


class DecisionRow(Base):
    """What the strategy wanted on a bar, what was sent, and how long it took."""

    __tablename__ = "decisions"

    session_id: Mapped[str] = mapped_column(String(253), primary_key=True)
    bar_time: Mapped[dt.datetime] = mapped_column(UTC_TIME, primary_key=True)
    decided_at: Mapped[dt.datetime] = mapped_column(UTC_TIME)
    trading_state: Mapped[str] = mapped_column(String(16))
    targets: Mapped[dict[str, Any]] = mapped_column(JSON)
    orders: Mapped[int] = mapped_column(Integer)
    refused: Mapped[int] = mapped_column(Integer)
    latency_ms: Mapped[float] = mapped_column(Float)
    detail: Mapped[str] = mapped_column(Text, default="")


class RiskEventRow(Base):
    """Every refusal, resize, breach and state change of the risk manager."""

    __tablename__ = "risk_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(253), index=True)
    time: Mapped[dt.datetime] = mapped_column(UTC_TIME)
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))


class ConfigChangeRow(Base):
    """The audit trail of configuration: the start-up config and every live edit."""

    __tablename__ = "config_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(253), index=True)
    time: Mapped[dt.datetime] = mapped_column(UTC_TIME)
    source: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any]] = mapped_column(JSON)


TIME_SERIES = {"equity_curve": "time", "decisions": "bar_time"}
"""Tables that become TimescaleDB hypertables, with their time column."""
