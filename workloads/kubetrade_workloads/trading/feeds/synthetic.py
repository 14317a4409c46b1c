"""The embedded default feed: deterministic synthetic bars, paced like a live stream.

The bars come from the data workload's synthetic source (correlated symbols,
regimes, NYSE sessions for equities, 24/7 for crypto pairs) from a fixed
start, so a restarted trader sees the same market it left.
"""

from __future__ import annotations

import datetime as dt
import functools

from ...data.sources.synthetic import SyntheticSource
from ...market.history import History
from .base import aligned
from .paced import PacedFeed

START = dt.date(2021, 1, 4)
SEED = 7
# How much market one session can replay, by interval: years of daily bars, weeks of minutes.
HORIZON_DAYS = {"1d": 3650, "1h": 730, "15m": 240, "5m": 90, "1m": 30}


@functools.lru_cache(maxsize=4)
def _history(symbols: tuple[str, ...], interval: str, seed: int) -> History:
    # Generated once per process: a History is never written to, only read.
    end = START + dt.timedelta(days=HORIZON_DAYS[interval])
    frame = SyntheticSource(seed).fetch(list(symbols), interval, START, end)
    return aligned(frame, symbols)


def synthetic_feed(
    symbols: tuple[str, ...], interval: str, bar_seconds: float, *, seed: int = SEED
) -> PacedFeed:
    """A paced feed over synthetic bars of `symbols` at `interval`."""
    return PacedFeed(_history(tuple(symbols), interval, seed), bar_seconds)
