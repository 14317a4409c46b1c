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


# In three parts by how long each remembers where its series began
# (catalog.PARTS), as the trend kernel.
SLOWEST = ("rsi_28",)


def slowest(s: SymbolBars, window: int) -> dict[str, Floats]:
    """The 28-bar RSI: Wilder's smoothing needs 300 bars to forget its start."""
    return {"rsi_28": ta.RSI(s.close, 28)}


SLOW = ("rsi_14", "stochrsi_k", "stochrsi_d", "ppo", "apo", "trix_15", "plus_dm_14", "minus_dm_14")


def slow(s: SymbolBars, window: int) -> dict[str, Floats]:
    """The 14-bar RSI and its stochastic, EMA spreads and directional movement."""
    h, lo, c = s.high, s.low, s.close
    stochrsi_k, stochrsi_d = ta.STOCHRSI(c, 14, 5, 3)
    return {
        "rsi_14": ta.RSI(c, 14),
        "stochrsi_k": stochrsi_k,
        "stochrsi_d": stochrsi_d,
        "ppo": ta.PPO(c, 12, 26),
        "apo": ta.APO(c, 12, 26) / c,
        "trix_15": ta.TRIX(c, 15),
        "plus_dm_14": ta.PLUS_DM(h, lo, 14) / c,
        "minus_dm_14": ta.MINUS_DM(h, lo, 14) / c,
    }


FAST = ("rsi_7", "stoch_k", "stoch_d", "stochf_k", "cci_14", "mom_10", "roc_10", "bop", "ultosc")


def fast(s: SymbolBars, window: int) -> dict[str, Floats]:
    """Window oscillators and rates of change, and the 7-bar RSI."""
    o, h, lo, c = s.open, s.high, s.low, s.close
    # STOCH(14, 3, 3) is STOCHF(14, 3) smoothed once more: one pass serves both.
    fast_k, slow_k = ta.STOCHF(h, lo, c, 14, 3)
    return {
        "rsi_7": ta.RSI(c, 7),
        "stoch_k": slow_k,
        "stoch_d": ta.SMA(slow_k, 3),
        "stochf_k": fast_k,
        "cci_14": ta.CCI(h, lo, c, 14),
        "mom_10": ta.MOM(c, 10) / c,
        "roc_10": ta.ROC(c, 10),
        "bop": ta.BOP(o, h, lo, c),
        "ultosc": ta.ULTOSC(h, lo, c, 7, 14, 28),
    }


def compute(s: SymbolBars, window: int) -> dict[str, Floats]:
    """The momentum features of one symbol."""
    out = slowest(s, window) | slow(s, window) | fast(s, window)
    return {name: out[name] for name in NAMES}
