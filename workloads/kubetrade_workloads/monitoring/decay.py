"""Performance decay: are realised per-bar returns below what the backtest promised?

A one-sided Welch t-test of H0 "the live mean per-bar return is at least the
expected mean" against H1 "it is lower", with the expectation's own spread and
length (the backtest is a sample too, so its mean is uncertain). A small
p-value says the model earns less live than out of sample, beyond what noise
explains. A raw threshold on returns would fire on every unlucky week; this
does not until the evidence is there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..market.history import FloatArray
from .drift import finite
from .reference import Expectation

MIN_BARS = 20
"""Fewer realised returns than this give no verdict."""
SPREAD_FLOOR = 1e-12
"""A standard deviation below this (relative to the mean) is rounding, not spread."""


@dataclass(frozen=True)
class Decay:
    """The decay test over a window of realised returns."""

    bars: int
    realised_mean: float
    expected_mean: float
    t_stat: float
    p_value: float

    def status(self) -> dict[str, float | int]:
        """The `status.trading.drift.decay` entry."""
        return {
            "bars": self.bars,
            "realisedMean": float(f"{self.realised_mean:.6g}"),
            "expectedMean": float(f"{self.expected_mean:.6g}"),
            "tStat": round(self.t_stat, 4),
            "pValue": float(f"{self.p_value:.6g}"),
        }


def decay(returns: FloatArray, expected: Expectation) -> Decay | None:
    """The test of `returns` against `expected`; None when it gives no verdict
    (too few bars, or no spread on either side to judge a difference by)."""
    live = finite(returns)
    if live.size < MIN_BARS:
        return None
    mean, std = float(live.mean()), float(live.std(ddof=1))
    if std <= SPREAD_FLOOR * max(1.0, abs(mean)):
        std = 0.0  # rounding's spread on equal values is no spread
    from scipy import stats  # type: ignore[import-untyped]  # here: as in drift.ks_p_value

    if expected.bars >= 2 and expected.std > 0:
        result = stats.ttest_ind_from_stats(
            mean,
            std,
            live.size,
            expected.mean,
            expected.std,
            expected.bars,
            equal_var=False,
            alternative="less",
        )
        t_stat, p_value = float(result.statistic), float(result.pvalue)
    elif std > 0:  # an expectation without a spread: a one-sample test against its mean
        t_stat = (mean - expected.mean) / (std / math.sqrt(live.size))
        p_value = float(stats.t.cdf(t_stat, live.size - 1))
    else:
        return None
    if not (math.isfinite(t_stat) and math.isfinite(p_value)):
        return None
    return Decay(int(live.size), mean, expected.mean, t_stat, p_value)
