"""Rolling statistics over `features.window` bars: moments of returns, where
the close sits in its recent range, drawdown and range-based volatility.

Moments come from TA-Lib running sums of powers of the returns: O(n) whatever
the window, and exact in the prefix, which the causality test relies on.
"""

from __future__ import annotations

import math

import numpy as np

from . import ta
from .inputs import Floats, SymbolBars, safe_div

NAMES = (
    "return_mean",
    "return_std",
    "return_skew",
    "return_kurt",
    "return_autocorr",
    "zscore",
    "drawdown",
    "range_position",
    "parkinson",
)


def _moments(r: Floats, window: int) -> tuple[Floats, Floats, Floats, Floats]:
    """Rolling mean, variance, skewness and excess kurtosis of `r`."""
    n = float(window)
    s1 = ta.SUM(r, window) / n
    r2 = r * r
    s2 = ta.SUM(r2, window) / n
    s3 = ta.SUM(r2 * r, window) / n
    s4 = ta.SUM(r2 * r2, window) / n
    m1sq = s1 * s1
    var = np.maximum(s2 - m1sq, 0.0)
    m3 = s3 - 3.0 * s1 * s2 + 2.0 * m1sq * s1
    m4 = s4 - 4.0 * s1 * s3 + 6.0 * m1sq * s2 - 3.0 * m1sq * m1sq
    return s1, var, safe_div(m3, var**1.5), safe_div(m4, var * var) - 3.0


def compute(s: SymbolBars, window: int) -> dict[str, Floats]:
    """The rolling statistics of one symbol over `window` bars (at least 2)."""
    w = max(window, 2)
    h, lo, c, r = s.high, s.low, s.close, s.returns
    mean, var, skew, kurt = _moments(r, w)
    lagged = np.empty_like(r)
    lagged[:2] = np.nan
    lagged[2:] = r[1:-1]
    top, bottom = ta.MAX(h, w), ta.MIN(lo, w)
    log_range = s.log_prices[1] - s.log_prices[2]
    return {
        "return_mean": mean,
        "return_std": np.sqrt(var),
        "return_skew": skew,
        "return_kurt": kurt,
        "return_autocorr": ta.CORREL(r, lagged, w),
        "zscore": safe_div(c - ta.SMA(c, w), ta.STDDEV(c, w)),
        "drawdown": c / ta.MAX(c, w) - 1.0,
        "range_position": safe_div(c - bottom, top - bottom),
        "parkinson": np.sqrt(ta.SMA(log_range * log_range, w) / (4.0 * math.log(2.0))),
    }
