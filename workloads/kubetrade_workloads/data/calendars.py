"""Which bars a symbol should have: an exchange calendar, the FX week, or round
the clock.

Calendars are named by code: an exchange by its MIC as exchange-calendars
knows it (XNYS, XLON, XTKS, ...), `24/5` for FX (Sunday 17:00 to Friday 17:00
New York, daylight saving included), `24/7` for crypto. `auto` picks per
symbol from how it is written (`market.cadence.market_of_symbol`): crypto
pairs trade 24/7, currency pairs 24/5, a Yahoo exchange suffix (`.L`, `.DE`,
`.T`, ...) names its exchange, and anything else trades on XNYS. Cleaning
records the choice per symbol.

Daily bars are labelled by their session date at 00:00 UTC, so one symbol's
days line up with another's; an FX day is a weekday (the session that runs
from 17:00 New York the evening before). Intraday bars are labelled by the
start of their interval, on the clock grid (09:30, 09:35, ... for five
minutes; 09:00, 10:00, ... for hours, the first hour holding the half hour
after the open).
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Iterator

import exchange_calendars as xc
import numpy as np
import numpy.typing as npt
import pandas as pd

from ..market import cadence
from ..market.bars import BarsError
from .sources.calendar import FX_ROLL_HOUR, FX_ZONE, in_fx_week
from .timestamps import DAILY, FREQ

ROUND_THE_CLOCK = cadence.CRYPTO_CALENDAR
FX_WEEK = cadence.FX_CALENDAR
AUTO = "auto"
DEFAULT_EXCHANGE = "XNYS"
_DAY = 86_400 * 10**9  # nanoseconds

# Yahoo's exchange suffixes and the MIC of the exchange each names.
SUFFIXES = {
    "L": "XLON",
    "DE": "XETR",
    "F": "XFRA",
    "PA": "XPAR",
    "AS": "XAMS",
    "BR": "XBRU",
    "LS": "XLIS",
    "MI": "XMIL",
    "MC": "XMAD",
    "SW": "XSWX",
    "VI": "XWBO",
    "ST": "XSTO",
    "CO": "XCSE",
    "HE": "XHEL",
    "OL": "XOSL",
    "IR": "XDUB",
    "TO": "XTSE",
    "T": "XTKS",
    "HK": "XHKG",
    "AX": "XASX",
    "NZ": "XNZE",
    "SI": "XSES",
    "KS": "XKRX",
    "TW": "XTAI",
    "SS": "XSHG",
    "BO": "XBOM",
    "SA": "BVMF",
    "MX": "XMEX",
    "JO": "XJSE",
    "WA": "XWAR",
}


def resolve(calendar: str, symbol: str) -> str:
    """The calendar a symbol trades on: `calendar` itself unless it is `auto`."""
    if calendar != AUTO:
        return calendar
    market = cadence.market_of_symbol(symbol)
    if market == cadence.Market.CRYPTO:
        return ROUND_THE_CLOCK
    if market == cadence.Market.FX:
        return FX_WEEK
    _, dot, suffix = symbol.rpartition(".")
    return SUFFIXES.get(suffix.upper(), DEFAULT_EXCHANGE) if dot else DEFAULT_EXCHANGE


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    # exchange-calendars 4.13 reads `Series.values` of tz-aware columns, which
    # pandas 3.1 deprecates (Pandas4Warning). The values it reads are still
    # right; the warning is the library's to fix, and must not fail a run.
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", r".*\.values returning an ndarray", pd.errors.Pandas4Warning
        )
        yield


@functools.lru_cache(maxsize=16)
def _exchange(name: str, first_year: int, last_year: int) -> xc.ExchangeCalendar:
    # Building a calendar takes about half a second; one per exchange and span is enough.
    try:
        with _quiet():
            return xc.get_calendar(name, start=f"{first_year}-01-01", end=f"{last_year}-12-31")
    except xc.errors.InvalidCalendarName as err:
        raise BarsError(f"cleaning.calendar {name!r} is not a known exchange calendar") from err


def _spanning(name: str, start: pd.Timestamp, end: pd.Timestamp) -> xc.ExchangeCalendar:
    # The calendar refuses dates outside the span it was built for; whole decades,
    # a year of margin either side, let one cached build serve most datasets.
    return _exchange(name, (start.year - 1) // 10 * 10, (end.year + 1) // 10 * 10 + 9)


def _fx(interval: str, start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    if interval == DAILY:  # the FX day is named for the weekday it closes on
        days = pd.date_range(start.floor("D"), end, freq="D", tz="UTC", unit="ns")
        return days[days.day_of_week < 5]
    freq = FREQ[interval]
    slots = pd.date_range(start.floor(freq), end, freq=freq, tz="UTC", unit="ns")
    return slots[in_fx_week(slots)]


def expected(
    calendar: str, interval: str, start: pd.Timestamp, end: pd.Timestamp
) -> pd.DatetimeIndex:
    """Every bar label `calendar` has from `start` to `end`, both included, in UTC."""
    freq = FREQ[interval]
    if calendar == ROUND_THE_CLOCK:
        return pd.date_range(start.floor(freq), end, freq=freq, tz="UTC", unit="ns")
    if calendar == FX_WEEK:
        return _fx(interval, start, end)
    exchange = _spanning(calendar, start, end)
    with _quiet():
        if interval == DAILY:
            first, last = start.tz_localize(None).normalize(), end.tz_localize(None).normalize()
            sessions = exchange.sessions_in_range(first, last)
            return pd.DatetimeIndex(sessions).tz_localize("UTC").as_unit("ns")
        minutes = exchange.minutes_in_range(start.floor(freq), end)
    slots = pd.DatetimeIndex(minutes).floor(freq).unique()
    return slots[slots <= end].as_unit("ns")


def session_days(calendar: str, interval: str, slots: pd.DatetimeIndex) -> npt.NDArray[np.int64]:
    """Each bar's session as a day number (days since 1970-01-01), for `slots` of `calendar`.

    A session is one date where it trades, not in UTC: Sydney's opens at 23:00
    UTC in summer and Auckland's at 21:00, so their UTC date turns mid-session;
    the FX day turns at 17:00 New York. Daily labels are their session date.
    """
    slots = slots.as_unit("ns")
    if interval == DAILY or calendar == ROUND_THE_CLOCK or not len(slots):
        return np.asarray(slots.asi8 // _DAY, dtype=np.int64)
    if calendar == FX_WEEK:  # Sunday 17:00 New York opens Monday's session
        local = slots.tz_convert(FX_ZONE) + pd.Timedelta(hours=24 - FX_ROLL_HOUR)
    else:
        local = slots.tz_convert(_spanning(calendar, slots[0], slots[-1]).tz)
    return np.asarray(local.tz_localize(None).asi8 // _DAY, dtype=np.int64)
