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


def _adxr(adx: Floats, period: int) -> Floats:
    """TA-Lib's ADXR: the mean of ADX now and `period - 1` bars ago."""
    out = np.full_like(adx, np.nan)
    lag = period - 1
    out[lag:] = (adx[lag:] + adx[:-lag]) / 2.0
    return out


def _levels(names: tuple[str, ...], levels: list[Floats], close: Floats) -> dict[str, Floats]:
    """Price levels, stacked, relative to the close in one pass."""
    return dict(zip(names, rel(np.stack(levels), close), strict=True))


# The kernel in three parts by how long each remembers where its series began
# (catalog.PARTS): a trader making features live runs each over only the bars
# it needs. A Dataset runs all three over the same series, as `compute`.
SLOWEST = ("ema_50", "kama_20")


def slowest(s: SymbolBars, window: int) -> dict[str, Floats]:
    """The 50-bar EMA and Kaufman's adaptive average: the longest memories (300 bars
    on random walks; KAMA's grows as prices chop, see catalog.Part)."""
    c = s.close
    return _levels(SLOWEST, [ta.EMA(c, 50), ta.KAMA(c, 20)], c)


_SLOW_LEVELS = ("ema_20", "dema_20", "tema_20", "ht_trendline")
SLOW = (
    *_SLOW_LEVELS,
    "adx_14",
    "adxr_14",
    "plus_di_14",
    "minus_di_14",
    "dx_14",
    "macd",
    "macd_signal",
    "macd_hist",
)


def slow(s: SymbolBars, window: int) -> dict[str, Floats]:
    """Shorter EMAs, the Hilbert trendline, directional movement and MACD."""
    c = s.close
    levels = [ta.EMA(c, 20), ta.DEMA(c, 20), ta.TEMA(c, 20), ta.HT_TRENDLINE(c)]
    out = _levels(_SLOW_LEVELS, levels, c)
    macd, signal, hist = ta.MACD(c, 12, 26, 9)
    up, down = s.plus_di, s.minus_di
    out.update(
        {
            "adx_14": s.adx,
            "adxr_14": _adxr(s.adx, 14),
            "plus_di_14": up,
            "minus_di_14": down,
            "dx_14": 100.0 * safe_div(np.abs(up - down), up + down),
            "macd": macd / c,
            "macd_signal": signal / c,
            "macd_hist": hist / c,
        }
    )
    return out


_FAST_LEVELS = (
    "sma_10",
    "sma_20",
    "sma_50",
    "ema_10",
    "wma_20",
    "trima_20",
    "t3_5",
    "midpoint_14",
    "midprice_14",
    "linearreg_14",
    "tsf_14",
    "sar",
)
FAST = (
    *_FAST_LEVELS,
    "linearreg_slope_14",
    "aroon_up_14",
    "aroon_down_14",
    "aroonosc_14",
)


def fast(s: SymbolBars, window: int) -> dict[str, Floats]:
    """Window averages and regressions, the SAR and Aroon: 60 bars at most."""
    c, h, lo = s.close, s.high, s.low
    levels = [
        ta.SMA(c, 10),
        ta.SMA(c, 20),
        ta.SMA(c, 50),
        ta.EMA(c, 10),
        ta.WMA(c, 20),
        ta.TRIMA(c, 20),
        ta.T3(c, 5),
        ta.MIDPOINT(c, 14),
        ta.MIDPRICE(h, lo, 14),
        ta.LINEARREG(c, 14),
        ta.TSF(c, 14),
        ta.SAR(h, lo),
    ]
    out = _levels(_FAST_LEVELS, levels, c)
    aroon_down, aroon_up = ta.AROON(h, lo, 14)
    out.update(
        {
            "linearreg_slope_14": ta.LINEARREG_SLOPE(c, 14) / c,
            "aroon_up_14": aroon_up,
            "aroon_down_14": aroon_down,
            "aroonosc_14": aroon_up - aroon_down,
        }
    )
    return out


def compute(s: SymbolBars, window: int) -> dict[str, Floats]:
    """The trend features of one symbol; `window` is not used by fixed-period indicators."""
    out = slowest(s, window) | slow(s, window) | fast(s, window)
    return {name: out[name] for name in NAMES}
