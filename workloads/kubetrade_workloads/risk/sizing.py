"""Position sizing: how large a position a signal deserves, as a weight of equity.

Each function returns an unsigned weight (fraction of equity); the manager
applies the signal's direction and caps the result at the position limit.
"""

from __future__ import annotations

import math


def fixed_fraction(fraction: float) -> float:
    """The same share of equity for every position."""
    return fraction


def volatility_target(target_volatility: float, volatility: float) -> float:
    """The weight at which the position's annualised volatility equals the target.

    A zero or unknown volatility gives infinity, for the caller's cap to bound.
    """
    if volatility <= 0.0 or not math.isfinite(volatility):
        return math.inf
    return target_volatility / volatility


def kelly(mean: float, variance: float, fraction: float = 1.0) -> float:
    """Fractional Kelly weight mean / variance for per-period returns (signed).

    This is the growth-optimal leverage of one asset with normally
    distributed returns; a positive result means long, negative short.
    Betting a fraction of it trades a little growth for much less variance:
    half Kelly keeps ~75% of the growth rate at half the volatility.
    """
    if variance <= 0.0:
        return 0.0
    return fraction * mean / variance


def discrete_kelly(win_probability: float, payoff_ratio: float, fraction: float = 1.0) -> float:
    """Fractional Kelly bet p - (1 - p) / b for a win/loss bet paying b per unit risked.

    Zero when the edge is negative: the Kelly bet never takes the losing side
    of a win/loss game.
    """
    if not 0.0 <= win_probability <= 1.0:
        raise ValueError(f"win probability must be in [0, 1], got {win_probability}")
    if payoff_ratio <= 0.0:
        raise ValueError(f"payoff ratio must be positive, got {payoff_ratio}")
    return max(fraction * (win_probability - (1.0 - win_probability) / payoff_ratio), 0.0)
