"""Timestamps to UTC, refusing what cannot be read without guessing, and bar labels.

Sources hand over datetimes, ISO-8601 strings or a mix. Aware values (any
offset) convert to UTC exactly. Naive values mean nothing without a zone: they
are localised in `cleaning.timezone` (an IANA name) and counted, and without
that option they are refused with one line naming it; plain dates of daily
bars (every value at midnight) need no zone, as a session date is the same
day in every zone. Every source here hands
over aware values, so only a user's file meets the rule. A column mixing naive
and aware values is refused: whichever way it were read, some rows would land
hours away from where they belong. Numbers are refused too, as their epoch
unit is a guess.

Daylight saving, for naive values in a zone that has it:

- a wall time the clocks skip (02:30 on the spring-forward night) cannot have
  been stamped by a clock in that zone: it is unreadable, counted with
  `invalidTimestamps` and dropped;
- a wall time the clocks repeat (01:30 on the fall-back night) is the earlier,
  summer-time instant the first time a symbol has it and the later one the
  second time: the order a local clock writes them in.

Labels: every bar is labelled by its start (`barLabel: start`); bars a vendor
labels by their end (`barLabel: end`: a 16:00 bar covering 15:59-16:00) move
back one interval, so each session's closing bar lands on the calendar instead
of off it. Daily bars are labelled by their session date at 00:00 UTC, the
date as the source wrote it (in its own offset or zone, not the UTC date a
Tokyo midnight would fall on); with `barLabel: end` a bar stamped exactly at
midnight belongs to the day before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from ..market.bars import BarsError

# An ISO-8601 string that carries its own offset: ...Z, ...+05:00, ...-0500.
_AWARE_TEXT = r"(?:Z|[+-]\d{2}:?\d{2})\s*$"
START, END = "start", "end"
DAILY = "1d"
FREQ = {"1m": "1min", "5m": "5min", "15m": "15min", "1h": "1h", "1d": "1D"}
"""Each interval's length as a pandas frequency."""


@dataclass(frozen=True)
class ParsedTimes:
    """UTC timestamps (NaT where a value was missing or unreadable) and counts.

    `wall` is each value's wall-clock time as written (in its own offset or
    zone, naive), kept only when asked for: daily labels read their date there.
    """

    values: pd.Series
    naive: int
    invalid: int
    wall: pd.Series | None = None


def _awareness(column: pd.Series) -> pd.Series:
    """Per value: True aware, False naive, NA missing (objects and strings only)."""

    def one(value: object) -> bool | None:
        if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
            return None
        if isinstance(value, str):
            return re.search(_AWARE_TEXT, value) is not None
        if isinstance(value, int | float):
            raise BarsError("timestamps must be datetimes or ISO-8601 strings, not numbers")
        return getattr(value, "tzinfo", None) is not None

    if pd.api.types.is_string_dtype(column) and not column.isna().any():
        return column.str.contains(_AWARE_TEXT, regex=True)  # the fast path for clean text
    return column.map(one)


def _ns(values: pd.Series) -> pd.Series:
    try:
        return pd.Series(values.dt.as_unit("ns"))
    except (OverflowError, pd.errors.OutOfBoundsDatetime) as err:
        raise BarsError("timestamps must lie between the years 1678 and 2261") from err


def _naive_refused(count: int) -> BarsError:
    return BarsError(
        f"{count} timestamps carry no time zone; set cleaning.timezone "
        "(e.g. America/New_York, or UTC) or give them offsets"
    )


def _zone_for(wall: pd.Series, timezone: str | None, daily: bool, naive: int) -> str:
    """The zone naive values are read in; plain dates of daily bars need none."""
    if timezone is not None or not naive:
        return timezone or "UTC"
    present = wall.dropna()
    if daily and bool((present == present.dt.normalize()).all()):
        return "UTC"  # a session date is the same day in every zone
    raise _naive_refused(naive)


def _localize(wall: pd.Series, timezone: str, symbols: pd.Series | None, daily: bool) -> pd.Series:
    """Naive wall times in `timezone` to UTC, by the daylight-saving policy above
    (a daily bar's skipped midnight moves forward: its date is what counts)."""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise BarsError(f"cleaning.timezone {timezone!r} is not an IANA time zone") from err
    skipped = "shift_forward" if daily else "NaT"
    try:
        local = wall.dt.tz_localize(timezone, ambiguous="raise", nonexistent=skipped)
    except ValueError:  # a repeated wall time: first seen is summer time, second winter
        keys = [wall.fillna(pd.Timestamp(0))]
        if symbols is not None:
            keys.insert(0, symbols)
        first = wall.groupby(keys, sort=False).cumcount().to_numpy() == 0
        local = wall.dt.tz_localize(timezone, ambiguous=first, nonexistent=skipped)
    return pd.Series(local.dt.tz_convert("UTC"), index=wall.index)


