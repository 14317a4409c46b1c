"""When an order may go out: NYSE sessions for equities (exchange-calendars), always for
crypto pairs, the FX week (Sunday 17:00 to Friday 17:00 New York) for currency pairs;
`market.cadence` says which symbol is which.

Daily bars are labelled by their session date; the decision is taken on that
session's close and goes out as a day order for the next open, so any
session date may trade. An intraday bar may trade when it ends inside a
session, early closes included (an hourly bar labelled 09:00 holds the half
hour after the 09:30 open, as the data workload labels it). An FX bar may
trade when it starts inside the FX week; a daily FX bar on any weekday.
"""

from __future__ import annotations

import datetime as dt
import functools

from ..data.sources import calendar
from ..market import cadence


@functools.lru_cache(maxsize=64)
def _sessions(year: int) -> dict[dt.date, tuple[dt.datetime, dt.datetime]]:
    """The year's sessions as plain dates and UTC datetimes: a bar's check is then a
    dict lookup, not a pandas index search (30 orders a bar made that add up)."""
    frame = calendar.sessions(dt.date(year, 1, 1), dt.date(year + 1, 1, 1))
    return {
        day.date(): (opens.to_pydatetime(), closes.to_pydatetime())
        for day, opens, closes in zip(frame.index, frame["open"], frame["close"], strict=True)
    }


class MarketHours:
    """Whether a symbol's market is open for a bar of `interval`."""

    def __init__(self, interval: str) -> None:
        if interval not in calendar.MINUTES:
            raise ValueError(f"unknown interval {interval!r}")
        self.interval = interval
        self._step = dt.timedelta(minutes=calendar.MINUTES[interval])

    def is_open(self, symbol: str, bar_time: dt.datetime) -> bool:
        """True when an order decided on the bar at `bar_time` may be sent."""
        market = cadence.market_of_symbol(symbol)
        if market == cadence.Market.CRYPTO:
            return True
        if market == cadence.Market.FX:
            if self.interval == "1d":
                return bar_time.weekday() < 5
            return calendar.fx_open_at(bar_time)
        session = _sessions(bar_time.year).get(bar_time.date())
        if session is None:
            return False
        if self.interval == "1d":
            return True
        opens, closes = session
        return opens < bar_time + self._step <= closes
