"""Cornish-Fisher VaR on real daily returns (issue 12, item 7).

AAPL's 2000-2013 log returns, with its -52% day, have skewness -4.4 and excess
kurtosis 106: far outside the range where the Cornish-Fisher expansion is a
quantile function. There the estimate must be the historical one, said so and
warned about; on a calm stretch of the same stock the expansion stays in use.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

from kubetrade_testing import real_bars
from kubetrade_workloads.risk import var


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
