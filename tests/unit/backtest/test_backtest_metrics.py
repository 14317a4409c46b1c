"""Each metric equals empyrical-reloaded's or quantstats' value on the same series (to 1e-9),
and the edge cases give the documented result."""

from __future__ import annotations

import importlib
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kubetrade_testing.real_bars import split_adjusted_close
from kubetrade_workloads.backtest import metrics as m
from kubetrade_workloads.backtest.performance import summarize

# Reference libraries without type information, loaded as Any.
ep: Any = importlib.import_module("empyrical")
qs: Any = importlib.import_module("quantstats")

TOL = 1e-9
PPY = 252.0

FIXED = np.array(
    [0.012, -0.021, 0.030, -0.050, 0.010, 0.061, -0.012, 0.004, -0.003, 0.022, -0.040, 0.015]
)
BENCH = np.array(
    [0.010, -0.015, 0.020, -0.030, 0.008, 0.040, -0.010, 0.002, 0.001, 0.012, -0.025, 0.011]
)

returns_lists = st.lists(
    st.floats(min_value=-0.3, max_value=0.3, allow_nan=False, allow_subnormal=False),
    min_size=3,
    max_size=250,
)
ppys = st.sampled_from([252.0, 365.0, 98_280.0, 8_760.0])


def close(mine: float, reference: float) -> bool:
    """Equal to 1e-9; where the reference overflows to infinity we say undefined (NaN)."""
    if math.isnan(mine) or not math.isfinite(reference):
        return math.isnan(mine) and not math.isfinite(reference)
    return math.isclose(mine, reference, rel_tol=TOL, abs_tol=TOL)


def daily(values: np.ndarray) -> pd.Series:
    """A calendar-daily series, so quantstats' day counts are bar counts."""
    return pd.Series(values, index=pd.date_range("2021-01-01", periods=len(values), freq="D"))


def check_against_empyrical(r: np.ndarray, ppy: float) -> None:
    with np.errstate(over="ignore"):  # empyrical overflows to inf where we say NaN
        check_each_against_empyrical(r, ppy)


def check_each_against_empyrical(r: np.ndarray, ppy: float) -> None:
    assert close(m.total_return(r), ep.cum_returns_final(r))
    assert close(m.annual_return(r, ppy), ep.annual_return(r, annualization=ppy))
    assert close(m.max_drawdown(r), ep.max_drawdown(r))
    assert close(m.calmar_ratio(r, ppy), ep.calmar_ratio(r, annualization=ppy))
    if r.max() != r.min():  # empyrical's infinite ratios are our "undefined"
        assert close(m.annual_volatility(r, ppy), ep.annual_volatility(r, annualization=ppy))
        assert close(m.sharpe_ratio(r, ppy), ep.sharpe_ratio(r, annualization=ppy))
    if (r < 0).any():
        assert close(m.sortino_ratio(r, ppy), ep.sortino_ratio(r, annualization=ppy))
        assert close(m.downside_risk(r, ppy), ep.downside_risk(r, annualization=ppy))


def check_against_quantstats(r: np.ndarray) -> None:
    # Our bar counts call a return within 1e-12 of zero unmoved (float noise of an
    # equity summed another way); quantstats counts any non-zero bit.
    r = np.where(np.abs(r) > 1e-12, r, 0.0)
    series = daily(r)
    if (r != 0).any():
        assert close(m.win_rate(r), qs.stats.win_rate(series))
    if (r < 0).any():
        assert close(m.profit_factor(r), qs.stats.profit_factor(series))
    if (r > 0).any() and (r < 0).any():
        rate = qs.stats.win_rate(series)
        expected = rate * qs.stats.avg_win(series) + (1 - rate) * qs.stats.avg_loss(series)
        assert close(m.expectancy(r), expected)
    details = qs.stats.drawdown_details(qs.stats.to_drawdown_series(series))
    if details.empty and r[0] < 0:
        # quantstats misses a drawdown that starts on the first bar when no other does;
        # a leading zero return moves it to the second bar and changes nothing else.
        series = daily(np.concatenate([[0.0], r]))
        details = qs.stats.drawdown_details(qs.stats.to_drawdown_series(series))
    if details.empty:
        assert m.max_drawdown_duration(r) == 0
        assert m.recovery_time(r) == 0
        return
    assert m.max_drawdown_duration(r) == details["days"].max()
    troughs = np.sort(details["max drawdown"].to_numpy())
    if len(troughs) > 1 and math.isclose(troughs[0], troughs[1], rel_tol=1e-9):
        return  # two equally deep troughs: which is "the" deepest is a rounding accident
    deepest = details.loc[details["max drawdown"].idxmin()]
    valley, end = pd.Timestamp(deepest["valley"]), pd.Timestamp(deepest["end"])
    recovered = end < series.index[-1].tz_localize(None)
    expected_recovery = (end - valley).days + 1 if recovered else math.nan
    assert close(m.recovery_time(r), expected_recovery)


