"""Risk on real daily returns (issue 12, items 7 and 8): Cornish-Fisher VaR and
volatility-target sizing.

AAPL's 2000-2013 log returns, with its -52% day, have skewness -4.4 and excess
kurtosis 106: far outside the range where the Cornish-Fisher expansion is a
quantile function. There the estimate must be the historical one, said so and
warned about; on a calm stretch of the same stock the expansion stays in use.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from kubetrade_testing import real_bars
from kubetrade_testing.sizing import Constant, risk_config
from kubetrade_workloads.backtest import BacktestSettings, run_events
from kubetrade_workloads.backtest.settings import Rebalance, RebalanceMode
from kubetrade_workloads.config.data import CleaningConfig
from kubetrade_workloads.data import clean
from kubetrade_workloads.market.bars import COLUMNS
from kubetrade_workloads.market.history import History
from kubetrade_workloads.market.sim_broker import FillTiming
from kubetrade_workloads.risk import var
from kubetrade_workloads.risk.manager import RiskManager


def _returns(symbol: str, start: str, end: str) -> np.ndarray:
    close = real_bars.split_adjusted_close(symbol)[start:end]
    return np.diff(np.log(close.to_numpy()))


def test_fat_real_tails_fall_back_to_historical_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    returns = _returns("AAPL", "2000-03-01", "2013-03-01")
    _, _, skew, kurt = var.moments(returns)
    assert skew < -4 and kurt > 100
    with caplog.at_level(logging.WARNING):
        got = var.parametric(returns, 0.99, cornish_fisher=True)
    historical = var.historical(returns, 0.99)
    assert (got.method, got.estimator) == ("cornish_fisher", "historical")
    assert (got.var, got.es) == (historical.var, historical.es)
    assert "kurtosis" in got.note and "historical" in got.label
    assert any("Cornish-Fisher" in r.getMessage() for r in caplog.records)


def test_a_calm_real_stretch_keeps_cornish_fisher() -> None:
    returns = _returns("AAPL", "2004-01-01", "2006-12-31")
    got = var.parametric(returns, 0.99, cornish_fisher=True)
    assert got.estimator == "cornish_fisher" and not got.note
    assert got.var == pytest.approx(var.historical(returns, 0.99).var, rel=0.25)


WINDOW = 60
"""Returns the risk manager estimates volatility from (its default lookback)."""


def test_volatility_target_sizes_real_positions_by_their_real_volatility() -> None:
    """spec.risk.sizing on AAPL and IBM's cleaned real bars: each bar's position is
    the target over the trailing 60-return volatility, so AAPL's shrinks when its
    -52% day enters the window and grows back when it leaves."""
    raw = real_bars.stocks("AAPL", "IBM", end="2001-06-29")
    bars = clean.clean(raw, CleaningConfig(), "1d").bars.loc[:, list(COLUMNS)]
    history = History.from_frame(bars, ["AAPL", "IBM"])
    manager = RiskManager(risk_config(method="volatility_target", targetVolatility=0.1))
    every_bar = Rebalance(mode=RebalanceMode.PERIODIC, every=1)  # back to target each bar
    settings = BacktestSettings(timing=FillTiming.CLOSE, start=WINDOW + 1, rebalance=every_bar)
    result = run_events(history, Constant([1.0, 1.0]), settings, manager)
    assert not result.refusals
    weights = result.weights
    closes = bars.pivot(index="timestamp", columns="symbol", values="close")
    vol = closes.pct_change().rolling(WINDOW).std(ddof=1) * np.sqrt(252.0)
    expected = (0.1 / vol).clip(upper=1.0).reindex(weights.index)[list(weights.columns)]
    np.testing.assert_allclose(weights.to_numpy(), expected.to_numpy(), rtol=1e-6)
    aapl = weights["AAPL"]
    before = aapl[aapl.index < pd.Timestamp(real_bars.AAPL_CRASH, tz="UTC")].iloc[-1]
    after = aapl[aapl.index >= pd.Timestamp(real_bars.AAPL_CRASH, tz="UTC")]
    assert after.iloc[0] < 0.6 * before  # one real day doubled the window's volatility
    assert after.iloc[WINDOW + 5] > 1.3 * after.iloc[0]  # and it left the window
