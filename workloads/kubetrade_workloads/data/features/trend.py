"""Trend: moving averages and regressions (as a fraction away from the close),
directional movement, Aroon, MACD and the parabolic SAR, all from TA-Lib.

DX, ADXR and the Aroon oscillator are TA-Lib's own definitions applied to the
directional indicators and Aroon lines already computed, rather than a second
pass of TA-Lib over the bars.
"""

from __future__ import annotations

import numpy as np

from . import ta
from .inputs import Floats, SymbolBars, rel, safe_div

NAMES = (
    "sma_10",
    "sma_20",
    "sma_50",
    "ema_10",
    "ema_20",
    "ema_50",
    "wma_20",
    "dema_20",
    "tema_20",
    "trima_20",
    "kama_20",
    "t3_5",
    "midpoint_14",
    "midprice_14",
    "ht_trendline",
    "linearreg_14",
    "linearreg_slope_14",
    "tsf_14",
    "sar",
    "adx_14",
    "adxr_14",
    "plus_di_14",
    "minus_di_14",
    "dx_14",
    "aroon_up_14",
    "aroon_down_14",
    "aroonosc_14",
    "macd",
    "macd_signal",
    "macd_hist",
)


_LEVELS = (
    "sma_10",
    "sma_20",
    "sma_50",
    "ema_10",
    "ema_20",
    "ema_50",
    "wma_20",
    "dema_20",
    "tema_20",
    "trima_20",
    "kama_20",
    "t3_5",
    "midpoint_14",
    "midprice_14",
    "ht_trendline",
    "linearreg_14",
    "tsf_14",
    "sar",
)


def _adxr(adx: Floats, period: int) -> Floats:
    """TA-Lib's ADXR: the mean of ADX now and `period - 1` bars ago."""
    out = np.full_like(adx, np.nan)
    lag = period - 1
    out[lag:] = (adx[lag:] + adx[:-lag]) / 2.0
    return out


def compute(s: SymbolBars, window: int) -> dict[str, Floats]:
    """The trend features of one symbol; `window` is not used by fixed-period indicators."""
    c, h, lo = s.close, s.high, s.low
    aroon_down, aroon_up = ta.AROON(h, lo, 14)
    macd, signal, hist = ta.MACD(c, 12, 26, 9)
    up, down = s.plus_di, s.minus_di
    # The price levels, stacked, go relative to the close in one pass.
    levels = rel(
        np.stack(
            [
                ta.SMA(c, 10),
                ta.SMA(c, 20),
                ta.SMA(c, 50),
                ta.EMA(c, 10),
                ta.EMA(c, 20),
                ta.EMA(c, 50),
                ta.WMA(c, 20),
                ta.DEMA(c, 20),
                ta.TEMA(c, 20),
                ta.TRIMA(c, 20),
                ta.KAMA(c, 20),
                ta.T3(c, 5),
                ta.MIDPOINT(c, 14),
                ta.MIDPRICE(h, lo, 14),
                ta.HT_TRENDLINE(c),
                ta.LINEARREG(c, 14),
                ta.TSF(c, 14),
                ta.SAR(h, lo),
            ]
        ),
        c,
    )
    out = dict(zip(_LEVELS, levels, strict=True))
    out.update(
        {
            "linearreg_slope_14": ta.LINEARREG_SLOPE(c, 14) / c,
            "adx_14": s.adx,
            "adxr_14": _adxr(s.adx, 14),
            "plus_di_14": up,
            "minus_di_14": down,
            "dx_14": 100.0 * safe_div(np.abs(up - down), up + down),
            "aroon_up_14": aroon_up,
            "aroon_down_14": aroon_down,
            "aroonosc_14": aroon_up - aroon_down,
            "macd": macd / c,
            "macd_signal": signal / c,
            "macd_hist": hist / c,
        }
    )
    return {name: out[name] for name in NAMES}
