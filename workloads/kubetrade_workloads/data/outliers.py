"""Return outliers by robust z-score, and what to do with them.

The centre and scale are the median and MAD of a symbol's log returns over the
whole series: a cleaning decision about which prints to trust, made before any
feature is computed, not a feature itself. MAD ignores the very spikes being
looked for, where a standard deviation would be inflated by them.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ..config.data import OutlierAction

Floats = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]

_MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution times this is its sigma
_MEAN_AD_TO_SIGMA = 1.2533  # likewise for the mean absolute deviation


def log_returns(close: Floats) -> Floats:
    """Log close-to-close returns; the first bar's is 0."""
    out = np.zeros_like(close)
    if len(close) > 1:
        out[1:] = np.diff(np.log(close))
    return out


def bounds(returns: Floats, z: float) -> tuple[float, float] | None:
    """The band of returns within `z` robust sigmas; None when the scale is zero.

    When more than half the returns are equal (an illiquid symbol, a run of
    filled bars) the MAD is zero; the mean absolute deviation stands in, and
    if that is zero too there is no spread to call anything an outlier against.
    """
    body = returns[1:]
    if len(body) < 3:
        return None
    centre = float(np.median(body))
    deviation = np.abs(body - centre)
    scale = _MAD_TO_SIGMA * float(np.median(deviation))
    if scale == 0.0:
        scale = _MEAN_AD_TO_SIGMA * float(deviation.mean())
    if scale == 0.0 or not np.isfinite(scale):
        return None
    return centre - z * scale, centre + z * scale


def find(close: Floats, z: float) -> tuple[Mask, Floats, tuple[float, float] | None]:
    """Which bars' returns are outliers, the returns, and the band they fall outside."""
    returns = log_returns(close)
    band = bounds(returns, z)
    if band is None:
        return np.zeros(len(close), dtype=bool), returns, None
    flagged = (returns < band[0]) | (returns > band[1])
    flagged[0] = False
    return flagged, returns, band


def price_factors(returns: Floats, band: tuple[float, float]) -> Floats:
    """Per-bar price multipliers that clip every return into `band`.

    The close path is rebuilt from the clipped returns, so each return is the
    clipped one exactly; a clipped jump shifts later prices by one constant
    factor, and every bar's open, high and low move with its close.
    """
    clipped = np.clip(returns, band[0], band[1])
    clipped[0] = returns[0]
    return np.asarray(np.exp(np.cumsum(clipped - returns)), dtype=np.float64)


def apply(
    prices: Floats, close: Floats, action: OutlierAction, z: float
) -> tuple[Floats, Mask, int]:
    """Apply `action` to a symbol's (n, 4) price block: the new block, rows kept, outliers."""
    flagged, returns, band = find(close, z)
    count = int(flagged.sum())
    keep = np.ones(len(close), dtype=bool)
    if count == 0 or band is None or action == OutlierAction.KEEP:
        return prices, keep, count
    if action == OutlierAction.CLIP:
        return prices * price_factors(returns, band)[:, None], keep, count
    return prices, ~flagged, count
