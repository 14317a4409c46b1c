"""Timestamps to UTC, refusing what cannot be read without guessing.

Sources hand over datetimes, ISO-8601 strings or a mix. Aware values (any
offset) convert to UTC exactly. Naive values are taken as UTC, the convention
of every source here, and counted so the quality report shows it. A column
mixing naive and aware values is refused: whichever way it were read, some
rows would land hours away from where they belong. Numbers are refused too,
as their epoch unit is a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from ..market.bars import BarsError

# An ISO-8601 string that carries its own offset: ...Z, ...+05:00, ...-0500.
_AWARE_TEXT = r"(?:Z|[+-]\d{2}:?\d{2})\s*$"


@dataclass(frozen=True)
class ParsedTimes:
    """UTC timestamps (NaT where a value was missing or unreadable) and counts."""

    values: pd.Series
    naive: int
    invalid: int


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


def to_utc(column: pd.Series) -> ParsedTimes:
    """Parse `column` to nanosecond UTC timestamps; raise BarsError on mixed zones."""
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        values = column.dt.tz_convert("UTC")
        return ParsedTimes(_ns(values), 0, int(values.isna().sum()))
    if pd.api.types.is_datetime64_dtype(column):
        values = column.dt.tz_localize("UTC")
        return ParsedTimes(_ns(values), int(values.notna().sum()), int(values.isna().sum()))
    if pd.api.types.is_numeric_dtype(column) and len(column):
        raise BarsError("timestamps must be datetimes or ISO-8601 strings, not numbers")
    text = column.astype(object).where(column.notna(), None)
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
    naive = 0 if known.all() else len(known)
    return ParsedTimes(_ns(parsed), naive, int(parsed.isna().sum()))
