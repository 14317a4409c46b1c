"""Calendar: day of week, day of month, month and time of day, as points on a
circle (sine, cosine) so that Sunday sits next to Monday. Read in UTC.

Each is a lookup into a small table of sines and cosines: a gather is much
cheaper than evaluating trigonometry for every bar. Time of day is read to the
minute, the finest bar interval. Daily bars have no time of day; selection
drops those constant columns.
"""

from __future__ import annotations

import numpy as np

from .inputs import Floats, Ints, SymbolBars

NAMES = (
    "day_of_week_sin",
    "day_of_week_cos",
    "day_of_month_sin",
    "day_of_month_cos",
    "month_sin",
    "month_cos",
    "time_of_day_sin",
    "time_of_day_cos",
)

_NS_PER_MINUTE = 60 * 10**9
_MINUTES_PER_DAY = 1440


def _circle(period: int) -> tuple[Floats, Floats]:
    angle = 2.0 * np.pi * np.arange(period) / period
    return np.sin(angle), np.cos(angle)


_WEEK, _MONTH_DAYS, _YEAR, _DAY = _circle(7), _circle(31), _circle(12), _circle(_MINUTES_PER_DAY)


def _month_and_day(days: Ints) -> tuple[Ints, Ints]:
    """Month (0-11) and day of month (0-30) of days since 1970-01-01.

    Integer arithmetic (H. Hinnant's civil-from-days): several times cheaper
    than converting through datetime64 months, and exact for any date.
    """
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5
    month = np.where(mp < 10, mp + 2, mp - 10)
    return month, day


def compute(s: SymbolBars, window: int) -> dict[str, Floats]:
    """The calendar features of one symbol's timestamps."""
    minutes = s.times // _NS_PER_MINUTE
    days = minutes // _MINUTES_PER_DAY
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
    month, day_of_month = _month_and_day(days)
    time_of_day = minutes % _MINUTES_PER_DAY
    return {
        "day_of_week_sin": _WEEK[0][weekday],
        "day_of_week_cos": _WEEK[1][weekday],
        "day_of_month_sin": _MONTH_DAYS[0][day_of_month],
        "day_of_month_cos": _MONTH_DAYS[1][day_of_month],
        "month_sin": _YEAR[0][month],
        "month_cos": _YEAR[1][month],
        "time_of_day_sin": _DAY[0][time_of_day],
        "time_of_day_cos": _DAY[1][time_of_day],
    }
