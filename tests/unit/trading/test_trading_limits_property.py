"""Property: on any market path, with any targets a strategy asks for, no order the
trader sends takes the portfolio past a configured limit.

Judged when the order is decided, at the prices it is decided on, counting the
orders still open: a position may drift past a limit as prices move, but the
trader never trades it there.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubetrade_testing.trading import trade_job
from kubetrade_workloads.market.history import FloatArray, History
from kubetrade_workloads.market.types import Position, Side
from kubetrade_workloads.trading.assemble import build
from kubetrade_workloads.trading.feeds import PacedFeed

SYMBOLS = ["AAA", "BBB", "CCC"]
MAX_WEIGHT, MAX_GROSS = 0.25, 0.6
EPS = 1e-6


class Scripted:
    """A strategy that asks for whatever targets it is given, bar by bar."""

    lookback = 1

    def __init__(self, targets: list[list[float]]) -> None:
        self.targets = targets
        self.calls = 0

    def target_weights(self, history: History, weights: FloatArray) -> FloatArray:
        row = self.targets[self.calls % len(self.targets)]
        self.calls += 1
        return np.array(row)


def _history(returns: list[list[float]]) -> History:
    closes = 100.0 * np.cumprod(1.0 + np.array(returns), axis=0)
    times = pd.date_range("2024-01-02", periods=len(returns), freq="D", tz="UTC")
    rows = [
        {
            "timestamp": t,
            "symbol": s,
            "open": c,
            "high": c * 1.01,
            "low": c * 0.99,
            "close": c,
            "volume": 1e9,
        }
        for t, row in zip(times, closes, strict=True)
        for s, c in zip(SYMBOLS, row, strict=True)
    ]
    return History.from_frame(pd.DataFrame(rows), SYMBOLS)


def _pro_forma(assembly: object) -> dict[str, Position]:
    trader = assembly.trader  # type: ignore[attr-defined]
    held = dict(trader.p.book.portfolio.positions)
    for order in trader.p.router.open_orders:
        rest = order.quantity - order.filled_quantity
        old = held.get(order.symbol)
        quantity = (old.quantity if old else 0.0) + (rest if order.side == Side.BUY else -rest)
        held[order.symbol] = Position(order.symbol, quantity, 0.0)
    return held


returns = st.lists(
    st.lists(st.floats(-0.06, 0.06, allow_nan=False), min_size=3, max_size=3),
    min_size=25,
    max_size=40,
)
targets = st.lists(
    st.lists(st.sampled_from([0.0, 0.1, 0.3, 0.5, 1.0, 3.0, -1.0]), min_size=3, max_size=3),
    min_size=4,
    max_size=10,
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=returns, asks=targets)
def test_no_order_takes_the_portfolio_past_a_limit(
    path: list[list[float]], asks: list[list[float]]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        job = trade_job(
            Path(folder),
            symbols=SYMBOLS,
            costs={"commissionBps": 0.0, "slippageBps": 0.0},
            risk={
                "limits": {
                    "maxPositionWeight": MAX_WEIGHT,
                    "maxGrossExposure": MAX_GROSS,
                    "maxDailyLoss": 0.9,
                    "maxDrawdown": 0.95,
                    "maxVar": 0.99,
                },
                "breakers": {"marketDrop": 0.99, "consecutiveLosses": 1000},
            },
        )
        assembly = build(job)
        assembly.feed = PacedFeed(_history(path), 0.0)
        assembly.warmup = 1  # trade every bar of the path
        assembly.trader.p.strategy = Scripted(asks)  # type: ignore[assignment]
        try:
            assembly.resume()
            trader = assembly.trader
            while not assembly.feed.exhausted:
                bar = assembly.feed.next(1.0)
                assert bar is not None
                before = _pro_forma(assembly)
                trader.on_bar(bar)
                after = _pro_forma(assembly)
                view = trader.p.book.view(bar.time, after)
                grown = [
                    s
                    for s in SYMBOLS
                    if abs(after[s].quantity if s in after else 0.0)
                    > abs(before[s].quantity if s in before else 0.0) + EPS
                ]
                if not grown or view.equity <= 0:
                    continue
                weights = {
                    s: abs(p.quantity) * view.prices[s] / view.equity for s, p in after.items()
                }
                for symbol in grown:
                    assert weights[symbol] <= MAX_WEIGHT + EPS, (symbol, weights)
                assert sum(weights.values()) <= MAX_GROSS + EPS, weights
        finally:
            assembly.close()
