"""VaR and expected shortfall against scipy and hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats  # type: ignore[import-untyped]

from kubetrade_workloads.risk import var


@pytest.fixture(scope="module")
def returns() -> np.ndarray:
    rng = np.random.default_rng(7)
    return rng.standard_t(df=4, size=2000) * 0.01 + 0.0003


def test_historical_var_is_the_empirical_quantile() -> None:
    r = np.arange(1, 101) / 1000.0 - 0.05  # -0.049 .. 0.050
    est = var.historical(r, 0.95)
    q = np.quantile(r, 0.05)  # linear interpolation between order statistics
    assert est.var == pytest.approx(-q)
    assert est.es == pytest.approx(-r[r <= q].mean())
    assert est.es >= est.var


def test_historical_var_scales_with_sqrt_time(returns: np.ndarray) -> None:
    one, ten = var.historical(returns, 0.99, 1), var.historical(returns, 0.99, 10)
    assert ten.var == pytest.approx(one.var * math.sqrt(10))
    assert ten.es == pytest.approx(one.es * math.sqrt(10))


def test_parametric_var_matches_scipy(returns: np.ndarray) -> None:
    mu, sigma = returns.mean(), returns.std(ddof=1)
    est = var.parametric(returns, 0.99, horizon=5)
    expected = -stats.norm.ppf(0.01, loc=mu * 5, scale=sigma * math.sqrt(5))
    assert est.var == pytest.approx(expected, rel=1e-9)
    # ES of a normal: -(mu - sigma * pdf(z) / alpha).
    z = stats.norm.ppf(0.01)
    es = -(mu * 5 - sigma * math.sqrt(5) * stats.norm.pdf(z) / 0.01)
    assert est.es == pytest.approx(es, rel=1e-9)


def test_cornish_fisher_uses_scipy_moments(returns: np.ndarray) -> None:
    s, k = stats.skew(returns), stats.kurtosis(returns)
    z = stats.norm.ppf(0.01)
    zcf = z + (z**2 - 1) * s / 6 + (z**3 - 3 * z) * k / 24 - (2 * z**3 - 5 * z) * s**2 / 36
    est = var.parametric(returns, 0.99, cornish_fisher=True)
    assert est.var == pytest.approx(-(returns.mean() + returns.std(ddof=1) * zcf), rel=1e-9)
    # Fat tails (t with 4 degrees of freedom) make the modified VaR larger.
    assert est.var > var.parametric(returns, 0.99).var
    assert est.es > est.var


def test_cornish_fisher_without_skew_or_kurtosis_is_normal() -> None:
    assert var.cornish_fisher_z(-2.0, 0.0, 0.0) == -2.0
    normal_sample = stats.norm.ppf((np.arange(1, 10_001) - 0.5) / 10_000)
    plain = var.parametric(normal_sample, 0.95)
    modified = var.parametric(normal_sample, 0.95, cornish_fisher=True)
    assert modified.var == pytest.approx(plain.var, rel=1e-2)
    assert modified.es == pytest.approx(plain.es, rel=1e-2)


def test_monte_carlo_is_seeded_and_agrees_with_parametric(returns: np.ndarray) -> None:
    a = var.monte_carlo(returns, 0.95, seed=3)
    assert a == var.monte_carlo(returns, 0.95, seed=3)
    assert a != var.monte_carlo(returns, 0.95, seed=4)
    assert a.var == pytest.approx(var.parametric(returns, 0.95).var, rel=0.05)


def test_monte_carlo_horizon_compounds_paths(returns: np.ndarray) -> None:
    ten = var.monte_carlo(returns, 0.95, 10, simulations=40_000)
    assert ten.var == pytest.approx(var.parametric(returns, 0.95, 10).var, rel=0.08)
    boot = var.monte_carlo(returns, 0.99, bootstrap=True)
    assert boot.var == pytest.approx(var.historical(returns, 0.99).var, rel=0.1)


def test_estimate_dispatches_by_method(returns: np.ndarray) -> None:
    series = pd.Series(returns)
    for method in var.VarMethod:
        est = var.estimate(series, method, 0.975)
        assert est.confidence == 0.975 and est.var > 0 and est.es >= est.var


def test_constant_series_has_no_volatility() -> None:
    flat = var.parametric([0.001] * 50, 0.95, cornish_fisher=True)
    assert flat.var == pytest.approx(-0.001) and flat.es == pytest.approx(-0.001)
    assert var.historical([0.0] * 10).var == 0.0


@pytest.mark.parametrize("bad", [[], [float("nan")], np.array([])])
def test_empty_series_is_an_error(bad: list[float]) -> None:
    with pytest.raises(ValueError, match="empty"):
        var.historical(bad)


@pytest.mark.parametrize(("confidence", "horizon"), [(0.4, 1), (1.0, 1), (0.95, 0)])
def test_bad_parameters_are_errors(confidence: float, horizon: int) -> None:
    with pytest.raises(ValueError):
        var.parametric([0.01, -0.01, 0.02], confidence, horizon)


def test_portfolio_var_by_hand() -> None:
    w = np.array([0.6, 0.4])
    cov = np.array([[0.0004, 0.0001], [0.0001, 0.0009]])
    sigma = math.sqrt(0.36 * 0.0004 + 0.16 * 0.0009 + 2 * 0.24 * 0.0001)
    assert var.portfolio_var(w, cov, 0.99) == pytest.approx(stats.norm.ppf(0.99) * sigma)
    assert var.portfolio_var(w, cov, 0.99, horizon=4) == pytest.approx(
        2 * stats.norm.ppf(0.99) * sigma
    )
    assert var.portfolio_var(w, cov, 0.99, mean=[0.001, 0.0]) == pytest.approx(
        stats.norm.ppf(0.99) * sigma - 0.0006
    )
