"""The ports a strategy sees. Backtest, paper and live plug different adapters
in behind the same protocols, so one strategy runs in every mode."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import pandas as pd

from .types import Fill, Order, Position


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current time: simulated in a backtest, wall-clock live."""
        ...


class DataFeed(Protocol):
    def history(self, symbols: Sequence[str], bars: int) -> pd.DataFrame:
        """The last `bars` bars up to now, in the canonical bar frame; never the future."""
        ...


class Broker(Protocol):
    def submit(self, order: Order) -> None:
        """Send an order; idempotent on `order.client_order_id`."""
        ...

    def cancel(self, client_order_id: str) -> None:
        """Cancel an open order, if still open."""
        ...

    def fills(self, since: dt.datetime | None = None) -> Sequence[Fill]:
        """Fills since a time (all when None)."""
        ...

    def positions(self) -> Mapping[str, Position]:
        """Open positions by symbol."""
        ...

    def cash(self) -> float:
        """Cash available."""
        ...


@dataclass(frozen=True)
class PortfolioView:
    """What the risk manager sees when it judges an order."""

    equity: float
    cash: float
    positions: Mapping[str, Position]
    prices: Mapping[str, float]
    peak_equity: float
    day_start_equity: float


@dataclass(frozen=True)
class RiskDecision:
    """The order as allowed (possibly resized), or None with the reason it was refused."""

    order: Order | None
    reason: str = ""


class RiskGate(Protocol):
    def check(self, order: Order, view: PortfolioView) -> RiskDecision:
        """Judge one order before it reaches the broker."""
        ...
