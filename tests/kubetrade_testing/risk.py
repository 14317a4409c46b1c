"""Small factories for the risk tests: a settable clock, views and orders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from kubetrade_workloads.config.risk import RiskConfig, RiskLimits
from kubetrade_workloads.market.ports import PortfolioView
from kubetrade_workloads.market.types import Fill, Order, Position, Side
from kubetrade_workloads.risk.manager import RiskManager

START = dt.datetime(2024, 1, 2, 14, 30, tzinfo=dt.UTC)


class FakeClock:
    """A clock the test moves by hand, as the backtest's simulated clock moves."""

    def __init__(self, now: dt.datetime = START) -> None:
        self.time = now

    def now(self) -> dt.datetime:
        return self.time

    def advance(self, **delta: float) -> None:
        self.time += dt.timedelta(**delta)


def view(
    equity: float = 100_000.0,
    positions: Mapping[str, float] | None = None,
    prices: Mapping[str, float] | None = None,
    *,
    peak: float | None = None,
    day_start: float | None = None,
) -> PortfolioView:
    """A portfolio view; positions are quantities, their average price the current price."""
    prices = dict(prices or {"AAA": 100.0})
    held = {
        s: Position(s, q, prices.get(s, 100.0)) for s, q in (positions or {}).items() if q != 0.0
    }
    return PortfolioView(
        equity=equity,
        cash=equity - sum(p.quantity * p.average_price for p in held.values()),
        positions=held,
        prices=prices,
        peak_equity=peak if peak is not None else equity,
        day_start_equity=day_start if day_start is not None else equity,
    )


def order(symbol: str = "AAA", quantity: float = 10.0, side: Side = Side.BUY) -> Order:
    """A market order."""
    return Order(f"kt-{symbol}-{side}-{quantity}", symbol, side, quantity, START)


def fill(symbol: str, side: Side, quantity: float, price: float, commission: float = 0.0) -> Fill:
    """A fill at a price."""
    return Fill(f"kt-{symbol}", symbol, side, quantity, price, commission, START)


def manager(
    clock: FakeClock | None = None,
    *,
    profile: str = "moderate",
    min_history: int = 20,
    **limits: float,
) -> RiskManager:
    """A risk manager with a profile and explicit limits (snake_case names)."""
    config = RiskConfig.model_validate({"profile": profile, "limits": RiskLimits(**limits)})
    return RiskManager(config, clock or FakeClock(), min_history=min_history)
