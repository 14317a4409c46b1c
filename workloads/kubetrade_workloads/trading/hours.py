"""When an order may go out: NYSE sessions for equities (exchange-calendars), always for
crypto pairs (BASE/QUOTE).

Daily bars are labelled by their session date; the decision is taken on that
session's close and goes out as a day order for the next open, so any
session date may trade. An intraday bar may trade when it ends inside a
session, early closes included (an hourly bar labelled 09:00 holds the half
hour after the 09:30 open, as the data workload labels it).
"""

from __future__ import annotations

import datetime as dt
import functools

import pandas as pd

from ..data.sources import calendar

_MINUTES = {"1m": 1, "5m": 5, "15m": 15, "1h": 60, "1d": 1440}


@functools.lru_cache(maxsize=64)
def _sessions(year: int) -> pd.DataFrame:
    return calendar.sessions(dt.date(year, 1, 1), dt.date(year + 1, 1, 1))


class MarketHours:
    """Whether a symbol's market is open for a bar of `interval`."""

    def __init__(self, interval: str) -> None:
        if interval not in _MINUTES:
            raise ValueError(f"unknown interval {interval!r}")
        self.interval = interval
        self._step = dt.timedelta(minutes=_MINUTES[interval])

    def is_open(self, symbol: str, bar_time: dt.datetime) -> bool:
        """True when an order decided on the bar at `bar_time` may be sent."""
        if calendar.is_crypto(symbol):
            return True
        sessions = _sessions(bar_time.year)
        if self.interval == "1d":
            return pd.Timestamp(bar_time.date()) in sessions.index
        end = pd.Timestamp(bar_time + self._step)
        day = sessions.loc[sessions.index == pd.Timestamp(bar_time.date())]
        if day.empty:
            return False
        return bool(day["open"].iloc[0] < end <= day["close"].iloc[0])
