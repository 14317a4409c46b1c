"""The vectorised path and the event-driven engine give the same result on the same inputs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from kubetrade_testing.histories import MatrixStrategy, history, random_history
from kubetrade_workloads.backtest import (
    BacktestSettings,
    Rebalance,
    RebalanceMode,
    run_events,
    run_vectorized,
)
from kubetrade_workloads.backtest.result import BacktestResult
from kubetrade_workloads.market.costs import CostModel
from kubetrade_workloads.market.sim_broker import FillTiming
from kubetrade_workloads.market.strategy import VectorStrategy
from kubetrade_workloads.strategies import BuyAndHold, Momentum, MovingAverageCrossover

rules = st.one_of(
    st.just(Rebalance()),
    st.builds(Rebalance, st.just(RebalanceMode.PERIODIC), st.integers(1, 7)),
    st.builds(
        Rebalance, st.just(RebalanceMode.THRESHOLD), st.just(1), st.sampled_from([0.0, 0.01, 0.1])
    ),
)
cost_models = st.builds(
    CostModel,
    st.sampled_from([0.0, 1.0, 25.0]),
    st.sampled_from([0.0, 2.0, 50.0]),
    st.sampled_from([0.0, 30.0]),
    st.booleans(),
)
baselines = st.one_of(
    st.just(BuyAndHold()),
    st.builds(MovingAverageCrossover, st.integers(1, 4), st.integers(5, 12), st.booleans()),
    st.builds(Momentum, st.integers(1, 10), st.one_of(st.none(), st.integers(1, 3))),
)


def assert_same(fast: BacktestResult, slow: BacktestResult) -> None:
    assert (fast.mode, slow.mode) == ("vectorized", "event")
    np.testing.assert_allclose(fast.equity, slow.equity, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(fast.positions, slow.positions, rtol=1e-9, atol=1e-9)
    pd.testing.assert_frame_equal(fast.fills, slow.fills, rtol=1e-9)
    theirs = slow.metrics.to_dict()
    for key, value in fast.metrics.to_dict().items():
        other = theirs[key]
        assert (value is None) == (other is None), key
        if value is not None and other is not None:
            assert math.isclose(value, other, rel_tol=1e-9, abs_tol=1e-12), key


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    symbols=st.integers(1, 4),
    strategy=baselines,
    rule=rules,
    costs=cost_models,
    timing=st.sampled_from(list(FillTiming)),
    start=st.integers(0, 15),
)
def test_baselines_agree_on_random_markets(
    seed: int,
    symbols: int,
    strategy: VectorStrategy,
    rule: Rebalance,
    costs: CostModel,
    timing: FillTiming,
    start: int,
) -> None:
    h = random_history(seed, bars=60, symbols=symbols)
    setup = BacktestSettings(costs=costs, timing=timing, rebalance=rule, start=start)
    assert_same(run_vectorized(h, strategy, setup), run_events(h, strategy, setup))


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    rule=rules,
    costs=cost_models,
    timing=st.sampled_from(list(FillTiming)),
)
def test_any_target_matrix_agrees(
    seed: int, rule: Rebalance, costs: CostModel, timing: FillTiming
) -> None:
    rng = np.random.default_rng(seed)
    h = random_history(seed, bars=40, symbols=3)
    levels = np.array([-0.4, 0.0, 0.1, 0.25, 0.5])
    weights = levels[rng.integers(0, len(levels), (40, 3))]
    weights[rng.random(40) < 0.6] = np.nan  # then held: each row repeats the last set
    weights = pd.DataFrame(weights).ffill().fillna(0.0).to_numpy()
    setup = BacktestSettings(costs=costs, timing=timing, rebalance=rule)
    strategy = MatrixStrategy(weights)
    assert_same(run_vectorized(h, strategy, setup), run_events(h, strategy, setup))


def test_exact_ties_break_the_same_way() -> None:
    # Constant prices: every moving average equals every other, bit for bit, in both paths.
    h = history(np.full((40, 2), 7.3))
    strategy = MovingAverageCrossover(3, 9)
    assert_same(run_vectorized(h, strategy), run_events(h, strategy))
