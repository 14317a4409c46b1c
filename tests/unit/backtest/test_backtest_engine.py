"""The event-driven engine: fills, costs, risk gate, rebalancing, volume caps."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pytest

from kubetrade_testing.histories import MatrixStrategy, history, random_history
from kubetrade_workloads.backtest import (
    BacktestError,
    BacktestSettings,
    Rebalance,
    RebalanceMode,
    run_backtest,
    run_events,
)
from kubetrade_workloads.backtest.benchmark import BenchmarkError, benchmark_returns
from kubetrade_workloads.market.costs import CostModel
from kubetrade_workloads.market.ports import PortfolioView, RiskDecision
from kubetrade_workloads.market.sim_broker import FillTiming
from kubetrade_workloads.market.strategy import StrategyError
from kubetrade_workloads.market.types import Fill, Order, Side
from kubetrade_workloads.strategies import BuyAndHold

CLOSES = [[100.0], [110.0], [121.0], [110.0]]
OPENS = [[99.0], [105.0], [115.0], [120.0]]


def test_buy_and_hold_fills_at_the_next_open_and_marks_at_closes() -> None:
    h = history(CLOSES, open_=OPENS)
    result = run_events(h, BuyAndHold(), BacktestSettings(initial_cash=1000.0))
    [fill] = result.fills.itertuples()
    assert fill.timestamp == result.equity.index[1]
    assert fill.price == 105.0  # bar 1's open
    assert fill.quantity == pytest.approx(1000.0 / 100.0)  # sized on bar 0's close
    cash = 1000.0 - 10 * 105.0
    np.testing.assert_allclose(result.equity, [1000.0, cash + 1100, cash + 1210, cash + 1100])
    assert result.returns.iloc[0] == 0.0
    assert result.mode == "event"


def test_close_timing_fills_on_the_decision_bar_and_costs_reduce_equity() -> None:
    h = history(CLOSES, open_=OPENS)
    costs = CostModel(commission_bps=10.0, slippage_bps=10.0)
    settings = BacktestSettings(initial_cash=1000.0, timing=FillTiming.CLOSE, costs=costs)
    result = run_events(h, BuyAndHold(), settings)
    [fill] = result.fills.to_dict("records")
    assert fill["timestamp"] == result.equity.index[0]
    assert fill["price"] == pytest.approx(100.0 * 1.001)
    assert fill["commission"] == pytest.approx(10 * 100.1 * 0.001)
    assert result.equity.iloc[0] == pytest.approx(1000.0 - 10 * 0.1 - fill["commission"])


@dataclass
class Recorder:
    """A RiskGate that records every order and can halve buys or refuse sells."""

    halve_buys: bool = False
    refuse_sells: bool = False
    seen: list[tuple[Order, PortfolioView]] = field(default_factory=list)

    def check(self, order: Order, view: PortfolioView) -> RiskDecision:
        self.seen.append((order, view))
        if order.side == Side.SELL and self.refuse_sells:
            return RiskDecision(None, "sells are off")
        if order.side == Side.BUY and self.halve_buys:
            return RiskDecision(replace(order, quantity=order.quantity / 2))
        return RiskDecision(order)


def test_every_order_passes_the_risk_gate_first() -> None:
    h = random_history(7, bars=60)
    weights = np.zeros((60, 3))
    weights[10:30] = 0.3
    gate = Recorder(halve_buys=True)
    result = run_backtest(h, MatrixStrategy(weights), BacktestSettings(), gate)
    assert result.mode == "event"  # a gate forces the bar-by-bar path
    assert len(gate.seen) == len(result.fills) == 6  # three buys, three sells
    first_order, view = gate.seen[0]
    assert view.equity == pytest.approx(100_000.0)
    assert view.day_start_equity == pytest.approx(100_000.0)
    held = result.positions.iloc[12].to_numpy()
    wanted = 0.3 * 100_000.0 / h.close[10]
    np.testing.assert_allclose(held, wanted / 2)  # the gate's resize is what filled
    assert first_order.created_at == h.upto(10).now.to_pydatetime()  # the decision bar's time


def test_refused_orders_are_recorded_and_never_reach_the_broker() -> None:
    h = random_history(8, bars=40)
    weights = np.zeros((40, 3))
    weights[5:20] = 0.2
    result = run_backtest(h, MatrixStrategy(weights), gate=Recorder(refuse_sells=True))
    assert len(result.refusals) == 3
    assert all(reason == "sells are off" for _, reason in result.refusals)
    assert (result.positions.iloc[-1] > 0).all()


def test_sells_reach_the_gate_before_buys() -> None:
    h = random_history(9, bars=10, symbols=2)
    weights = np.zeros((10, 2))
    weights[1:4, 1] = 0.5
    weights[4:, 0] = 0.5  # bar 4: buy S0 and sell S1 together
    gate = Recorder()
    run_events(h, MatrixStrategy(weights), gate=gate)
    bar_4 = h.upto(4).now.to_pydatetime()
    on_bar_4 = [o for o, _ in gate.seen if o.created_at == bar_4]
    assert [(o.symbol, o.side) for o in on_bar_4] == [("S1", Side.SELL), ("S0", Side.BUY)]


def test_client_order_ids_are_deterministic() -> None:
    h = random_history(10, bars=50)
    strategy = MatrixStrategy(np.where(np.arange(50)[:, None] % 10 < 5, 0.3, 0.0).repeat(3, 1))
    first, second = Recorder(), Recorder()
    run_events(h, strategy, gate=first)
    run_events(h, strategy, gate=second)
    ids = [o.client_order_id for o, _ in first.seen]
    assert ids == [o.client_order_id for o, _ in second.seen]
    assert len(set(ids)) == len(ids)


def test_periodic_rebalancing_trades_back_to_target_only_on_schedule() -> None:
    h = random_history(11, bars=30)
    settings = BacktestSettings(rebalance=Rebalance(RebalanceMode.PERIODIC, every=10))
    result = run_backtest(h, BuyAndHold(), settings)
    stamps = result.fills.timestamp.dt.tz_localize(None).to_numpy()
    assert sorted(set(np.searchsorted(h.times, stamps).tolist())) == [
        1,
        11,
        21,
    ]  # decided on bars 0, 10 and 20, filled at the next open


def test_threshold_rebalancing_waits_for_drift() -> None:
    h = history(np.column_stack([np.linspace(100, 200, 50), np.full(50, 100.0)]))
    settings = BacktestSettings(
        rebalance=Rebalance(RebalanceMode.THRESHOLD, threshold=0.05), timing=FillTiming.CLOSE
    )
    result = run_backtest(h, BuyAndHold(), settings)
    drift = (result.weights["S0"] - 0.5).abs()
    assert drift.max() <= 0.05 + 0.01  # one bar of drift at most past the band
    assert 2 < len(result.fills) < 50


def test_a_volume_cap_spreads_a_big_order_over_bars() -> None:
    h = history(np.full((6, 1), 10.0), volume=1000.0)
    settings = BacktestSettings(initial_cash=100_000.0, max_participation=0.5)
    result = run_backtest(h, BuyAndHold(), settings)
    assert result.mode == "event"
    assert result.fills.quantity.tolist() == [500.0] * 5  # 10,000 wanted, 500 a bar
    with pytest.raises(BacktestError, match="vectorised"):
        run_backtest(h, BuyAndHold(), settings, path="vectorized")


def test_negative_targets_mean_flat_without_shorting_and_short_with_it() -> None:
    h = random_history(12, bars=20, symbols=1)
    weights = np.full((20, 1), -0.5)
    flat = run_backtest(h, MatrixStrategy(weights))
    assert flat.fills.empty
    short = run_backtest(
        h, MatrixStrategy(weights), BacktestSettings(costs=CostModel(allow_short=True))
    )
    assert short.positions.to_numpy()[-1, 0] < 0
    assert short.weights.iloc[-1, 0] == pytest.approx(-0.5, rel=0.2)


def test_a_symbol_trades_only_once_it_has_bars() -> None:
    h = random_history(13, bars=20, symbols=2)
    late = np.ones_like(h.close, dtype=bool)
    late[:8, 1] = False
    h = type(h)(
        h.times,
        h.symbols,
        {f: getattr(h, f) for f in ("open", "high", "low", "close", "volume")},
        late,
    )
    result = run_backtest(h, BuyAndHold())
    assert (result.positions["S1"].iloc[:9] == 0).all()
    assert result.positions["S1"].iloc[9] > 0  # decided on bar 8, its first bar


def test_bad_inputs_give_clear_errors() -> None:
    h = random_history(14, bars=10)
    with pytest.raises(BacktestError, match="beyond"):
        run_backtest(h, BuyAndHold(), BacktestSettings(start=10))
    broken = history([[10.0], [0.0], [11.0]])
    with pytest.raises(BacktestError, match="non-positive"):
        run_backtest(broken, BuyAndHold())
    with pytest.raises(StrategyError, match="non-finite"):
        run_backtest(h, MatrixStrategy(np.full((10, 3), np.nan)))
    with pytest.raises(StrategyError, match="non-finite"):
        run_events(h, MatrixStrategy(np.full((10, 3), np.nan)))
    with pytest.raises(ValueError, match="initial_cash"):
        BacktestSettings(initial_cash=0)


def test_benchmarks() -> None:
    h = history([[100.0, 50.0], [110.0, 50.0], [121.0, 25.0]])
    np.testing.assert_allclose(benchmark_returns(h, "equal_weight"), [0.0, 0.05, -0.2])
    # buy-and-hold: half in each at bar 0, weights drift
    value = np.array([1.0, (1.1 + 1.0) / 2, (1.21 + 0.5) / 2])
    np.testing.assert_allclose(
        benchmark_returns(h, "buy_and_hold"), [0.0, *(value[1:] / value[:-1] - 1)]
    )


def test_a_buy_and_hold_benchmark_needs_a_price_on_the_first_bar() -> None:
    h = random_history(15, bars=5, symbols=1)
    nothing = np.zeros_like(h.close, dtype=bool)
    h = type(h)(
        h.times,
        h.symbols,
        {f: getattr(h, f) for f in ("open", "high", "low", "close", "volume")},
        nothing,
    )
    with pytest.raises(BenchmarkError, match="first bar"):
        benchmark_returns(h, "buy_and_hold")


def test_a_result_serialises_to_plain_json_values() -> None:
    h = random_history(16, bars=40)
    doc = run_backtest(h, BuyAndHold()).to_dict(series=True)
    assert doc["metrics"]["bars"] == 40
    assert len(doc["series"]["equity"]) == 40
    assert doc["series"]["benchmarkEquity"][0] == pytest.approx(100_000.0)
    assert doc["benchmark"]["kind"] == "buy_and_hold"


@dataclass
class Observer(Recorder):
    """A gate that is also a RiskObserver: it wants every bar's marks and every fill."""

    bars: list[PortfolioView] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)

    def on_bar(self, view: PortfolioView) -> None:
        self.bars.append(view)

    def on_fill(self, fill: Fill) -> None:
        self.fills.append(fill)


def test_an_observing_gate_sees_every_bar_and_every_fill() -> None:
    h = random_history(17, bars=30, symbols=2)
    gate = Observer()
    result = run_events(h, BuyAndHold(), BacktestSettings(start=3), gate)
    assert len(gate.bars) == 27
    assert [v.time for v in gate.bars] == [h.upto(i).now.to_pydatetime() for i in range(3, 30)]
    assert len(gate.fills) == len(result.fills) == 2
    assert gate.seen[0][1].time == gate.bars[0].time  # orders judged at the bar's time
