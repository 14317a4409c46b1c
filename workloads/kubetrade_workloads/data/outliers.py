"""Bars that cannot be real, and return outliers, judged causally.

Every statistic here is trailing: the scale a bar is judged against comes
from the returns before it (the median absolute log return of the `LOOKBACK`
bars before its block of `REFRESH` bars, which ignores the very spikes being looked for where a
standard deviation would be inflated by them). So cleaning bars up to t gives
the same verdict on every bar up to t as cleaning a longer history would, and
a live trader judging bars as they arrive would reach it too.

What is repaired (made missing, then filled like any missing bar):

- a stale tick: a bar repeating the previous bar's open, high, low, close and
  (non-zero) volume exactly, a feed re-sending its last bar;
- a reverting spike: a close more than `z` trailing sigmas (and
  `SPIKE_FLOOR`) away from the previous close that the next close takes back
  to within `REVERT_TOLERANCE` of the move, a bad print. The verdict needs
  the next bar, so the newest bar of a series, if it moved that far, is held
  back until a later bar confirms it either way (`unconfirmed`): a bar is
  published once, with the value it keeps.

Returns beyond `z` trailing sigmas are only counted (`outliers`), unless a
config asks to drop or clip them.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ..config.data import OutlierAction

Floats = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]

_MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution times this is its sigma
_MEAN_AD_TO_SIGMA = 1.2533  # likewise for the mean absolute deviation
LOOKBACK = 250
"""Returns the trailing scale reads: a year of daily bars."""
REFRESH = 50
"""Bars between two updates of the trailing scale."""
MIN_HISTORY = 20
"""Returns needed before a scale is trusted; before that, only the floor holds."""
SPIKE_FLOOR = 0.1
"""The smallest log move called a spike whatever the scale (about 10%): a
minute bar's bid-ask bounce is many sigmas but never a bad print."""
REVERT_TOLERANCE = 0.1
"""Share of a spike's move the next bar may leave untaken back."""


def log_returns(close: Floats) -> Floats:
    """Log close-to-close returns; the first bar's is 0."""
    out = np.zeros_like(close)
    if len(close) > 1:
        out[1:] = np.diff(np.log(close))
    return out


def trailing_scale(returns: Floats) -> Floats:
    """Each bar's robust sigma from the `LOOKBACK` returns before it (NaN early on).

    Returns are centred on zero, as they are over short horizons; when more
    than half of the window is zero (an illiquid symbol, filled bars) the mean
    absolute return stands in, and a window with no movement at all has no
    scale (NaN). The scale is refreshed every `REFRESH` bars, at bars counted
    from the series' first, so a longer series gives every earlier bar the
    same scale; a rolling median at every bar cost more than the rest of
    cleaning.
    """
    n = len(returns)
    if n < MIN_HISTORY + 2:
        return np.full(n, np.nan)
    size = np.abs(returns[1:])  # the first bar has no return
    starts = np.arange(0, n, REFRESH)  # block b's bars read the returns before starts[b]
    centre, mean = np.full(len(starts), np.nan), np.full(len(starts), np.nan)
    full = np.flatnonzero(starts > LOOKBACK)
    if len(full):
        # A copy (fancy indexing) the median may reorder in place; its sums stay.
        windows = np.lib.stride_tricks.sliding_window_view(size, LOOKBACK)[
            starts[full] - 1 - LOOKBACK
        ]
        centre[full] = np.median(windows, axis=1, overwrite_input=True)
        mean[full] = windows.mean(axis=1)
    for b in np.flatnonzero(starts <= LOOKBACK).tolist():  # the first few blocks
        seen = size[: max(starts[b] - 1, 0)]
        if len(seen) >= MIN_HISTORY:
            centre[b], mean[b] = np.median(seen), seen.mean()
    block = np.where(centre == 0.0, _MEAN_AD_TO_SIGMA * mean, _MAD_TO_SIGMA * centre)
    block[~(block > 0.0)] = np.nan
    return np.repeat(block, REFRESH)[:n]


def stale(values: Floats, valid: Mask) -> Mask:
    """Valid bars repeating the previous valid bar exactly, with volume traded."""
    rows = np.flatnonzero(valid)
    out = np.zeros(len(values), dtype=bool)
    if len(rows) < 2:
        return out
    block = values[rows]
    same = (block[1:] == block[:-1]).all(axis=1) & (block[1:, 4] > 0)
    out[rows[1:][same]] = True
    return out


def spikes(close: Floats, valid: Mask, z: float) -> tuple[Mask, int | None]:
    """Reverting one-bar spikes among the valid bars, and the unconfirmed one.

    Returns the spike rows and the row of the newest valid bar when it moved
    like a spike and has no next bar to say whether it reverts (else None).
    """
    rows = np.flatnonzero(valid)
    out = np.zeros(len(close), dtype=bool)
    if len(rows) < 2:
        return out, None
    r = log_returns(close[rows])
    limit = np.fmax(z * trailing_scale(r), SPIKE_FLOOR)
    big = np.abs(r) > limit
    big[0] = False
    nxt = np.r_[r[1:], 0.0]
    reverts = big & (np.abs(r + nxt) <= REVERT_TOLERANCE * np.abs(r))
    reverts[-1] = False
    taken = -2
    for k in np.flatnonzero(reverts).tolist():  # few: a spike's revert is not a spike
        if k != taken + 1:
            out[rows[k]] = True
            taken = k
    # The newest bar's move, unless it takes back a spike just repaired.
    last = len(rows) - 1
    unconfirmed = int(rows[last]) if big[last] and taken != last - 1 else None
    return out, unconfirmed


def find(close: Floats, z: float) -> tuple[Mask, Floats, Floats]:
    """Which bars' returns lie beyond `z` trailing sigmas, the returns, the scales."""
    returns = log_returns(close)
    scale = trailing_scale(returns)
    with np.errstate(invalid="ignore"):
        flagged = np.abs(returns) > z * scale
    flagged[:1] = False
    return flagged, returns, scale


def price_factors(returns: Floats, limit: Floats) -> Floats:
    """Per-bar price multipliers that clip every return to +-`limit` (NaN: no limit).

    The close path is rebuilt from the clipped returns, so a clipped jump
    shifts that bar and every later one by one constant factor and no earlier
    bar: clipping stays causal.
    """
    bound = np.where(np.isnan(limit), np.inf, limit)
    clipped = np.clip(returns, -bound, bound)
    return np.asarray(np.exp(np.cumsum(clipped - returns)), dtype=np.float64)


def apply(
    prices: Floats, close: Floats, action: OutlierAction, z: float
) -> tuple[Floats, Mask, int]:
    """Apply `action` to a symbol's (n, 4) price block: the new block, rows kept, outliers."""
    flagged, returns, scale = find(close, z)
    count = int(flagged.sum())
    keep = np.ones(len(close), dtype=bool)
    if count == 0 or action == OutlierAction.KEEP:
        return prices, keep, count
    if action == OutlierAction.CLIP:
        return prices * price_factors(returns, z * scale)[:, None], keep, count
    return prices, ~flagged, count
