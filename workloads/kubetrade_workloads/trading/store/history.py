"""Reading a session's history back: fills, the equity curve, decisions, risk events
and the configuration audit trail (reports, tests and the resume point use these)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from ...market.types import Fill, Side
from .records import utc
from .schema import ConfigChangeRow, DecisionRow, EquityRow, FillRow, RiskEventRow


class TradeHistory:
    """Read-only queries over one database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def fills(self, session_id: str) -> list[tuple[str, Fill]]:
        """(fill id, fill) of the session, in booking order (one booking's fills by id)."""
        with self._sessions() as s:
            rows = s.scalars(
                sa.select(FillRow)
                .filter_by(session_id=session_id)
                .order_by(FillRow.recorded_at, FillRow.fill_id)
            )
            return [
                (
                    r.fill_id,
                    Fill(
                        r.client_order_id,
                        r.symbol,
                        Side(r.side),
                        r.quantity,
                        r.price,
                        r.commission,
                        utc(r.filled_at),
                    ),
                )
                for r in rows
            ]

    # -- bars, events, audit -----------------------------------------------------

    def config_changes(self, session_id: str) -> list[dict[str, Any]]:
        """The audit trail, oldest first."""
        with self._sessions() as s:
            rows = s.scalars(
                sa.select(ConfigChangeRow)
                .filter_by(session_id=session_id)
                .order_by(ConfigChangeRow.id)
            )
            return [
                {
                    "time": utc(r.time),
                    "source": r.source,
                    "detail": r.detail,
                    "before": r.before,
                    "after": r.after,
                }
                for r in rows
            ]

    def risk_events(self, session_id: str) -> list[dict[str, Any]]:
        """Risk events, oldest first."""
        with self._sessions() as s:
            rows = s.scalars(
                sa.select(RiskEventRow).filter_by(session_id=session_id).order_by(RiskEventRow.id)
            )
            return [
                {"time": utc(r.time), "kind": r.kind, "detail": r.detail, "state": r.state}
                for r in rows
            ]

    def equity_curve(self, session_id: str) -> list[tuple[dt.datetime, float]]:
        """(bar time, equity), oldest first."""
        with self._sessions() as s:
            rows = s.execute(
                sa.select(EquityRow.time, EquityRow.equity)
                .filter_by(session_id=session_id)
                .order_by(EquityRow.time)
            )
            return [(utc(t), e) for t, e in rows]

    def last_targets(self, session_id: str) -> dict[str, float] | None:
        """The targets of the newest decision (the rebalancing rule's `previous`)."""
        with self._sessions() as s:
            row = s.scalars(
                sa.select(DecisionRow)
                .filter_by(session_id=session_id)
                .order_by(DecisionRow.bar_time.desc())
                .limit(1)
            ).first()
            return {str(k): float(v) for k, v in row.targets.items()} if row else None

    def decisions(self, session_id: str) -> list[dict[str, Any]]:
        """Decisions, oldest first."""
        with self._sessions() as s:
            rows = s.scalars(
                sa.select(DecisionRow)
                .filter_by(session_id=session_id)
                .order_by(DecisionRow.bar_time)
            )
            return [
                {
                    "bar_time": utc(r.bar_time),
                    "state": r.trading_state,
                    "targets": r.targets,
                    "orders": r.orders,
                    "refused": r.refused,
                    "latency_ms": r.latency_ms,
                }
                for r in rows
            ]
