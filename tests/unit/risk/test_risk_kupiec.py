"""Kupiec's proportion-of-failures test of VaR forecasts."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats  # type: ignore[import-untyped]

from kubetrade_workloads.risk import var_backtest


def test_kupiec_matches_the_formula_and_scipy() -> None:
    n, x, p = 250, 8, 0.01
    lr = -2 * (
        (n - x) * math.log(1 - p)
        + x * math.log(p)
        - (n - x) * math.log(1 - x / n)
        - x * math.log(x / n)
    )
    result = var_backtest.kupiec(x, n, 0.99)
    assert result.lr == pytest.approx(lr, rel=1e-12)
    assert result.p_value == pytest.approx(stats.chi2.sf(lr, 1), rel=1e-9)
    assert result.expected == pytest.approx(2.5)
    assert result.rate == pytest.approx(0.032)
    assert result.rejected  # 8 breaches where 2.5 were promised


def test_kupiec_accepts_the_promised_rate() -> None:
    result = var_backtest.kupiec(5, 100, 0.95)
    assert result.lr == pytest.approx(0.0, abs=1e-12)
    assert result.p_value == pytest.approx(1.0)
    assert not result.rejected


def test_kupiec_without_exceptions() -> None:
    result = var_backtest.kupiec(0, 250, 0.99)
    assert result.lr == pytest.approx(-2 * 250 * math.log(0.99))
    assert result.p_value == pytest.approx(stats.chi2.sf(result.lr, 1))


@pytest.mark.parametrize(("x", "n"), [(1, 0), (-1, 10), (11, 10)])
def test_kupiec_rejects_impossible_counts(x: int, n: int) -> None:
    with pytest.raises(ValueError):
        var_backtest.kupiec(x, n, 0.99)


def test_rolling_var_never_sees_the_return_it_forecasts() -> None:
    r = pd.Series([0.01, -0.02, 0.03, -0.5, 0.0])
    forecast = var_backtest.rolling_historical_var(r, window=3, confidence=0.9)
    assert forecast.iloc[:3].isna().all()
    assert forecast.iloc[3] == pytest.approx(-np.quantile([0.01, -0.02, 0.03], 0.1))
    assert forecast.iloc[4] == pytest.approx(-np.quantile([-0.02, 0.03, -0.5], 0.1))


def test_backtest_counts_exceptions() -> None:
    returns = [-0.03, 0.01, -0.01, -0.05, 0.02]
    forecasts = [0.02, 0.02, float("nan"), 0.02, 0.02]
    result = var_backtest.backtest(returns, forecasts, 0.95)
    assert (result.observations, result.exceptions) == (4, 2)


def test_a_well_specified_var_passes_on_normal_returns() -> None:
    r = pd.Series(np.random.default_rng(1).normal(0, 0.01, 3000))
    forecasts = var_backtest.rolling_historical_var(r, 500, 0.95)
    assert not var_backtest.backtest(r, forecasts, 0.95).rejected


def test_backtest_shapes_must_agree() -> None:
    with pytest.raises(ValueError, match="forecasts"):
        var_backtest.backtest([0.1, 0.2], [0.1], 0.95)