def test_fixed_series_matches_empyrical() -> None:
    check_against_empyrical(FIXED, PPY)
    alpha, beta = m.alpha_beta(FIXED, BENCH, PPY)
    ref_alpha, ref_beta = ep.alpha_beta(FIXED, BENCH, annualization=PPY)
    assert close(alpha, ref_alpha)
    assert close(beta, ref_beta)


def test_fixed_series_matches_quantstats() -> None:
    check_against_quantstats(FIXED)
    assert m.max_drawdown_duration(FIXED) == 3  # by hand: bars 6, 7 and 8 are under water


@settings(max_examples=150, deadline=None)
@given(values=returns_lists, ppy=ppys)
def test_random_series_match_empyrical(values: list[float], ppy: float) -> None:
    check_against_empyrical(np.array(values), ppy)


@settings(max_examples=50, deadline=None)  # quantstats is slow per call
@given(values=returns_lists)
def test_random_series_match_quantstats(values: list[float]) -> None:
    r = np.array(values)
    # quantstats reads an all-non-negative series with values above 1 as prices: not ours.
    assume(not (r.min() >= 0 and r.max() > 1))
    check_against_quantstats(r)


@settings(max_examples=150, deadline=None)
@given(
    pairs=st.lists(
        st.tuples(
            st.floats(-0.2, 0.2, allow_subnormal=False), st.floats(-0.2, 0.2, allow_subnormal=False)
        ),
        min_size=3,
        max_size=200,
    ),
    ppy=ppys,
)
def test_random_alpha_and_beta_match_empyrical(
    pairs: list[tuple[float, float]], ppy: float
) -> None:
    r, b = np.array(pairs).T
    alpha, beta = m.alpha_beta(r, b, ppy)
    with np.errstate(over="ignore"):
        ref_alpha, ref_beta = ep.alpha_beta(r, b, annualization=ppy)
    assert close(beta, ref_beta)
    assert close(alpha, ref_alpha)


@pytest.mark.parametrize(
    ("interval", "market", "expected"),
    [
        ("1d", "equities", 252),
        ("1h", "equities", 252 * 7),
        ("1m", "equities", 252 * 390),
        ("1d", "crypto", 365),
        ("15m", "crypto", 365 * 96),
        ("1m", "crypto", 365 * 1440),
    ],
)
def test_annualisation_follows_interval_and_market(
    interval: str, market: str, expected: int
) -> None:
    assert m.periods_per_year(interval, market) == expected


def test_an_unknown_interval_is_an_error() -> None:
    with pytest.raises(m.MetricsError, match="unknown interval"):
        m.periods_per_year("1w")


def test_intraday_volatility_scales_with_bars_per_year() -> None:
    r = FIXED
    daily_vol = m.annual_volatility(r, 252)
    minute_vol = m.annual_volatility(r, m.periods_per_year("1m"))
    assert minute_vol == pytest.approx(daily_vol * math.sqrt(390))


# -- edge cases: documented results ------------------------------------------------


def test_an_empty_series_is_undefined_everywhere() -> None:
    perf = summarize([], PPY, benchmark=[])
    values = perf.to_dict()
    assert values["bars"] == 0
    assert all(v is None for k, v in values.items() if k not in ("bars", "periodsPerYear"))


@pytest.mark.parametrize("value", [0.0, 0.001])
def test_a_constant_gain_has_no_volatility_and_an_undefined_sharpe(value: float) -> None:
    r = np.full(30, value)
    assert m.annual_volatility(r, PPY) == 0.0
    assert math.isnan(m.sharpe_ratio(r, PPY))  # never infinite
    assert math.isnan(m.sortino_ratio(r, PPY))  # no downside
    assert math.isnan(m.calmar_ratio(r, PPY))  # no drawdown
    assert m.max_drawdown(r) == 0.0
    assert m.max_drawdown_duration(r) == 0
    assert m.recovery_time(r) == 0
    assert math.isnan(m.profit_factor(r))


def test_a_constant_loss_has_a_finite_sortino_and_never_recovers() -> None:
    r = np.full(10, -0.01)
    assert math.isnan(m.sharpe_ratio(r, PPY))
    assert m.sortino_ratio(r, PPY) == pytest.approx(-math.sqrt(PPY))
    assert m.max_drawdown_duration(r) == 10
    assert math.isnan(m.recovery_time(r))
    assert m.win_rate(r) == 0.0


def test_one_return_has_no_dispersion_metrics() -> None:
    perf = summarize([0.01], PPY, benchmark=[0.02])
    assert perf.total_return == pytest.approx(0.01)
    assert math.isnan(perf.annual_volatility)
    assert math.isnan(perf.sharpe)
    assert math.isnan(perf.beta)


