"""The risk manager as the backtest engine's RiskGate, through the real engine."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from kubetrade_testing import real_bars
from kubetrade_testing.sizing import Constant, alternating, risk_config
from kubetrade_testing.sizing import history as sizing_history
from kubetrade_workloads.backtest import BacktestSettings, run_events
from kubetrade_workloads.config.risk import RiskConfig
from kubetrade_workloads.data.sources.synthetic import SyntheticSource
from kubetrade_workloads.market.history import FloatArray, History
from kubetrade_workloads.market.ports import RiskGate
from kubetrade_workloads.market.sim_broker import FillTiming
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


# -- spec.risk.sizing in the backtest ---------------------------------------------------------

LOOKBACK = 60
"""The manager's default window of returns; the engine warms it on the bars before start."""
CLOSE_FILLS = BacktestSettings(timing=FillTiming.CLOSE, start=LOOKBACK + 1)
"""Fills at the deciding close, no costs: each bar's weights are its sized targets."""


def _sized_run(history: History, signals: list[float], **sizing: object) -> np.ndarray:
    manager = RiskManager(risk_config(**sizing))
    result = run_events(history, Constant(signals), CLOSE_FILLS, manager)
    assert not result.refusals
    weights: np.ndarray = result.weights.to_numpy()
    return weights


def test_without_a_sizing_method_the_targets_are_the_weights() -> None:
    history = sizing_history({s: alternating(0.0, 0.01, 90) for s in ("AAA", "BBB")})
    weights = _sized_run(history, [0.6, 0.3])
    assert weights[0] == pytest.approx([0.6, 0.3])


def test_fixed_fraction_scales_every_signal_to_the_fraction() -> None:
    history = sizing_history({s: alternating(0.0, 0.01, 90) for s in ("AAA", "BBB")})
    weights = _sized_run(history, [1.0, 0.5], method="fixed_fraction", fraction=0.1)
    assert weights[0] == pytest.approx([0.1, 0.05])  # a full signal gets the fraction, no more
    assert np.abs(weights).max() <= 0.1 + 1e-9


def test_volatility_target_halves_the_position_when_volatility_doubles() -> None:
    # AAA swings 1% a day, then 2% a day; BBB swings 2% throughout.
    calm, wild = alternating(0.0, 0.01, 122), alternating(0.0, 0.02, 122)
    history = sizing_history(
        {"AAA": np.concatenate([calm, wild]), "BBB": np.concatenate([wild, wild])}
    )
    weights = _sized_run(history, [1.0, 1.0], method="volatility_target", targetVolatility=0.08)
    # The first traded bar's window: 60 returns of +-1% (sample std, annualised).
    vol = float(np.std(calm[:LOOKBACK], ddof=1)) * np.sqrt(252.0)
    assert weights[0, 0] == pytest.approx(0.08 / vol)
    assert weights[0, 1] == pytest.approx(weights[0, 0] / 2)  # twice the volatility
    # Once AAA's window holds only the wild days, its position is half what it was.
    later = 122 + LOOKBACK - CLOSE_FILLS.start
    assert weights[later, 0] == pytest.approx(weights[0, 0] / 2)


def test_kelly_scales_with_edge_over_variance_and_never_bets_against_the_edge() -> None:
    history = sizing_history(
        {
            "AAA": alternating(0.0001, 0.01, 90),
            "BBB": alternating(0.0002, 0.01, 90),  # twice the edge
            "CCC": alternating(0.0001, 0.02, 90),  # four times the variance
            "DDD": alternating(-0.0001, 0.01, 90),  # a losing edge, signalled long
        }
    )
    signals = [1.0, 1.0, 1.0, 1.0]
    weights = _sized_run(history, signals, method="kelly", kellyFraction=0.25)
    window = alternating(0.0001, 0.01, 90)[:LOOKBACK]
    full_kelly = window.mean() / window.var(ddof=1)
    assert weights[0, 0] == pytest.approx(0.25 * full_kelly)
    assert weights[0, 1] == pytest.approx(2 * weights[0, 0], rel=1e-6)
    assert weights[0, 2] == pytest.approx(weights[0, 0] / 4, rel=1e-6)
    assert weights[0, 3] == 0.0
    half = _sized_run(history, [0.5, 0.5, 0.5, 0.5], method="kelly", kellyFraction=0.25)
    assert half[0] == pytest.approx(weights[0] / 2)  # conviction scales the bet


def test_volatility_target_on_real_bars_sizes_each_stock_by_its_own_volatility() -> None:
    # AAPL and IBM 2001-2003, no split inside: real volatility, changing bar by bar.
    bars = real_bars.stocks("AAPL", "IBM", start="2001-01-01", end="2003-12-31")
    history = History.from_frame(bars, ["AAPL", "IBM"])
    weights = _sized_run(history, [1.0, 1.0], method="volatility_target", targetVolatility=0.1)
    returns = history.close[1:] / history.close[:-1] - 1.0
    start = CLOSE_FILLS.start
    for k in range(len(weights)):
        window = returns[start + k - LOOKBACK : start + k]  # the 60 returns up to the bar
        vol = np.std(window, axis=0, ddof=1) * np.sqrt(252.0)
        assert weights[k] == pytest.approx(np.minimum(0.1 / vol, 1.0), rel=1e-9), k
        # Whichever stock swung more in its window got the smaller position.
        assert (weights[k, 0] < weights[k, 1]) == (vol[0] > vol[1]), k
