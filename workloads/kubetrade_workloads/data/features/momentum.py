"""Momentum: oscillators and rates of change from TA-Lib, price-valued ones
divided by the close so every symbol reads on one scale. Smoothing is TA-Lib's
default simple moving average throughout.

Indicators that are another one re-scaled are left out rather than computed
and then dropped by selection: Williams %R is the fast stochastic minus 100,
CMO is 2 RSI - 100, and the fast stochastic's %D is the slow one's %K.
"""

from __future__ import annotations

from . import ta
from .inputs import Floats, SymbolBars

NAMES = (
    "rsi_7",
    "rsi_14",
    "rsi_28",
    "stoch_k",
    "stoch_d",
    "stochf_k",
    "stochrsi_k",
    "stochrsi_d",
    "cci_14",
    "mom_10",
    "roc_10",
    "ppo",
    "apo",
    "bop",
    "ultosc",
    "trix_15",
    "plus_dm_14",
    "minus_dm_14",
)


def compute(s: SymbolBars, window: int) -> dict[str, Floats]:
    """The momentum features of one symbol."""
    o, h, lo, c = s.open, s.high, s.low, s.close
    # STOCH(14, 3, 3) is STOCHF(14, 3) smoothed once more: one pass serves both.
    fast_k, slow_k = ta.STOCHF(h, lo, c, 14, 3)
    stochrsi_k, stochrsi_d = ta.STOCHRSI(c, 14, 5, 3)
    return {
        "rsi_7": ta.RSI(c, 7),
        "rsi_14": ta.RSI(c, 14),
        "rsi_28": ta.RSI(c, 28),
        "stoch_k": slow_k,
        "stoch_d": ta.SMA(slow_k, 3),
        "stochf_k": fast_k,
        "stochrsi_k": stochrsi_k,
        "stochrsi_d": stochrsi_d,
        "cci_14": ta.CCI(h, lo, c, 14),
        "mom_10": ta.MOM(c, 10) / c,
        "roc_10": ta.ROC(c, 10),
        "ppo": ta.PPO(c, 12, 26),
        "apo": ta.APO(c, 12, 26) / c,
        "bop": ta.BOP(o, h, lo, c),
        "ultosc": ta.ULTOSC(h, lo, c, 7, 14, 28),
        "trix_15": ta.TRIX(c, 15),
        "plus_dm_14": ta.PLUS_DM(h, lo, 14) / c,
        "minus_dm_14": ta.MINUS_DM(h, lo, 14) / c,
    }