def _wall_of_text(column: pd.Series) -> pd.Series:
    """The wall-clock time each aware string or datetime was written in, naive."""

    def strip(value: object) -> object:
        if isinstance(value, str):
            return re.sub(_AWARE_TEXT, "", value.strip())
        if getattr(value, "tzinfo", None) is not None:
            return value.replace(tzinfo=None)  # type: ignore[attr-defined]
        return value

    if pd.api.types.is_string_dtype(column) and not column.isna().any():
        text = column.str.strip().str.replace(_AWARE_TEXT, "", regex=True)  # the fast path
    else:
        text = column.astype(object).where(column.notna(), None).map(strip)
    return pd.Series(pd.to_datetime(text, format="mixed", errors="coerce"), index=column.index)


def to_utc(
    column: pd.Series,
    timezone: str | None = None,
    *,
    symbols: pd.Series | None = None,
    daily: bool = False,
) -> ParsedTimes:
    """Parse `column` to nanosecond UTC timestamps.

    Naive values are localised in `timezone` (raising BarsError without one);
    `symbols`, aligned with `column`, orders repeated wall times per symbol;
    `daily` keeps the wall-clock times as written for daily labels. Raises BarsError on mixed
    zones, numbers and an unknown zone.
    """
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        values = column.dt.tz_convert("UTC")
        walls = column.dt.tz_localize(None) if daily else None
        return ParsedTimes(_ns(values), 0, int(values.isna().sum()), walls)
    if pd.api.types.is_datetime64_dtype(column):
        naive = int(column.notna().sum())
        zone = _zone_for(column, timezone, daily, naive)
        values = _localize(column, zone, symbols, daily)
        return ParsedTimes(_ns(values), naive, int(values.isna().sum()), column if daily else None)
    if pd.api.types.is_numeric_dtype(column) and len(column):
        raise BarsError("timestamps must be datetimes or ISO-8601 strings, not numbers")
    text = column.astype(object).where(column.notna(), None)
    # Read as UTC first: a naive value then keeps its wall time, an aware one converts.
    parsed = pd.Series(
        pd.to_datetime(text, utc=True, format="mixed", errors="coerce"), index=column.index
    )
    # Only readable values count: an unreadable one is dropped, not guessed at.
    known = _awareness(column)[parsed.notna()].dropna().astype(bool)
    if known.any() and not known.all():
        raise BarsError(
            f"timestamps mix time zones: {int((~known).sum())} naive and {int(known.sum())} "
            "tz-aware values; give every timestamp an offset or none"
        )
    if known.all():  # every readable value aware (or none readable)
        walls = _wall_of_text(column) if daily else None
        return ParsedTimes(_ns(parsed), 0, int(parsed.isna().sum()), walls)
    naive_wall = pd.Series(parsed.dt.tz_localize(None), index=column.index)
    values = _localize(
        naive_wall, _zone_for(naive_wall, timezone, daily, len(known)), symbols, daily
    )
    return ParsedTimes(
        _ns(values), len(known), int(values.isna().sum()), naive_wall if daily else None
    )


def labels(parsed: ParsedTimes, interval: str, bar_label: str = START) -> pd.Series:
    """Bar labels: the start of each bar in UTC; daily bars at 00:00 UTC of their
    session date (read from the wall time as written when `parsed` kept it)."""
    if interval != DAILY:
        if bar_label == END:
            return parsed.values - pd.Timedelta(FREQ[interval])
        return parsed.values
    base = parsed.wall if parsed.wall is not None else parsed.values.dt.tz_localize(None)
    if bar_label == END:  # 00:00 closes the day before; 16:00 closes its own day
        base = base - pd.Timedelta(1, "ns")
    dates = pd.Series(base, index=parsed.values.index).dt.floor("D")
    dates = dates.where(parsed.values.notna())  # unreadable stays unreadable
    return _ns(pd.Series(dates.dt.tz_localize("UTC"), index=parsed.values.index))
