"""Which bars a symbol should have: the exchange calendar, or round the clock.

Daily bars are labelled by their session date at 00:00 UTC, whatever time of
day a source stamped them with (Yahoo and Alpaca use midnight New York time,
ccxt midnight UTC), so one symbol's days line up with another's. Intraday bars
are labelled by the start of their interval, on the clock grid (09:30, 09:35,
... for five minutes; 09:00, 10:00, ... for hours, the first hour holding the
half hour after the open).
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Iterator

import exchange_calendars as xc
import pandas as pd

from ..market.bars import BarsError

ROUND_THE_CLOCK = "24/7"
AUTO = "auto"
DEFAULT_EXCHANGE = "XNYS"
DAILY = "1d"
FREQ = {"1m": "1min", "5m": "5min", "15m": "15min", "1h": "1h", "1d": "1D"}


# Quote currencies of Yahoo's crypto tickers (BTC-USD); no listed share class reads so.
_CRYPTO_QUOTES = frozenset({"USD", "USDT", "USDC", "EUR", "GBP", "BTC", "ETH"})


def resolve(calendar: str, symbol: str) -> str:
    """The calendar a symbol trades on.

    `auto` reads crypto pairs as 24/7: ccxt's BASE/QUOTE, and Yahoo's
    BASE-QUOTE with a crypto quote currency; anything else trades on XNYS.
    """
    if calendar != AUTO:
        return calendar
    crypto = "/" in symbol or ("-" in symbol and symbol.rsplit("-", 1)[1] in _CRYPTO_QUOTES)
    return ROUND_THE_CLOCK if crypto else DEFAULT_EXCHANGE


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


def label(timestamps: pd.Series, interval: str) -> pd.Series:
    """Timestamps as this module labels bars: daily bars at 00:00 UTC of their date."""
    return timestamps.dt.floor("D") if interval == DAILY else timestamps


def expected(
    calendar: str, interval: str, start: pd.Timestamp, end: pd.Timestamp
) -> pd.DatetimeIndex:
    """Every bar label `calendar` has from `start` to `end`, both included, in UTC."""
    freq = FREQ[interval]
    if calendar == ROUND_THE_CLOCK:
        return pd.date_range(start.floor(freq), end, freq=freq, tz="UTC", unit="ns")
    # The calendar refuses dates outside the span it was built for; whole decades,
    # a year of margin either side, let one cached build serve most datasets.
    exchange = _exchange(calendar, (start.year - 1) // 10 * 10, (end.year + 1) // 10 * 10 + 9)
    with _quiet():
        if interval == DAILY:
            first, last = start.tz_localize(None).normalize(), end.tz_localize(None).normalize()
            sessions = exchange.sessions_in_range(first, last)
            return pd.DatetimeIndex(sessions).tz_localize("UTC").as_unit("ns")
        minutes = exchange.minutes_in_range(start.floor(freq), end)
    slots = pd.DatetimeIndex(minutes).floor(freq).unique()
    return slots[slots <= end].as_unit("ns")
