"""Cornish-Fisher VaR only where its expansion is a quantile function; historical otherwise.

The expansion z + (z^2-1)S/6 + (z^3-3z)K/24 - (2z^3-5z)S^2/36 stops increasing in
z for large skew S or excess kurtosis K, and its "VaR" is then no quantile of
anything (excess kurtosis 26 gave half the historical VaR, silently).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from kubetrade_testing import real_bars
from kubetrade_workloads.reporting import tables
from kubetrade_workloads.reporting.analysis import analyze
from kubetrade_workloads.reporting.inputs import ReportData
from kubetrade_workloads.risk import var


def _grid(confidence: float) -> np.ndarray:
    """Every z the estimate uses, from the ES grid's far tail to its mirror, densely."""
    z_lo = var._NORMAL.inv_cdf(0.5 / var._ES_GRID * (1.0 - confidence))
    return np.linspace(z_lo, -z_lo, 20_001)


def _fat_tailed() -> np.ndarray:
    """Four years of a volatile stock with three earnings jumps and one crash day."""
    rng = np.random.default_rng(3)
    days = 0.015 * rng.standard_t(5, size=1000)
    return np.concatenate([days, [0.25, 0.20, 0.15, -0.10]])


@settings(max_examples=300, deadline=None)
@given(
    skew=st.floats(-4.0, 4.0),
    kurt=st.floats(-3.0, 60.0),
    confidence=st.floats(0.9, 0.995),
)
def test_valid_exactly_where_the_expansion_increases(
    skew: float, kurt: float, confidence: float
) -> None:
    z = _grid(confidence)
    slope = var.cornish_fisher_slope(z, skew, kurt)
    if var.cornish_fisher_valid(skew, kurt, confidence):
        assert (slope > 0.0).all()
        assert (np.diff(var.cornish_fisher_z(z, skew, kurt)) > 0.0).all()
    else:  # the grid may straddle the dip; a quadratic between points moves < 1e-6
        assert slope.min() < 1e-6


def test_the_slope_is_the_derivative() -> None:
    z, h = np.linspace(-4.0, 4.0, 81), 1e-6
    for skew, kurt in [(0.0, 0.0), (-1.3, 5.0), (2.0, 26.0)]:
        numeric = (
            var.cornish_fisher_z(z + h, skew, kurt) - var.cornish_fisher_z(z - h, skew, kurt)
        ) / (2 * h)
        assert var.cornish_fisher_slope(z, skew, kurt) == pytest.approx(numeric, rel=1e-6, abs=1e-6)


def test_the_domain_at_zero_skew() -> None:
    # At S = 0 the slope 1 + (z^2 - 1)K/8 dips below 0 near z = 0 once K > 8.
    assert var.cornish_fisher_valid(0.0, 0.0, 0.95)
    assert var.cornish_fisher_valid(0.0, 7.9, 0.95)
    assert not var.cornish_fisher_valid(0.0, 8.1, 0.95)
    assert not var.cornish_fisher_valid(0.0, 26.0, 0.95)
    # A platykurtic sample turns down only far in the tail: beyond 99.9% VaR's grid.
    assert var.cornish_fisher_valid(0.0, -0.001, 0.999)
    assert not var.cornish_fisher_valid(0.0, -1.0, 0.99)


samples = arrays(
    np.float64,
    st.integers(30, 300),
    elements=st.floats(-0.5, 0.5, allow_nan=False, allow_subnormal=False),
)


@settings(max_examples=150, deadline=None)
@given(returns=samples, confidence=st.sampled_from([0.9, 0.95, 0.99]))
def test_the_reported_var_comes_from_a_valid_estimator(
    returns: np.ndarray, confidence: float
) -> None:
    est = var.estimate(returns, "cornish_fisher", confidence)
    _, _, skew, kurt = var.moments(returns)
    assert est.method == "cornish_fisher"
    if est.estimator == "cornish_fisher":
        assert var.cornish_fisher_valid(skew, kurt, confidence) and not est.note
        q = var.cornish_fisher_z(_grid(confidence), skew, kurt)
        assert (np.diff(q) > 0.0).all()
        assert est.es >= est.var - 1e-12  # the tail beyond a quantile is worse than it
    else:
        assert est.estimator == "historical" and "Cornish-Fisher" in est.note
        fallback = var.historical(returns, confidence)
        assert (est.var, est.es) == (fallback.var, fallback.es)


def test_fat_tails_fall_back_to_historical_and_say_so(caplog: pytest.LogCaptureFixture) -> None:
    r = _fat_tailed()
    _, std, skew, kurt = var.moments(r)
    assert kurt > 20.0 and skew > 1.0  # a real stock's year with earnings jumps looks so
    historical = var.historical(r, 0.95)
    # What the expansion alone says: well under half the loss the sample shows.
    raw = -(r.mean() + std * var.cornish_fisher_z(var._NORMAL.inv_cdf(0.05), skew, kurt))
    assert raw < 0.5 * historical.var
    with caplog.at_level(logging.WARNING, logger="kubetrade_workloads.risk.var"):
        est = var.estimate(r, "cornish_fisher", 0.95)
    assert (est.estimator, est.var, est.es) == ("historical", historical.var, historical.es)
    assert "kurtosis" in est.note and est.label == "historical (cornish-fisher invalid)"
    assert any("historical VaR used instead" in m for m in caplog.messages)


def test_a_report_names_the_estimator_used() -> None:
    r = _fat_tailed()
    index = pd.bdate_range("2021-01-04", periods=r.size, tz="UTC")
    data = ReportData(pd.Series(r, index=index), 252.0)
    analysis = analyze(data)
    estimators = {e["method"]: e["estimator"] for e in analysis.to_dict()["risk"]["estimates"]}
    assert estimators["cornish_fisher"] == "historical"
    assert estimators["parametric"] == "parametric"
    rows = tables.var_table(analysis).rows
    assert "historical (cornish-fisher invalid)" in [row[0] for row in rows]


@pytest.mark.parametrize(
    ("symbol", "start", "end", "cf_over_historical"),
    [
        ("GOOG", "2007-08-22", "2008-08-20", (0.5, 0.65)),  # earnings jumps up: CF far too low
        ("AAPL", "2000-03-02", "2001-03-01", (1.4, 1.6)),  # the -52% crash: CF far too high
    ],
)
def test_real_years_outside_the_domain_report_historical(
    symbol: str, start: str, end: str, cf_over_historical: tuple[float, float]
) -> None:
    close = real_bars.split_adjusted_close(symbol)
    r = var.clean_returns(close.pct_change().dropna()[start:end])
    assert 250 <= r.size <= 253  # one year of sessions
    _, std, skew, kurt = var.moments(r)
    historical = var.historical(r, 0.95)
    raw = -(r.mean() + std * var.cornish_fisher_z(var._NORMAL.inv_cdf(0.05), skew, kurt))
    low, high = cf_over_historical
    assert low < raw / historical.var < high  # what the expansion alone would have said
    est = var.estimate(r, "cornish_fisher", 0.95)
    assert (est.estimator, est.var) == ("historical", historical.var)
