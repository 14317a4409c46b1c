"""Read-only pages of a session's trades from the trade store (SQLite or Postgres).

The console never migrates or writes the store; a store that cannot be reached
raises `StoreUnavailable`, which the views turn into a banner (pages) or a 503 (API).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from anyio import to_thread
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from kubetrade_workloads.trading.store.schema import EquityRow, FillRow, OrderRow, PositionRow

#: The columns each table's page returns and may be sorted by, in order.
FILL_COLUMNS = ("filled_at", "symbol", "side", "quantity", "price", "commission", "client_order_id")
ORDER_COLUMNS = (
    "created_at",
    "symbol",
    "side",
    "quantity",
    "status",
    "filled_quantity",
    "client_order_id",
)


class StoreUnavailable(Exception):
    """The trade store is not configured or does not answer."""


@dataclass(frozen=True)
class Page:
    """One page of rows, newest first, and how many there are in all."""

    rows: list[dict[str, Any]]
    total: int
    offset: int
    limit: int


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        # The store keeps UTC; SQLite hands it back without a zone.
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()
    return value


def session_id(namespace: str, name: str) -> str:
    """The key a trader files its session under in the store."""
    return f"{namespace}/{name}"


class StoreReader:
    """Queries a trade store, each in a worker thread so the event loop never blocks."""

    def __init__(self, url: str | None) -> None:
        self._engine: Engine | None = None
        if url:
            connect = {"timeout": 2} if url.startswith("sqlite") else {"connect_timeout": 2}
            self._engine = sa.create_engine(url, pool_pre_ping=True, connect_args=connect)

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    async def _run(self, statement: Any) -> list[dict[str, Any]]:
        engine = self._engine
        if engine is None:
            raise StoreUnavailable("no trade store is configured (--store-url)")

        def query() -> list[dict[str, Any]]:
            with engine.connect() as conn:
                return [
                    {k: _plain(v) for k, v in row._mapping.items()}
                    for row in conn.execute(statement)
                ]

        try:
            return await to_thread.run_sync(query)
        except SQLAlchemyError as exc:
            raise StoreUnavailable(
                f"the trade store does not answer: {exc.__class__.__name__}"
            ) from exc

    async def _page(
        self, table: Any, columns: tuple[str, ...], order: str, sid: str, offset: int, limit: int
    ) -> Page:
        cols = [getattr(table, c) for c in columns]
        rows = await self._run(
            sa.select(*cols)
            .where(table.session_id == sid)
            .order_by(getattr(table, order).desc())
            .offset(offset)
            .limit(limit)
        )
        count = await self._run(
            sa.select(sa.func.count().label("n")).select_from(table).where(table.session_id == sid)
        )
        return Page(rows, int(count[0]["n"]), offset, limit)

    async def fills(self, sid: str, offset: int, limit: int) -> Page:
        """A page of a session's fills, newest first."""
        return await self._page(FillRow, FILL_COLUMNS, "filled_at", sid, offset, limit)

    async def orders(self, sid: str, offset: int, limit: int) -> Page:
        """A page of a session's orders, newest first."""
        return await self._page(OrderRow, ORDER_COLUMNS, "created_at", sid, offset, limit)

    async def equity(self, sid: str, limit: int) -> list[dict[str, Any]]:
        """The last `limit` points of the equity curve, oldest first."""
        rows = await self._run(
            sa.select(EquityRow.time, EquityRow.equity, EquityRow.drawdown, EquityRow.total_pnl)
            .where(EquityRow.session_id == sid)
            .order_by(EquityRow.time.desc())
            .limit(limit)
        )
        return rows[::-1]

    async def positions(self, sid: str) -> list[dict[str, Any]]:
        """The positions the session's fills add up to."""
        return await self._run(
            sa.select(PositionRow.symbol, PositionRow.quantity, PositionRow.average_price)
            .where(PositionRow.session_id == sid)
            .order_by(PositionRow.symbol)
        )
