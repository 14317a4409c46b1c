"""spec.risk.sizing in a paper session: the trader's orders are sized as configured,
and exactly as the backtest engine sizes them on the same bars."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kubetrade_testing.sizing import Constant, alternating, history, risk_config, wide
from kubetrade_testing.trading import trade_job
from kubetrade_workloads.backtest import BacktestSettings, Rebalance, RebalanceMode, run_events
from kubetrade_workloads.market.history import History
from kubetrade_workloads.market.sim_broker import FillTiming
from kubetrade_workloads.risk.manager import RiskManager
from kubetrade_workloads.trading.assemble import build
from kubetrade_workloads.trading.feeds import PacedFeed
from kubetrade_workloads.trading.trader import Decision

WARMUP = 61
"""Bars the trader warms up on: the risk manager's 60 returns, before it trades."""
CASH = 100_000.0


def _session(
    folder: Path, bars: History, signals: list[float], sizing: dict[str, Any]
) -> tuple[list[Decision], list[tuple[str, float]]]:
    """Trade `bars` on the sim venue; each bar's decision, and the first bar's orders
    as (symbol, signed weight of equity at the deciding close)."""
    job = trade_job(
        folder,
        symbols=list(bars.symbols),
        initialCash=CASH,
        costs={"commissionBps": 0.0, "slippageBps": 0.0},
        risk=wide(**sizing),
    )
    assembly = build(job)
    assembly.feed = PacedFeed(bars, 0.0)
    assembly.warmup = WARMUP
    assembly.trader.p.strategy = Constant(signals)
    decisions = []
    try:
        assembly.resume()
        while not assembly.feed.exhausted:
            bar = assembly.feed.next(1.0)
            assert bar is not None
            decisions.append(assembly.trader.on_bar(bar))
        first = decisions[0].time
        close = dict(zip(bars.symbols, bars.close[WARMUP].tolist(), strict=True))
        orders = [
            (o.symbol, (1 if o.side == "buy" else -1) * o.quantity * close[o.symbol] / CASH)
            for o in assembly.store.orders(job.session_id)
            if o.bar_time == first
        ]
    finally:
        assembly.close()
    return decisions, orders


def _targets(decision: Decision, symbols: tuple[str, ...]) -> list[float]:
    return [decision.targets[s] for s in symbols]


def test_the_trader_sizes_orders_by_volatility(tmp_path: Path) -> None:
    bars = history({"AAA": alternating(0.0, 0.01, 70), "BBB": alternating(0.0, 0.02, 70)})
    sizing = {"method": "volatility_target", "targetVolatility": 0.08}
    decisions, orders = _session(tmp_path, bars, [1.0, 1.0], sizing)
    vol = float(np.std(alternating(0.0, 0.01, 60), ddof=1)) * np.sqrt(252.0)
    aaa, bbb = _targets(decisions[0], bars.symbols)
    assert aaa == pytest.approx(0.08 / vol) and bbb == pytest.approx(aaa / 2)
    assert dict(orders) == pytest.approx({"AAA": aaa, "BBB": bbb})


def test_the_trader_sizes_orders_by_fixed_fraction_and_kelly(tmp_path: Path) -> None:
    bars = history({"AAA": alternating(0.0001, 0.01, 70), "BBB": alternating(-0.0001, 0.01, 70)})
    fixed, orders = _session(tmp_path / "fixed", bars, [1.0, 0.5], {"method": "fixed_fraction"})
    assert _targets(fixed[0], bars.symbols) == pytest.approx([0.10, 0.05])  # moderate: 0.10
    assert dict(orders) == pytest.approx({"AAA": 0.10, "BBB": 0.05})
    kelly, orders = _session(
        tmp_path / "kelly", bars, [1.0, 1.0], {"method": "kelly", "kellyFraction": 0.25}
    )
    window = alternating(0.0001, 0.01, 60)
    expected = 0.25 * window.mean() / window.var(ddof=1)
    assert _targets(kelly[0], bars.symbols) == pytest.approx([expected, 0.0])
    assert dict(orders) == pytest.approx({"AAA": expected})  # BBB's edge is short: no order


def test_without_a_method_the_trader_trades_the_targets_as_weights(tmp_path: Path) -> None:
    bars = history({"AAA": alternating(0.0, 0.01, 70), "BBB": alternating(0.0, 0.02, 70)})
    decisions, orders = _session(tmp_path, bars, [0.6, 0.3], {})
    assert _targets(decisions[0], bars.symbols) == pytest.approx([0.6, 0.3])
    assert dict(orders) == pytest.approx({"AAA": 0.6, "BBB": 0.3})


@pytest.mark.parametrize(
    "sizing",
    [
        {"method": "fixed_fraction", "fraction": 0.2},
        {"method": "volatility_target", "targetVolatility": 0.1},
        {"method": "kelly", "kellyFraction": 0.05},
    ],
    ids=lambda s: s["method"],
)
def test_the_trader_and_the_backtest_size_alike(tmp_path: Path, sizing: dict[str, Any]) -> None:
    rng = np.random.default_rng(8)  # a path whose long edges stay under the position cap
    bars = history({s: rng.normal(0.003, 0.02, 100) for s in ("AAA", "BBB", "CCC")})
    signals = [1.0, 0.4, -0.7]  # no shorts: the negative one is flat in both
    decisions, _ = _session(tmp_path, bars, signals, sizing)
    manager = RiskManager(risk_config(**sizing))
    # Rebalanced every bar at the close, no costs: each bar's weights are its sized targets.
    every_bar = Rebalance(RebalanceMode.PERIODIC, every=1)
    settings = BacktestSettings(timing=FillTiming.CLOSE, rebalance=every_bar, start=WARMUP)
    result = run_events(bars, Constant(signals), settings, manager)
    backtest = result.weights.to_numpy()
    trader = np.array([_targets(d, bars.symbols) for d in decisions])
    assert trader.shape == backtest.shape == (len(bars) - WARMUP, 3)
    if sizing["method"] != "fixed_fraction":  # the estimates move the sizes bar by bar
        assert np.ptp(trader[:, 0]) > 0.01 and np.ptp(trader[:, 1]) > 0.01
    np.testing.assert_allclose(trader, backtest, rtol=1e-9, atol=1e-12)
