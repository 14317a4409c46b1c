"""Volume: accumulation, money flow and volume surprises, from TA-Lib.

OBV and the A/D line are running totals whose level depends on where the
series starts; their slopes over a window, in units of average volume, do not.
"""

from __future__ import annotations

import numpy as np

from . import ta
from .inputs import Floats, SymbolBars, safe_div

NAMES = (
    "obv_slope_14",
    "ad_slope_14",
    "adosc",
    "mfi_14",
    "volume_ratio_20",
    "volume_zscore_20",
    "vwap_20",
    "cmf_20",
    "force_index_13",
    "volume_roc_5",
)


def compute(s: SymbolBars, window: int) -> dict[str, Floats]:
    """The volume features of one symbol."""
    h, lo, c, v = s.high, s.low, s.close, s.volume
    mean14, mean20 = s.volume_mean(14), s.volume_mean(20)
    typical = (h + lo + c) / 3.0
    flow = safe_div((c - lo) - (h - c), h - lo) * v
    sum_v20 = ta.SUM(v, 20)
    change = np.empty_like(c)
    change[0] = np.nan
    change[1:] = np.diff(c)
    return {
        "obv_slope_14": safe_div(ta.LINEARREG_SLOPE(ta.OBV(c, v), 14), mean14),
        "ad_slope_14": safe_div(ta.LINEARREG_SLOPE(ta.AD(h, lo, c, v), 14), mean14),
        "adosc": safe_div(ta.ADOSC(h, lo, c, v, 3, 10), s.volume_mean(10)),
        "mfi_14": ta.MFI(h, lo, c, v, 14),
        "volume_ratio_20": safe_div(v, mean20) - 1.0,
        "volume_zscore_20": safe_div(v - mean20, ta.STDDEV(v, 20)),
        "vwap_20": safe_div(c * sum_v20, ta.SUM(typical * v, 20)) - 1.0,
        "cmf_20": safe_div(ta.SUM(flow, 20), sum_v20),
        "force_index_13": safe_div(ta.EMA(change * v, 13), c * s.volume_mean(13)),
        "volume_roc_5": safe_div(v, ta.SMA(v, 5)) - 1.0,
    }
