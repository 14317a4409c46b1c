"""What a step earns: fills and costs as the backtest books them, the three rewards, the limits."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from kubetrade_testing import markets
from kubetrade_workloads.backtest import BacktestSettings, Rebalance, run_backtest
from kubetrade_workloads.config.training import EnvironmentConfig
from kubetrade_workloads.envs.arrays import NonFiniteError, prepare
from kubetrade_workloads.envs.features import FeatureTransform
from kubetrade_workloads.envs.trading_env import TradingEnv
from kubetrade_workloads.market.costs import CostModel
from kubetrade_workloads.market.history import FloatArray, History


def _env(history: History, **config: object) -> TradingEnv:
    cfg = EnvironmentConfig.model_validate({"window": 3, **config})
    return TradingEnv(prepare(history, FeatureTransform.fit(history), 3), cfg)


def test_one_step_books_fills_at_the_next_open_with_the_shared_costs() -> None:
    history = markets.history(["AAA"], n=30)
    env = _env(history, costs={"commissionBps": 5, "slippageBps": 10}, initialCash=1000.0)
    env.reset(seed=0)
    t = int(env.book.t[0])
    _, reward, *_ = env.step(np.array([0.5], dtype=np.float32))
    quantity = 0.5 * 1000.0 / history.close[t, 0]
    costs = CostModel(commission_bps=5, slippage_bps=10)
    price = costs.fill_price(
        float(quantity), float(history.open[t + 1, 0]), float(history.volume[t + 1, 0])
    )
    assert price == pytest.approx(history.open[t + 1, 0] * 1.001)
    cash = 1000.0 - quantity * price - costs.commission(float(quantity), price)
    equity = cash + quantity * history.close[t + 1, 0]
    assert env.book.equity[0] == pytest.approx(equity, rel=1e-12)
    assert reward == pytest.approx(math.log(equity / 1000.0), rel=1e-12)


class _Fixed:
    """A strategy that always wants the same weights."""

    lookback = 1

    def __init__(self, weights: FloatArray) -> None:
        self.weights = weights

    def target_weights(self, history: History, weights: FloatArray) -> FloatArray:
        return self.weights


def test_equity_matches_the_backtest_engine_rebalancing_every_bar() -> None:
    history = markets.history(["AAA", "BBB", "CCC"], n=60, seed=8)
    config = {"costs": {"commissionBps": 3, "slippageBps": 7}}
    env = _env(history, **config)
    env.reset(seed=0)
    first = int(env.book.t[0])
    target = np.array([0.3, 0.2, 0.4])
    curve = [env.book.equity[0]]
    done = False
    while not done:
        _, _, terminated, truncated, info = env.step(target.astype(np.float32))
        curve.append(info["equity"])
        done = terminated or truncated
    settings = BacktestSettings(
        costs=CostModel(commission_bps=3, slippage_bps=7),
        rebalance=Rebalance(mode="periodic", every=1),  # type: ignore[arg-type]
        start=first,
    )
    result = run_backtest(history, _Fixed(target.astype(np.float32).astype(np.float64)), settings)
    np.testing.assert_allclose(np.asarray(curve), result.equity.to_numpy(), rtol=1e-10)


def test_differential_sharpe_follows_moody_and_saffell() -> None:
    history = markets.history(["AAA"], n=40, seed=1)
    env = _env(history, reward="differential_sharpe", sharpeEta=0.1)
    env.reset(seed=0)
    a, b = 0.0, env.book.second[0]
    assert b > 0  # starts from the split's typical variance, not zero
    for _ in range(10):
        before = env.book.equity[0]
        _, reward, *_ = env.step(np.array([1.0], dtype=np.float32))
        r = math.log(env.book.equity[0] / before)
        da, db = r - a, r * r - b
        expected = (b * da - 0.5 * a * db) / (b - a * a) ** 1.5
        assert reward == pytest.approx(expected, rel=1e-9)
        a, b = a + 0.1 * da, b + 0.1 * db


def test_drawdown_penalty_charges_new_drawdown_only() -> None:
    history = markets.history(["AAA"], n=60, seed=2)
    env = _env(history, reward="drawdown_penalty", drawdownWeight=2.0)
    env.reset(seed=0)
    peak, drawdown = env.book.equity[0], 0.0
    for _ in range(30):
        before = env.book.equity[0]
        _, reward, *_ = env.step(np.array([1.0], dtype=np.float32))
        after = env.book.equity[0]
        peak = max(peak, after)
        new = 1 - after / peak
        expected = math.log(after / before) - 2.0 * max(new - drawdown, 0.0)
        drawdown = new
        assert reward == pytest.approx(expected, rel=1e-9, abs=1e-15)


def test_limits_cap_weights_gross_exposure_and_shorts() -> None:
    history = markets.history(["AAA", "BBB"], n=30)
    env = _env(history, maxPositionWeight=0.4)
    env.reset(seed=0)
    obs, *_ = env.step(np.array([1.0, -1.0], dtype=np.float32))
    assert obs[-3] == pytest.approx(0.4, abs=0.02) and obs[-2] == 0.0  # capped; no short
    shorting = _env(history, costs={"allowShort": True})
    shorting.reset(seed=0)
    obs, *_ = shorting.step(np.array([1.0, -1.0], dtype=np.float32))
    assert obs[-3] == pytest.approx(0.5, abs=0.02) and obs[-2] == pytest.approx(-0.5, abs=0.02)


def test_discrete_actions_sell_hold_buy() -> None:
    history = markets.history(["AAA", "BBB"], n=30)
    env = _env(history, actionSpace="discrete", maxPositionWeight=0.5)
    env.reset(seed=0)
    obs, *_ = env.step(np.array([2, 2]))  # buy both: 0.5 each
    assert obs[-3:-1] == pytest.approx([0.5, 0.5], abs=0.02)
    qty = env.book.qty.copy()
    obs, *_ = env.step(np.array([0, 1]))  # sell the first, hold the second
    assert obs[-3] == 0.0 and env.book.qty[0, 1] == qty[0, 1]


def test_nan_in_features_fails_with_the_bar_symbol_and_feature() -> None:
    frame = markets.bars(["AAA", "BBB"], n=40)
    frame["momentum"] = 1.0
    frame.loc[(frame["symbol"] == "BBB") & (frame.index > 50), "momentum"] = np.nan
    history = History.from_frame(frame)
    transform = FeatureTransform.fit(history, ["momentum"])
    with pytest.raises(
        NonFiniteError, match=r"feature 'momentum' of BBB is not finite at 2022-01-"
    ):
        prepare(history, transform, 3)


def test_a_non_finite_reward_fails_the_step_clearly() -> None:
    history = markets.history(["AAA"], n=30)
    checked = prepare(history, FeatureTransform.fit(history), 3)
    close = checked.close.copy()
    env = TradingEnv(replace(checked, close=close), EnvironmentConfig(window=3))
    env.reset(seed=0)
    env.step(np.array([0.5], dtype=np.float32))
    close[int(env.book.t[0]) + 1, 0] = np.nan  # a price gone bad after the checks
    with pytest.raises(NonFiniteError, match="reward is not finite at 2022-01-"):
        env.step(np.array([0.5], dtype=np.float32))


def test_a_non_finite_action_fails_clearly() -> None:
    env = _env(markets.history(["AAA"], n=30))
    env.reset(seed=0)
    with pytest.raises(NonFiniteError, match="non-finite action"):
        env.step(np.array([np.nan], dtype=np.float32))


def test_a_split_shorter_than_the_window_is_refused() -> None:
    history = markets.history(["AAA"], n=4)
    with pytest.raises(ValueError, match="too short for a window of 3"):
        prepare(history, FeatureTransform.fit(history), 3)
