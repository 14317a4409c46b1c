"""A clock and a data feed that replay a History bar by bar.

The backtest drives them; the trader can replay a Dataset split through them
too. The feed reads only up to the clock's bar, so a strategy behind these
ports cannot see the future even if it asks for more bars than exist.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd

from .history import History

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class BarClock:
    """Simulated time: the timestamp of the current bar (implements `Clock`)."""

    def __init__(self, history: History) -> None:
        self._times = history.times
        self.index = 0
        """The current bar; the driver advances it."""

    def now(self) -> dt.datetime:
        """The current bar's timestamp, timezone-aware UTC."""
        stamp: dt.datetime = (
            pd.Timestamp(self._times[self.index]).tz_localize("UTC").to_pydatetime()
        )
        return stamp

    def __len__(self) -> int:
        return len(self._times)


class BarFeed:
    """Market data up to the clock's bar (implements `DataFeed`)."""

    def __init__(self, history: History, clock: BarClock) -> None:
        self._history = history
        self._clock = clock

    def window(self, lookback: int = 0) -> History:
        """The last `lookback` bars up to now (all of them when 0), as arrays."""
        return self._history.upto(self._clock.index, lookback)

    def history(self, symbols: Sequence[str], bars: int) -> pd.DataFrame:
        """The last `bars` bars of `symbols` up to now, in the canonical bar frame."""
        frame = self.window(bars).frame()
        return frame[frame["symbol"].isin(list(symbols))].reset_index(drop=True)
