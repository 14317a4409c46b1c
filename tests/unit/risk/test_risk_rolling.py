"""Rolling volatility, drawdown and correlation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from kubetrade_workloads.risk import rolling


def test_rolling_volatility_is_annualised_sample_std() -> None:
    r = pd.Series(np.random.default_rng(0).normal(0, 0.01, 100))
    vol = rolling.rolling_volatility(r, 20, 365)
    assert vol.iloc[:19].isna().all()
    assert vol.iloc[-1] == pytest.approx(r.iloc[-20:].std(ddof=1) * math.sqrt(365))


def test_drawdown_counts_the_starting_capital_as_a_peak() -> None:
    dd = rolling.drawdown(pd.Series([-0.1, 0.05, 0.2, -0.5]))
    assert dd.tolist() == pytest.approx([-0.1, -0.055, 0.0, -0.5])


def test_rolling_max_drawdown() -> None:
    r = pd.Series([0.1, -0.1, -0.1, 0.3, 0.0])
    worst = rolling.rolling_max_drawdown(r, 3)
    assert worst.iloc[2] == pytest.approx(0.81 * 1.1 / 1.1 - 1)
    assert worst.iloc[4] == pytest.approx(-0.1)


def test_rolling_correlation_matches_pandas() -> None:
    rng = np.random.default_rng(2)
    a = pd.Series(rng.normal(size=60))
    b = a * 0.5 + pd.Series(rng.normal(size=60))
    corr = rolling.rolling_correlation(a, b, 30)
    assert corr.iloc[-1] == pytest.approx(np.corrcoef(a.iloc[-30:], b.iloc[-30:])[0, 1])
