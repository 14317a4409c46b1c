"""Stress tests: worst historical windows and synthetic shocks."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats  # type: ignore[import-untyped]

from kubetrade_workloads.risk import stress


def _series(values: list[float]) -> pd.Series:
    return pd.Series(values, index=pd.date_range("2024-01-01", periods=len(values), tz="UTC"))


def test_worst_windows_are_worst_first_and_do_not_overlap() -> None:
    r = _series([0.01, -0.05, -0.05, 0.02, 0.0, -0.03, -0.01, 0.01])
    found = stress.worst_windows(r, window=2, count=3)
    assert [w.start.day for w in found] == [2, 6, 4]
    assert found[0].total_return == pytest.approx(0.95 * 0.95 - 1)
    assert found[0].end.day == 3 and found[0].periods == 2
    spans = [(w.start, w.end) for w in found]
    assert all(a[1] < b[0] or b[1] < a[0] for i, a in enumerate(spans) for b in spans[i + 1 :])


def test_worst_windows_of_a_short_series() -> None:
    assert stress.worst_windows(_series([0.01]), window=5) == []
    with pytest.raises(ValueError):
        stress.worst_windows(_series([0.01]), window=0)


def test_synthetic_scenarios_by_hand() -> None:
    w = np.array([0.5, 0.3])
    vol = np.array([0.02, 0.01])
    corr = np.array([[1.0, -0.2], [-0.2, 1.0]])
    cov = corr * np.outer(vol, vol)
    z = stats.norm.ppf(0.99)
    base = z * math.sqrt(w @ cov @ w)
    gap, vol3, corr1 = stress.scenarios(w, cov, confidence=0.99)
    assert gap.loss == pytest.approx(0.08)  # 80% invested, 10% gap
    assert vol3.loss == pytest.approx(3 * base) and vol3.base_var == pytest.approx(base)
    assert corr1.loss == pytest.approx(z * (0.5 * 0.02 + 0.3 * 0.01))
    assert corr1.loss > base  # diversification lost


def test_correlation_shock_keeps_volatilities() -> None:
    cov = np.array([[0.04, 0.0], [0.0, 0.01]])
    out = stress.with_correlation(cov, 0.5)
    assert np.allclose(np.diag(out), [0.04, 0.01])
    assert out[0, 1] == pytest.approx(0.5 * 0.2 * 0.1)


def test_a_short_book_gains_in_a_gap() -> None:
    gap = stress.scenarios([-0.5], [[0.0001]])[0]
    assert gap.loss == pytest.approx(-0.05)
