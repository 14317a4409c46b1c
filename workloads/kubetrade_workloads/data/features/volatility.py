"""Volatility: true range, ATR and Bollinger bands from TA-Lib, relative to price."""

from __future__ import annotations

from . import ta
from .inputs import Floats, SymbolBars, rel, safe_div

NAMES = (
    "natr_5",
    "natr_14",
    "atr_ratio",
    "trange",
    "bb_upper",
    "bb_lower",
    "bb_width",
    "bb_percent",
    "stddev_20",
)


def compute(s: SymbolBars, window: int) -> dict[str, Floats]:
    """The volatility features of one symbol."""
    h, lo, c = s.high, s.low, s.close
    upper, middle, lower = ta.BBANDS(c, 20, 2.0, 2.0)
    return {
        "natr_5": ta.NATR(h, lo, c, 5),
        "natr_14": ta.NATR(h, lo, c, 14),
        "atr_ratio": safe_div(ta.ATR(h, lo, c, 5), ta.ATR(h, lo, c, 20)),
        "trange": ta.TRANGE(h, lo, c) / c,
        "bb_upper": rel(upper, c),
        "bb_lower": rel(lower, c),
        "bb_width": safe_div(upper - lower, middle),
        "bb_percent": safe_div(c - lower, upper - lower),
        "stddev_20": ta.STDDEV(c, 20) / c,
    }
