"""What the trader shows: one snapshot, rendered for the TradingSession status,
Redis and the metrics alike."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PositionView:
    symbol: str
    quantity: float
    market_value: float
    unrealized_pnl: float


@dataclass(frozen=True)
class Snapshot:
    """The trader's state after a bar (or a heartbeat between bars)."""

    session_id: str
    equity: float
    cash: float
    day_pnl: float
    total_pnl: float
    drawdown: float
    var: float | None
    positions: tuple[PositionView, ...]
    orders_today: int
    last_decision: str
    heartbeat: dt.datetime
    trading_state: str
    breaker_state: str
    state_reason: str
    reconciled: bool | None
    reconcile_message: str
    flat: bool | None
    effective_limits: dict[str, float] = field(default_factory=dict)
    bar_time: dt.datetime | None = None
    model: dict[str, Any] | None = None
    """The model traded now (`status.trading.model`)."""
    shadow: dict[str, Any] | None = None
    """The challenger's shadow results (`status.trading.shadow`); None: no challenger."""
    drift: dict[str, Any] | None = None
    """The drift monitor's report (`status.trading.drift`); None before its first bar."""

    def status(self) -> dict[str, Any]:
        """The `status` fields the trader owns on its TradingSession."""
        trading: dict[str, Any] = {
            "equity": round(self.equity, 2),
            "cash": round(self.cash, 2),
            "dayPnl": round(self.day_pnl, 2),
            "totalPnl": round(self.total_pnl, 2),
            "drawdown": round(self.drawdown, 6),
            "var": round(self.var, 6) if self.var is not None else None,
            "positions": [
                {
                    "symbol": p.symbol,
                    "quantity": p.quantity,
                    "marketValue": round(p.market_value, 2),
                    "unrealizedPnl": round(p.unrealized_pnl, 2),
                }
                for p in self.positions
            ],
            "ordersToday": self.orders_today,
            "lastDecision": self.last_decision,
            "heartbeat": iso_utc(self.heartbeat),
            "tradingState": self.trading_state,
            "breakerState": self.breaker_state,
            "reconciled": self.reconciled,
            "reconcileMessage": self.reconcile_message,
            "flat": self.flat,
            # A trader that trades has nothing stopping it: clear a start-up error.
            "error": None,
        }
        if self.drift is not None:
            trading["drift"] = self.drift
        if self.model is not None:
            trading["model"] = self.model
        trading["shadow"] = self.shadow  # None deletes a withdrawn challenger's report
        return {"trading": trading, "effectiveLimits": dict(self.effective_limits)}

    def cache(self) -> dict[str, Any]:
        """The Redis snapshot: the status fields plus the session and bar."""
        body = self.status()
        body["sessionId"] = self.session_id
        body["barTime"] = iso_utc(self.bar_time) if self.bar_time else None
        body["stateReason"] = self.state_reason
        return body


def iso_utc(value: dt.datetime) -> str:
    """`value` as the API server writes times: ISO 8601 in UTC with a Z."""
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
