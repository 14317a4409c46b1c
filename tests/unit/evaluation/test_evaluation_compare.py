"""The Sharpe-difference test (Jobson-Korkie, Memmel's correction): against a hand
computation in the covariance form of Memmel (2003), calibrated under the null,
and silent (no verdict) where there are too few bars or no variance."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubetrade_workloads.evaluation.compare import MIN_BARS, sharpe_difference

CHALLENGER = [0.012, -0.004, 0.007, 0.010, -0.002, 0.005, 0.003, -0.006, 0.009, 0.004, 0.001, 0.006]
CHAMPION = [0.008, -0.006, 0.004, 0.009, -0.001, 0.002, 0.004, -0.007, 0.005, 0.001, 0.002, 0.003]


def _memmel_by_hand(a: list[float], b: list[float]) -> tuple[float, float]:
    """z and the one-sided p in Memmel's covariance form, in plain Python:

    z = (σ_b μ_a − σ_a μ_b) / √θ,
    θ = (2σ_a²σ_b² − 2σ_aσ_bσ_ab + ½μ_a²σ_b² + ½μ_b²σ_a² − μ_aμ_b σ_ab² / (σ_aσ_b)) / T
    """
    t = len(a)
    mu_a, mu_b = sum(a) / t, sum(b) / t
    var_a = sum((x - mu_a) ** 2 for x in a) / (t - 1)
    var_b = sum((y - mu_b) ** 2 for y in b) / (t - 1)
    cov = sum((x - mu_a) * (y - mu_b) for x, y in zip(a, b, strict=True)) / (t - 1)
    s_a, s_b = math.sqrt(var_a), math.sqrt(var_b)
    theta = (
        2 * var_a * var_b
        - 2 * s_a * s_b * cov
        + 0.5 * mu_a**2 * var_b
        + 0.5 * mu_b**2 * var_a
        - mu_a * mu_b * cov**2 / (s_a * s_b)
    ) / t
    z = (s_b * mu_a - s_a * mu_b) / math.sqrt(theta)
    return z, 1.0 - 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def test_it_matches_memmels_formula_computed_by_hand() -> None:
    found = sharpe_difference(CHALLENGER, CHAMPION, periods_per_year=252)
    assert found is not None and found.bars == 12
    z, p = _memmel_by_hand(CHALLENGER, CHAMPION)
    assert found.z_score == pytest.approx(z, rel=1e-12)
    assert found.p_value == pytest.approx(p, rel=1e-9)
    mean, spread = np.mean(CHALLENGER), np.std(CHALLENGER, ddof=1)
    assert found.sharpe == pytest.approx(mean / spread * math.sqrt(252), rel=1e-12)
    assert found.sharpe_diff == pytest.approx(found.sharpe - found.champion_sharpe, rel=1e-12)
    # Highly correlated books: a modest Sharpe gap is already strong evidence.
    assert found.sharpe_diff > 0 and found.p_value < 0.05


def test_under_the_null_it_rejects_at_its_level() -> None:
    """Equal true Sharpe ratios, correlated series: about 5% of p-values fall under 0.05."""
    rng = np.random.default_rng(7)
    cov = np.array([[1.0, 0.6], [0.6, 1.0]]) * 1e-4
    p_values = []
    for _ in range(2000):
        draws = rng.multivariate_normal([0.001, 0.001], cov, size=250)
        found = sharpe_difference(draws[:, 0], draws[:, 1])
        assert found is not None
        p_values.append(found.p_value)
    rejected = float(np.mean(np.array(p_values) < 0.05))
    assert 0.035 < rejected < 0.065  # 2000 draws: ±3 standard errors of 0.05


def test_no_verdict_on_too_few_bars_or_no_variance() -> None:
    assert sharpe_difference(CHALLENGER[: MIN_BARS - 1], CHAMPION[: MIN_BARS - 1]) is None
    assert sharpe_difference([0.001] * 20, CHAMPION + CHAMPION[:8]) is None
    assert sharpe_difference([0.0] * 20, [0.0] * 20) is None
    assert sharpe_difference([*CHALLENGER[:11], math.nan], CHAMPION) is None
    with pytest.raises(ValueError, match="differ in length"):
        sharpe_difference(CHALLENGER, CHAMPION[:5])


returns = st.lists(
    st.floats(-0.2, 0.2, allow_nan=False, allow_subnormal=False),
    min_size=MIN_BARS,
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(returns)
def test_identical_series_give_no_evidence_either_way(a: list[float]) -> None:
    found = sharpe_difference(a, a)
    if found is not None:  # None only for a series without variance
        assert found.z_score == 0.0 and found.p_value == 0.5 and found.sharpe_diff == 0.0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(-0.2, 0.2), st.floats(-0.2, 0.2)), min_size=MIN_BARS))
def test_swapping_the_two_mirrors_the_verdict_and_scale_changes_nothing(
    pairs: list[tuple[float, float]],
) -> None:
    a, b = np.array(pairs).T
    found, mirrored = sharpe_difference(a, b), sharpe_difference(b, a)
    if found is None:
        assert mirrored is None
        return
    assert mirrored is not None
    assert mirrored.z_score == pytest.approx(-found.z_score, abs=1e-9)
    assert mirrored.p_value == pytest.approx(1.0 - found.p_value, abs=1e-9)
    assert 0.0 <= found.p_value <= 1.0 and math.isfinite(found.z_score)
    scaled = sharpe_difference(a * 3.0, b * 3.0)
    assert scaled is not None and scaled.z_score == pytest.approx(found.z_score, abs=1e-6)