def test_a_flat_benchmark_gives_undefined_alpha_and_beta() -> None:
    alpha, beta = m.alpha_beta(FIXED, np.zeros_like(FIXED), PPY)
    assert math.isnan(alpha) and math.isnan(beta)


def test_without_a_benchmark_alpha_and_beta_are_undefined() -> None:
    perf = summarize(FIXED, PPY)
    assert math.isnan(perf.alpha) and math.isnan(perf.beta)
    assert perf.to_dict()["alpha"] is None


def test_a_benchmark_of_another_length_is_an_error() -> None:
    with pytest.raises(m.MetricsError, match="differ in length"):
        m.alpha_beta(FIXED, BENCH[:-1], PPY)


def test_infinite_returns_are_an_error_and_missing_ones_are_skipped() -> None:
    with pytest.raises(m.MetricsError, match="infinite"):
        m.sharpe_ratio([0.01, math.inf, 0.02], PPY)
    with_gap = np.insert(FIXED, 3, np.nan)
    assert m.sharpe_ratio(with_gap, PPY) == m.sharpe_ratio(FIXED, PPY)


def test_a_wiped_out_account_has_an_annual_return_of_minus_one() -> None:
    assert m.annual_return([0.1, -1.0, 0.0], PPY) == -1.0
    assert m.max_drawdown([0.1, -1.0]) == -1.0


def test_period_statistics_without_moves_are_undefined() -> None:
    zeros = np.zeros(5)
    assert math.isnan(m.win_rate(zeros))
    assert math.isnan(m.expectancy(zeros))


def test_float_noise_is_not_a_move() -> None:
    # A flat book's equity summed in another order moves by 1e-16: not a losing bar.
    noisy = [0.01, -1.1e-16, 0.0, -0.02]
    assert m.win_rate(noisy) == 0.5
    assert m.expectancy(noisy) == pytest.approx(-0.005)
    assert math.isnan(m.profit_factor([0.01, -1.1e-16]))


def test_turnover_and_exposure() -> None:
    equity = np.full(4, 100.0)
    traded = np.array([100.0, 0.0, 50.0, 0.0])  # 1.5x equity over 4 bars
    assert m.turnover(traded, equity, 252) == pytest.approx(1.5 * 252 / 4)
    assert m.exposure([0.0, 0.5, 1.0, 0.0]) == 0.5
    assert math.isnan(m.turnover([], [], 252))
    assert math.isnan(m.exposure([]))


def test_to_dict_uses_camel_case_and_plain_numbers() -> None:
    values = summarize(FIXED, PPY, benchmark=BENCH).to_dict()
    assert values["maxDrawdownDuration"] == 3
    assert isinstance(values["maxDrawdownDuration"], int)
    assert values["totalReturn"] == pytest.approx(m.total_return(FIXED))


def _psr_reference(r: np.ndarray) -> float:
    """quantstats' PSR with population moments, as the paper writes them
    (quantstats takes pandas' bias-corrected skew and kurtosis)."""
    sr = float(np.mean(r) / np.std(r, ddof=1))
    z = (r - r.mean()) / r.std()
    skew, kurt = float(np.mean(z**3)), float(np.mean(z**4))
    sigma = math.sqrt((1 - skew * sr + (kurt - 1) / 4 * sr**2) / (len(r) - 1))
    return float(0.5 * (1 + math.erf(sr / sigma / math.sqrt(2))))


def test_probabilistic_sharpe_matches_quantstats_on_real_daily_returns() -> None:
    """On 13 years of real AAPL closes (bokeh's sample data): within the moment
    estimators' difference of quantstats, and equal to the paper's formula."""
    closes = split_adjusted_close("AAPL")
    r = closes.pct_change().dropna().to_numpy()
    mine = m.probabilistic_sharpe(r)
    assert close(mine, _psr_reference(r))
    assert math.isclose(mine, qs.stats.probabilistic_sharpe_ratio(daily(r)), abs_tol=1e-3)
    # The same Sharpe over a tenth of the bars is far less certain.
    short = m.probabilistic_sharpe(r[-len(r) // 10 :])
    assert 0.5 < short < mine < 1.0


@given(returns_lists)
def test_probabilistic_sharpe_is_a_probability_by_the_papers_formula(
    values: list[float],
) -> None:
    r = np.array(values)
    psr = m.probabilistic_sharpe(r)
    assume(not math.isnan(psr))
    assert 0.0 <= psr <= 1.0
    assert close(psr, _psr_reference(r))
    # (Not monotone in the mean: the skew term of its error moves with the Sharpe.)


def test_probabilistic_sharpe_is_undefined_without_spread_or_bars() -> None:
    assert math.isnan(m.probabilistic_sharpe([0.01, 0.01, 0.01]))
    assert math.isnan(m.probabilistic_sharpe([0.01, -0.01]))
    assert m.probabilistic_sharpe(np.tile([0.01, -0.01], 50)) == pytest.approx(0.5)
