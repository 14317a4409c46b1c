"""Market regime of a symbol, from its own past: calm, volatile, trending.

`volatility_regime` is short-horizon over long-horizon realised volatility
(above 1 when volatility is rising). `regime` is a category: 1 volatile when
that ratio passes 1.5; else 2 trending up or 3 trending down when ADX(14) is
above 25 (direction by the larger directional index); else 0 calm. A category
code is not normalised.
"""

from __future__ import annotations

import numpy as np

from . import ta
from .inputs import Floats, SymbolBars, safe_div

NAMES = ("volatility_regime", "regime")
CATEGORICAL = frozenset({"regime"})

VOLATILE_RATIO = 1.5
TRENDING_ADX = 25.0


def compute(s: SymbolBars, window: int) -> dict[str, Floats]:
    """The regime features; the long horizon is twice `window`, the short a third of it."""
    short, long = max(window // 3, 2), max(2 * window, 3)
    ratio = safe_div(ta.STDDEV(s.returns, short), ta.STDDEV(s.returns, long))
    adx, up, down = s.adx, s.plus_di, s.minus_di
    trend = np.where(up >= down, 2.0, 3.0)
    code = np.where(ratio > VOLATILE_RATIO, 1.0, np.where(adx > TRENDING_ADX, trend, 0.0))
    code[np.isnan(ratio) | np.isnan(adx)] = np.nan
    return {"volatility_regime": ratio, "regime": code}
