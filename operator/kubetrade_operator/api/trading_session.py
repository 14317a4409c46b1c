"""TradingSession: one trader running a Ready Model, paper by default."""

from __future__ import annotations

from kubetrade_workloads.config import TradingConfig
from kubetrade_workloads.config.base import Frozen

from .common import CommonStatus, LocalObjectRef, PodTemplate


class TradingSessionSpec(TradingConfig):
    model_ref: LocalObjectRef
    """The Model to trade; it must be Ready."""
    suspend: bool = False
    """The kill switch: flatten all positions, then scale the trader to zero."""
    template: PodTemplate = PodTemplate()


class Position(Frozen):
    symbol: str
    quantity: float
    market_value: float | None = None
    unrealized_pnl: float | None = None


class TradingState(Frozen):
    """Written by the trader pod."""

    equity: float | None = None
    cash: float | None = None
    day_pnl: float | None = None
    total_pnl: float | None = None
    drawdown: float | None = None
    var: float | None = None
    positions: list[Position] | None = None
    orders_today: int | None = None
    last_decision: str | None = None
    heartbeat: str | None = None
    trading_state: str | None = None
    """ACTIVE, REDUCING or HALTED."""
    breaker_state: str | None = None
    reconciled: bool | None = None
    """False when positions in the store and at the broker disagree (the trader halts)."""
    reconcile_message: str | None = None
    flat: bool | None = None
    """True once the trader has flattened every position after `suspend`."""
    error: str | None = None
    """Why the trader cannot trade (refused credentials, a model it cannot load);
    cleared by its first report once it trades."""


class TradingSessionStatus(CommonStatus):
    trading: TradingState | None = None
    effective_limits: dict[str, float] | None = None
    deployment_name: str | None = None
    lease_holder: str | None = None
