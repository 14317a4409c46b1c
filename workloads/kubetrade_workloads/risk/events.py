"""Trading states and the risk events that record every change between them.

The trader turns each event into a Kubernetes Event and an audit-trail row,
so every refusal, resize, breach and transition can be explained afterwards.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import IntEnum, StrEnum


class TradingState(StrEnum):
    """NautilusTrader's trading states.

    ACTIVE: every order within the limits passes (resized to fit if need be).
    REDUCING: only orders that shrink a position pass; one that would cross
    zero is resized to close the position.
    HALTED: only orders that flatten a position pass (sized to close it
    exactly); the trader stops taking new decisions.
    """

    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"


class Severity(IntEnum):
    """Orders the states, so the most severe active trigger decides."""

    ACTIVE = 0
    REDUCING = 1
    HALTED = 2


SEVERITY = {
    TradingState.ACTIVE: Severity.ACTIVE,
    TradingState.REDUCING: Severity.REDUCING,
    TradingState.HALTED: Severity.HALTED,
}


class Trigger(StrEnum):
    """Why the manager is not ACTIVE; named after the setting that tripped."""

    DAILY_LOSS = "maxDailyLoss"
    DRAWDOWN = "maxDrawdown"
    VAR = "maxVar"
    GROSS_EXPOSURE = "maxGrossExposure"
    MARKET_DROP = "marketDrop"
    CONSECUTIVE_LOSSES = "consecutiveLosses"
    MANUAL = "manual"


class RiskEventKind(StrEnum):
    STATE_CHANGED = "StateChanged"
    LIMIT_BREACHED = "LimitBreached"
    LIMIT_CLEARED = "LimitCleared"
    BREAKER_TRIPPED = "BreakerTripped"
    BREAKER_RESET = "BreakerReset"
    ORDER_REFUSED = "OrderRefused"
    ORDER_RESIZED = "OrderResized"
    CONFIG_CHANGED = "ConfigChanged"
    HALT_REQUESTED = "HaltRequested"
    RESUMED = "Resumed"
    VAR_UNAVAILABLE = "VarUnavailable"


@dataclass(frozen=True)
class RiskEvent:
    """One thing the risk manager did or saw, at the time of its clock.

    `kind` is CamelCase so it can be a Kubernetes Event reason as it is.
    """

    time: dt.datetime
    kind: RiskEventKind
    detail: str
    state: TradingState
    """The trading state after the event."""

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form for the audit trail."""
        return {
            "time": self.time.isoformat(),
            "kind": self.kind.value,
            "detail": self.detail,
            "state": self.state.value,
        }
