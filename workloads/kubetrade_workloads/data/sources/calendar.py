"""When a symbol trades: NYSE sessions for equity-like symbols, around the clock
for crypto pairs, and the FX week (Sunday 17:00 to Friday 17:00 New York) for
currency pairs. Which symbol is which is `market.cadence`'s to say.

The grids follow the labels `data.calendars` expects: daily bars at 00:00 UTC
of the session date; intraday bars at the start of their interval on the
clock grid (09:30, 09:35, ... for five minutes; 09:00, 10:00, ... for hours,
the first hour holding the half hour after the open), and for equities only
inside the session, early closes included.
"""

from __future__ import annotations

import datetime as dt
import functools
import warnings
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from ...config.data import Interval

EQUITY_CALENDAR = "XNYS"
_FIRST_YEAR = 2000
_XCALS_NOISE = "Series.values returning an ndarray that drops timezone"
MINUTES: dict[str, int] = {
    Interval.MINUTE: 1,
    Interval.FIVE_MINUTES: 5,
    Interval.FIFTEEN_MINUTES: 15,
    Interval.HOUR: 60,
    Interval.DAY: 1440,
}
"""Length of a bar of each interval in minutes (a daily bar spans the whole day)."""


FX_ZONE = "America/New_York"
FX_ROLL_HOUR = 17  # the FX day (and week) turns over at 17:00 New York


def in_fx_week(stamps: pd.DatetimeIndex) -> np.ndarray:
    """Which instants fall in the FX week, Sunday 17:00 to Friday 17:00 New York
    (daylight saving included: 21:00 or 22:00 UTC)."""
    local = stamps.tz_convert(FX_ZONE)
    day, hour = np.asarray(local.day_of_week), np.asarray(local.hour)  # Monday is 0
    return _fx_open(day, hour)


def fx_open_at(when: dt.datetime) -> bool:
    """`in_fx_week` for one instant (naive means UTC)."""
    aware = when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)
    local = aware.astimezone(ZoneInfo(FX_ZONE))
    return bool(_fx_open(np.asarray(local.weekday()), np.asarray(local.hour)))


def _fx_open(day: np.ndarray, hour: np.ndarray) -> np.ndarray:
    monday_to_thursday = day <= 3
    friday_before_roll = (day == 4) & (hour < FX_ROLL_HOUR)
    sunday_after_roll = (day == 6) & (hour >= FX_ROLL_HOUR)
    return np.asarray(monday_to_thursday | friday_before_roll | sunday_after_roll, dtype=bool)


@functools.lru_cache(maxsize=8)
def _schedule(first_year: int, last_year: int) -> pd.DataFrame:
    # Imported here: exchange-calendars takes about a second to import, and only
    # equity grids need it.
    import exchange_calendars

    with warnings.catch_warnings():
        # exchange-calendars 4.13 reads `Series.values` of zoned columns, which
        # pandas 3.1 deprecates; the values it gets are still right.
        warnings.filterwarnings("ignore", message=_XCALS_NOISE, category=DeprecationWarning)
        calendar = exchange_calendars.get_calendar(
            EQUITY_CALENDAR, start=f"{first_year}-01-01", end=f"{last_year}-12-31"
        )
    schedule: pd.DataFrame = calendar.schedule[["open", "close"]]
    return schedule


def sessions(start: dt.date, end: dt.date) -> pd.DataFrame:
    """NYSE sessions in [start, end): index = session date, columns open/close (UTC)."""
    # Building a calendar costs about a second whatever its span, so one wide
    # span serves nearly every request of a process.
    this_year = dt.datetime.now(dt.UTC).year
    schedule = _schedule(min(start.year, _FIRST_YEAR), max(end.year, this_year + 1))
    inside = (schedule.index >= pd.Timestamp(start)) & (schedule.index < pd.Timestamp(end))
    selected: pd.DataFrame = schedule.loc[inside]
    return selected


def grid(crypto: bool, interval: Interval, start: dt.date, end: dt.date) -> pd.DatetimeIndex:
    """Bar open times in [start, end) for an equity (`crypto=False`) or a crypto pair."""
    interval = Interval(interval)
    if crypto:
        freq = "D" if interval == Interval.DAY else f"{MINUTES[interval]}min"
        return pd.date_range(start, end, freq=freq, tz="UTC", inclusive="left")
    schedule = sessions(start, end)
    if interval == Interval.DAY:
        return pd.DatetimeIndex(schedule.index).tz_localize("UTC")
    step = np.int64(MINUTES[interval] * 60 * 10**9)
    opens = schedule["open"].to_numpy("datetime64[ns]").astype(np.int64)
    closes = schedule["close"].to_numpy("datetime64[ns]").astype(np.int64)
    firsts = opens - opens % step  # the clock slot holding the open
    counts = -((firsts - closes) // step)  # slots that start before the close
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    offsets = np.arange(int(counts.sum()), dtype=np.int64) - starts
    stamps = np.repeat(firsts, counts) + offsets * step
    return pd.DatetimeIndex(stamps.astype("datetime64[ns]")).tz_localize("UTC")


def session_position(stamps: pd.DatetimeIndex, crypto: bool) -> np.ndarray:
    """Where each bar sits in its trading day, 0 at the open to 1 at the close.

    Intraday volume and volatility follow this (a U shape for equities); crypto
    uses the UTC clock, since it has no open or close.
    """
    if crypto:
        minutes = stamps.hour * 60 + stamps.minute
        return np.asarray(minutes / 1440.0, dtype=np.float64)
    local = stamps.tz_convert("America/New_York")
    minutes = (local.hour * 60 + local.minute) - (9 * 60 + 30)
    return np.clip(np.asarray(minutes / 390.0, dtype=np.float64), 0.0, 1.0)


def in_session(stamps: pd.Series, interval: Interval) -> np.ndarray:
    """Which intraday equity bars (labelled on the clock grid) fall in a NYSE session.

    Vendors such as Alpaca also return pre- and post-market bars; the regular
    session is what the other sources give and what cleaning expects.
    """
    step = pd.Timedelta(minutes=MINUTES[Interval(interval)])
    if stamps.empty:
        return np.zeros(0, dtype=bool)
    first, last = stamps.min(), stamps.max()
    schedule = sessions(first.date() - dt.timedelta(days=1), last.date() + dt.timedelta(days=2))
    dates = pd.DatetimeIndex(
        stamps.dt.tz_convert("America/New_York").dt.tz_localize(None).dt.normalize()
    )
    at = schedule.reindex(dates)
    opens = pd.DatetimeIndex(at["open"]).floor(step)
    closes = pd.DatetimeIndex(at["close"])
    values = pd.DatetimeIndex(stamps)
    return np.asarray((values >= opens) & (values < closes), dtype=bool)
