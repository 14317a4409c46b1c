"""Position sizing: how large a position a signal deserves, as a weight of equity.

The scalar functions return an unsigned weight (fraction of equity).
`sized_weights` is what the risk manager applies to a strategy's targets on
every bar, in the backtest and the trader alike: each target is read as a
signal in [-1, 1] (its sign the direction, its size the conviction) and
becomes

- fixed_fraction: signal x `fraction`; a full-conviction signal gets the
  fraction and nothing gets more;
- volatility_target: signal x `target_volatility` / the symbol's annualised
  volatility, so the position's volatility is the target's share: twice the
  volatility, half the position;
- kelly: signal x `kelly_fraction` x mean / variance of the symbol's returns
  (the Kelly leverage), and nothing when the edge points the other way;

each capped at the position limit. Until a symbol has `min_history` returns,
volatility and edge are noise, so it gets the fixed fraction instead (and so
does a price that has not moved at all under volatility_target: a halted or
stale quote, not a riskless asset).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from ..config.risk import SizingMethod

Vector = npt.NDArray[np.float64]


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


def sized_weights(
    signals: Vector,
    moments: tuple[Vector, Vector, Vector] | None,
    *,
    method: SizingMethod,
    fraction: float,
    target_volatility: float,
    kelly_fraction: float,
    cap: float,
    periods_per_year: float,
    min_history: int,
) -> Vector:
    """Signed weights for `signals` by `method`; `moments`: each symbol's return
    count, mean and sample variance per period (`PriceHistory.moments`; fixed
    fraction needs none)."""
    signal = np.clip(np.asarray(signals, dtype=np.float64), -1.0, 1.0)
    weight = np.full(signal.shape, fraction)
    if method != SizingMethod.FIXED_FRACTION and moments is not None:
        count, mean, variance = moments
        # A price that has not moved over the whole window is a halted or stale
        # quote, not a riskless one: volatility targeting would size it to the cap
        # just before it moves again, so it keeps the fixed fraction, as without
        # history; Kelly, with no edge to bet on, gets nothing.
        risky = variance > 0.0
        safe = np.where(risky, variance, 1.0)
        if method == SizingMethod.VOLATILITY_TARGET:
            with np.errstate(divide="ignore"):  # a variance that underflows: inf, capped
                estimate = np.where(
                    risky, target_volatility / np.sqrt(safe * periods_per_year), weight
                )
        else:
            with np.errstate(over="ignore", invalid="ignore"):  # a tiny variance: inf, capped
                full = kelly_fraction * mean / safe
                edge = np.where(np.sign(signal) * full > 0.0, np.abs(full), 0.0)
            estimate = np.where(risky, edge, 0.0)
        weight = np.where(count >= min_history, estimate, weight)
    out: Vector = signal * np.minimum(weight, cap)
    return out
