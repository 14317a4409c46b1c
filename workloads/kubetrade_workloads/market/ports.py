"""The ports a strategy sees. Backtest, paper and live plug different adapters
in behind the same protocols, so one strategy runs in every mode."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
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
    time: dt.datetime | None = None
    """The clock's now when the view was taken (simulated in a backtest); the risk
    manager times cool-downs and its events by it."""


@dataclass(frozen=True)
class RiskDecision:
    """The order as allowed (possibly resized), or None with the reason it was refused."""

    order: Order | None
    reason: str = ""


class RiskGate(Protocol):
    def check(self, order: Order, view: PortfolioView) -> RiskDecision:
        """Judge one order before it reaches the broker."""
        ...


@runtime_checkable
class RiskObserver(Protocol):
    """A gate that also wants every bar's marks and every fill (the RiskManager does).

    Engines and traders call `on_bar` once per bar, after marking to market and
    before the strategy decides, and `on_fill` for each fill as it is booked.
    """

    def on_bar(self, view: PortfolioView) -> None:
        """Take one bar's marks: prices for risk estimates, breakers, limits."""
        ...

    def on_fill(self, fill: Fill) -> None:
        """Book one fill (closed trades feed the consecutive-losses breaker)."""
        ...


@runtime_checkable
class PositionSizer(Protocol):
    """A gate that also decides how large a strategy's targets are (the RiskManager does).

    Engines and traders warm it on the bars before the first one traded, and
    each bar, after `on_bar`, pass the strategy's targets through `size`
    before they become orders: one sizing in backtest, paper and live.
    """

    def warm_up(self, prices: pd.DataFrame) -> None:
        """Take the closes of the bars before trading (one row per bar, one column per symbol)."""
        ...

    def size(
        self, symbols: Sequence[str], targets: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.float64]:
        """The targets sized as configured (unchanged when no sizing is configured)."""
        ...
