"""The risk manager as the backtest engine's RiskGate, through the real engine."""

from __future__ import annotations

import datetime as dt

import numpy as np

from kubetrade_workloads.backtest import BacktestSettings, run_events
from kubetrade_workloads.config.risk import RiskConfig
from kubetrade_workloads.data.sources.synthetic import SyntheticSource
from kubetrade_workloads.market.history import FloatArray, History
from kubetrade_workloads.market.ports import RiskGate
from kubetrade_workloads.risk.events import RiskEventKind
from kubetrade_workloads.risk.manager import RiskManager


class HalfEach:
    """Wants half its equity in each of two symbols: past every moderate limit."""

    lookback = 1

    def target_weights(self, history: History, weights: FloatArray) -> FloatArray:
        return np.full(len(history.symbols), 0.5)


def test_the_engine_gets_resized_orders_and_simulated_times() -> None:
    bars = SyntheticSource(seed=3).fetch(
        ["AAA", "BBB"], "1d", dt.date(2023, 1, 1), dt.date(2023, 4, 1)
    )
    history = History.from_frame(bars)
    manager = RiskManager(RiskConfig())  # no clock: the orders' times are the bars'
    gate: RiskGate = manager
    result = run_events(history, HalfEach(), BacktestSettings(), gate)
    # Each position was capped near maxPositionWeight 0.2 (fills at the next open drift a little).
    assert 0.15 < float(result.weights.abs().max().max()) < 0.25
    events = manager.drain_events()
    resized = [e for e in events if e.kind == RiskEventKind.ORDER_RESIZED]
    assert resized and "maxPositionWeight" in resized[0].detail
    first, last = history.times[0], history.times[-1]
    for event in events:
        stamp = np.datetime64(event.time.replace(tzinfo=None))
        assert first <= stamp <= last
