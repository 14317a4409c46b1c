"""Returns: log returns over several horizons and the shape of each bar."""

from __future__ import annotations

import numpy as np

from .inputs import Floats, SymbolBars

NAMES = (
    "return_1",
    "return_5",
    "return_10",
    "return_20",
    "gap",
    "body",
    "range",
    "upper_wick",
    "lower_wick",
)


def _over(log_close: Floats, lag: int) -> Floats:
    out = np.full_like(log_close, np.nan)
    if len(log_close) > lag:
        np.subtract(log_close[lag:], log_close[:-lag], out=out[lag:])
    return out


def compute(s: SymbolBars, window: int) -> dict[str, Floats]:
    """Log returns of 1, 5, 10 and 20 bars; the opening gap, body, range and wicks."""
    o, h, lo, c = s.log_prices
    gap = np.full_like(c, np.nan)
    np.subtract(o[1:], c[:-1], out=gap[1:])
    return {
        "return_1": s.returns,
        "return_5": _over(c, 5),
        "return_10": _over(c, 10),
        "return_20": _over(c, 20),
        "gap": gap,
        "body": c - o,
        "range": h - lo,
        "upper_wick": h - np.maximum(o, c),
        "lower_wick": np.minimum(o, c) - lo,
    }
