"""Validation: each symbol's quality report held to the configured thresholds.

A miss raises ValidationFailed with one line naming the symbol and the check;
the pod prints it and exits non-zero, and the operator shows that line as the
Dataset's Failed reason, so it must stand on its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import pandas as pd

from ..config.data import ValidationConfig
from .quality import QualityReport

_WRONG_CALENDAR = "set cleaning.calendar to the market's calendar"


class ValidationFailed(ValueError):
    """The dataset misses a threshold; the message names the symbol and the check."""


def _misses(report: QualityReport, config: ValidationConfig, now: pd.Timestamp) -> Iterable[str]:
    if report.rows_in == 0:
        yield "check bars: the source returned no bars"
        return
    if report.rows_out == 0:
        # Bars off the calendar left none: the calendar is wrong, not the data.
        off = f": {report.off_calendar} fall outside calendar {report.calendar or '?'}; "
        yield (
            f"check bars: none of {report.rows_in} bars survived cleaning"
            f"{off + _WRONG_CALENDAR if report.off_calendar else ''}"
        )
        return
    if report.completeness < config.min_completeness:
        yield (
            f"check completeness: {report.completeness:.4f} < minCompleteness "
            f"{config.min_completeness} ({report.gaps} gaps, {report.missing} missing "
            f"of {report.expected} bars)"
        )
    if report.gap_ratio > config.max_gap_ratio:
        yield f"check gaps: gap ratio {report.gap_ratio:.4f} > maxGapRatio {config.max_gap_ratio}"
    if report.off_calendar_ratio > config.max_off_calendar_ratio:
        yield (
            f"check calendar: {report.off_calendar} of the bars ({report.off_calendar_ratio:.4f}) "
            f"fall outside calendar {report.calendar or '?'} > maxOffCalendarRatio "
            f"{config.max_off_calendar_ratio}; {_WRONG_CALENDAR}"
        )
    if report.outlier_ratio > config.max_outlier_ratio:
        yield (
            f"check outliers: outlier ratio {report.outlier_ratio:.4f} > maxOutlierRatio "
            f"{config.max_outlier_ratio} ({report.outliers} of {report.rows_out} bars)"
        )
    if config.max_staleness_days is not None and report.last is not None:
        age = (now - report.last).total_seconds() / 86400
        if age > config.max_staleness_days:
            yield (
                f"check staleness: last bar {report.last.isoformat()} is {age:.1f} days old "
                f"> maxStalenessDays {config.max_staleness_days}"
            )


def check(
    reports: Iterable[QualityReport],
    config: ValidationConfig,
    symbols: Sequence[str],
    now: pd.Timestamp | dt.datetime | None = None,
) -> None:
    """Raise ValidationFailed unless every symbol in `symbols` meets `config`.

    `now` is what staleness is measured to: the source's end when it has one,
    else the current time. The message names the first failing symbol and
    check, and how many other misses there were.
    """
    when = pd.Timestamp(now if now is not None else pd.Timestamp.now(tz="UTC"))
    when = when.tz_localize("UTC") if when.tzinfo is None else when.tz_convert("UTC")
    by_symbol = {r.symbol: r for r in reports}
    misses = [
        f"symbol {symbol}: {miss}"
        for symbol in symbols
        for miss in _misses(by_symbol.get(symbol, QualityReport(symbol)), config, when)
    ]
    if misses:
        more = f" (and {len(misses) - 1} more)" if len(misses) > 1 else ""
        raise ValidationFailed(f"validation failed for {misses[0]}{more}")
