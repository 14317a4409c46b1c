"""Property: over random market paths and random orders, no order the manager
lets through takes the portfolio past a position, exposure or VaR limit.

Orders that shrink a position are exempt by design (they may be needed to
get back under a limit that prices, not orders, pushed the book over).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubetrade_testing.risk import FakeClock, order
from kubetrade_workloads.config.risk import RiskConfig
from kubetrade_workloads.market.ports import PortfolioView
from kubetrade_workloads.market.types import Position, Side
from kubetrade_workloads.risk.limits import shrinks
from kubetrade_workloads.risk.manager import RiskManager
from kubetrade_workloads.risk.var import portfolio_var

SYMBOLS = ("AAA", "BBB", "CCC")
LIMITS = {"maxPositionWeight": 0.3, "maxGrossExposure": 0.8, "maxVar": 0.02}
TOL = 1e-9


@dataclass
class Book:
    cash: float = 100_000.0
    quantities: dict[str, float] = field(default_factory=dict)
    prices: dict[str, float] = field(default_factory=lambda: dict.fromkeys(SYMBOLS, 100.0))
    peak: float = 100_000.0

    def equity(self) -> float:
        return self.cash + sum(q * self.prices[s] for s, q in self.quantities.items())

    def view(self) -> PortfolioView:
        equity = self.equity()
        self.peak = max(self.peak, equity)
        held = {s: Position(s, q, self.prices[s]) for s, q in self.quantities.items() if q}
        return PortfolioView(equity, self.cash, held, dict(self.prices), self.peak, equity)


steps = st.lists(
    st.tuples(
        st.lists(st.floats(-0.06, 0.06), min_size=3, max_size=3),
        st.lists(
            st.tuples(st.sampled_from(SYMBOLS), st.booleans(), st.floats(1.0, 3000.0)),
            max_size=3,
        ),
    ),
    min_size=5,
    max_size=40,
)


def _check_limits(manager: RiskManager, book: Book, traded: str) -> None:
    equity = book.equity()
    weights = {s: q * book.prices[s] / equity for s, q in book.quantities.items() if q}
    limits = manager.effective
    # Other positions may have drifted over their limit with prices; the order's may not.
    assert abs(weights.get(traded, 0.0)) <= limits.max_position_weight * (1 + TOL)
    assert sum(abs(w) for w in weights.values()) <= limits.max_gross_exposure * (1 + TOL)
    held = sorted(weights)
    cov = manager._history.covariance(held, 5) if held else None  # noqa: SLF001
    if cov is not None:
        var = portfolio_var([weights[s] for s in held], cov, limits.var_confidence)
        assert var <= limits.max_var * (1 + 1e-6)


@settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(steps)
def test_no_order_takes_the_book_past_a_limit(path: list[tuple[list[float], list]]) -> None:  # type: ignore[type-arg]
    config = RiskConfig.model_validate({"profile": "aggressive", "limits": LIMITS})
    manager = RiskManager(config, FakeClock(), lookback=30, min_history=5)
    book = Book()
    for moves, orders in path:
        for symbol, move in zip(SYMBOLS, moves, strict=True):
            book.prices[symbol] *= 1.0 + move
        manager.on_bar(book.view())
        for symbol, buy, quantity in orders:
            request = order(symbol, quantity, Side.BUY if buy else Side.SELL)
            current = book.quantities.get(symbol, 0.0)
            decision = manager.check(request, book.view())
            if decision.order is None:
                continue
            delta = decision.order.signed_quantity
            assert abs(delta) <= quantity
            book.quantities[symbol] = current + delta
            book.cash -= delta * book.prices[symbol]
            if not shrinks(current, delta):
                _check_limits(manager, book, symbol)
    assert np.isfinite(book.equity())
