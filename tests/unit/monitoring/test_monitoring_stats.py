"""The drift and decay statistics: checked against hand computations and scipy, and
silent (no verdict) where a window is too small, constant or undefined to judge."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats  # type: ignore[import-untyped]

from kubetrade_workloads.monitoring.decay import MIN_BARS, decay
from kubetrade_workloads.monitoring.drift import EPSILON, MIN_VALUES, ks_p_value, psi
from kubetrade_workloads.monitoring.reference import (
    BINS,
    SAMPLE,
    Expectation,
    FeatureReference,
    feature_reference,
)

RNG = np.random.default_rng(11)
NORMAL = RNG.normal(size=4000)
REFERENCE = feature_reference(NORMAL)


def _ref() -> FeatureReference:
    assert REFERENCE is not None
    return REFERENCE


def test_the_reference_is_deciles_and_a_bounded_sorted_sample() -> None:
    ref = _ref()
    assert ref.count == 4000 and len(ref.edges) == BINS - 1
    np.testing.assert_allclose(ref.edges, np.quantile(NORMAL, np.arange(1, 10) / 10))
    np.testing.assert_allclose(ref.fractions, [0.1] * BINS, atol=1e-3)
    assert len(ref.sample) == SAMPLE and ref.sample == sorted(ref.sample)
    assert (ref.sample[0], ref.sample[-1]) == (NORMAL.min(), NORMAL.max())
    assert feature_reference(NORMAL) == ref  # deterministic thinning


def test_psi_is_the_hand_formula_over_the_reference_bins() -> None:
    ref = FeatureReference(count=4, edges=[0.0], fractions=[0.5, 0.5], sample=[])
    live = np.array([-1.0] * 10 + [1.0] * 30)  # 25% left, 75% right
    expected = (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.75 - 0.5) * math.log(0.75 / 0.5)
    assert psi(ref, live) == pytest.approx(expected)
    # An empty live bin counts as EPSILON, not as an infinite divergence.
    right = np.ones(40)
    floor = (EPSILON - 0.5) * math.log(EPSILON / 0.5) + 0.5 * math.log(1 / 0.5)
    assert psi(ref, right) == pytest.approx(floor)


def test_a_shift_shows_and_the_same_distribution_does_not() -> None:
    same, shifted = RNG.normal(size=500), RNG.normal(1.0, 1.0, size=500)
    assert psi(_ref(), same) < 0.1 < 0.25 < psi(_ref(), shifted)  # type: ignore[operator]
    assert ks_p_value(_ref(), same) > 0.01 > 1e-10 > ks_p_value(_ref(), shifted)  # type: ignore[operator]


def test_ks_is_scipys_two_sample_test_on_the_stored_sample() -> None:
    small = feature_reference(NORMAL[:300])  # under SAMPLE: every value is kept
    assert small is not None and len(small.sample) == 300
    live = RNG.normal(0.2, 1.0, size=200)
    found = stats.ks_2samp(NORMAL[:300], live, method="asymp").pvalue
    assert ks_p_value(small, live) == pytest.approx(found)


def test_decay_is_welchs_one_sided_test_against_the_expectation() -> None:
    backtest = RNG.normal(0.002, 0.01, size=250)
    expectation = Expectation.of(backtest)
    assert expectation is not None and expectation.bars == 250
    live = RNG.normal(-0.001, 0.01, size=120)
    found = decay(live, expectation)
    scipy_t = stats.ttest_ind(live, backtest, equal_var=False, alternative="less")
    assert found is not None and found.bars == 120
    assert found.t_stat == pytest.approx(scipy_t.statistic)
    assert found.p_value == pytest.approx(scipy_t.pvalue)
    assert found.p_value < 0.05 and found.realised_mean < found.expected_mean
    # Earning what was promised is no decay.
    assert decay(RNG.normal(0.002, 0.01, size=120), expectation).p_value > 0.05  # type: ignore[union-attr]


def test_an_expectation_without_spread_is_tested_one_sample() -> None:
    live = RNG.normal(-0.001, 0.01, size=60)
    found = decay(live, Expectation(bars=1, mean=0.001, std=0.0))
    assert found is not None
    assert found.p_value == pytest.approx(stats.ttest_1samp(live, 0.001, alternative="less").pvalue)


finite_floats = st.floats(-1e6, 1e6, allow_nan=False)
odd_floats = st.floats(allow_nan=True, allow_infinity=True)


@settings(max_examples=60, deadline=None)
@given(st.lists(odd_floats, max_size=MIN_VALUES - 1))
def test_tiny_or_empty_windows_give_no_verdict(values: list[float]) -> None:
    live = np.asarray(values, dtype=np.float64)
    assert psi(_ref(), live) is None and ks_p_value(_ref(), live) is None
    assert decay(live[: MIN_BARS - 1], Expectation(bars=100, mean=0.0, std=0.01)) is None


@settings(max_examples=60, deadline=None)
@given(st.floats(-1e3, 1e3, allow_nan=False), st.integers(MIN_VALUES, 400))
def test_a_constant_feature_that_stays_constant_never_drifts(value: float, n: int) -> None:
    ref = feature_reference(np.full(1000, value))
    assert ref is not None and sum(ref.fractions) == pytest.approx(1.0)
    live = np.full(n, value)
    assert psi(ref, live) == pytest.approx(0.0, abs=1e-12)
    assert ks_p_value(ref, live) == pytest.approx(1.0)


@settings(max_examples=60, deadline=None)
@given(st.lists(finite_floats, min_size=MIN_VALUES, max_size=300), st.integers(0, 50))
def test_nan_and_infinities_are_left_out_not_counted(values: list[float], junk: int) -> None:
    ref = feature_reference(np.asarray(values + [math.nan, math.inf, -math.inf]))
    assert ref is not None and ref.count == len(values)
    clean = np.asarray(values)
    dirty = np.concatenate([clean, np.full(junk, np.nan), np.full(junk, np.inf)])
    assert psi(ref, dirty) == pytest.approx(psi(ref, clean))
    found = psi(ref, clean)
    assert found is not None and math.isfinite(found) and found >= 0.0


@settings(max_examples=40, deadline=None)
@given(st.floats(-0.05, 0.05), st.integers(MIN_BARS, 200))
def test_constant_returns_against_a_constant_expectation_give_no_verdict(
    value: float, n: int
) -> None:
    assert decay(np.full(n, value), Expectation(bars=1, mean=value, std=0.0)) is None


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_the_same_distribution_rarely_reads_as_drifted(seed: int) -> None:
    live = np.random.default_rng(seed).normal(size=500)
    found = psi(_ref(), live)
    assert found is not None and found < 0.25  # the customary "shift" threshold
