"""Cleaning bars: each repair made once, in a fixed order, and counted.

1. rows without a symbol or a readable timestamp are dropped; timestamps go
   to UTC (naive ones in `cleaning.timezone`, refused without it; mixed naive
   and aware values are refused) and become bar labels, see `timestamps`;
2. duplicated (symbol, timestamp) rows keep the last one sent, as sources
   re-send a corrected bar after the first; unsorted rows are sorted;
3. infinite values become missing (unreadable ones already are); so do
   impossible bars (a non-positive price, negative volume, high below low);
   bars whose high or low does not span open and close are widened to do so;
4. bars off the symbol's calendar are dropped and the calendar's bars with no
   row, between the symbol's own first and last bar, are inserted as missing
   (gaps);
5. missing bars are forward-filled, up to `fillLimit` in a row, as a flat bar
   at the last close with zero volume (or dropped, with `fillMethod: none`);
6. return outliers are clipped, dropped or kept (see `outliers`).

The result is a canonical bar frame: sorted, unique, finite, consistent.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..config.data import CleaningConfig, FillMethod, OutlierAction
from ..market.bars import COLUMNS, PRICE_COLUMNS, BarsError, empty
from . import calendars, outliers, timestamps
from .outliers import Floats, Mask
from .quality import QualityReport, summarize

_VALUES = [*PRICE_COLUMNS, "volume"]


@dataclass(frozen=True)
class Cleaned:
    """Clean bars, one quality report per symbol, and rows no symbol could own."""

    bars: pd.DataFrame
    reports: tuple[QualityReport, ...]
    unowned: int = 0

    def quality(self) -> dict[str, float]:
        """The dataset's quality report as numbers."""
        return summarize(self.reports, rows_without_symbol=self.unowned)


def _counts(frame: pd.DataFrame, column: str, symbols: pd.Index) -> pd.Series:
    return frame.groupby("symbol")[column].sum().reindex(symbols, fill_value=0).astype(int)


def _prepare(
    bars: pd.DataFrame, interval: str, config: CleaningConfig
) -> tuple[pd.DataFrame, list[QualityReport], int]:
    """Keys readable, values numeric, duplicates dropped, rows sorted; counts per symbol.

    Timestamps go to UTC (naive ones in `config.timezone`) and become bar labels
    (bar starts; daily bars on their session date), see `timestamps`.
    """
    missing = [c for c in COLUMNS if c not in bars.columns]
    if missing:
        raise BarsError(f"bar frame lacks columns {missing}")
    frame = bars.loc[:, list(COLUMNS)].reset_index(drop=True)
    owned = frame["symbol"].notna()
    frame = frame[owned].reset_index(drop=True)
    frame["symbol"] = frame["symbol"].astype(str)
    parsed = timestamps.to_utc(
        frame["timestamp"],
        config.timezone,
        symbols=frame["symbol"],
        daily=interval == timestamps.DAILY,
    )
    frame["timestamp"] = timestamps.labels(parsed, interval, str(config.bar_label))
    for col in _VALUES:
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    frame["rows_in"] = 1
    frame["invalid"] = frame["timestamp"].isna().astype(int)
    symbols = pd.Index(sorted(frame["symbol"].unique()))
    rows_in, invalid = _counts(frame, "rows_in", symbols), _counts(frame, "invalid", symbols)
    frame = frame[frame["invalid"] == 0]
    back = frame.groupby("symbol", sort=False)["timestamp"].diff() < pd.Timedelta(0)
    frame = frame.assign(
        unsorted=back.astype(int),
        duplicates=frame.duplicated(["symbol", "timestamp"], keep="last").astype(int),
    )
    unsorted, duplicates = (
        _counts(frame, "unsorted", symbols),
        _counts(frame, "duplicates", symbols),
    )
    reports = [
        QualityReport(
            symbol=sym,
            rows_in=int(rows_in[sym]),
            invalid_timestamps=int(invalid[sym]),
            naive_timestamps=int(rows_in[sym] - invalid[sym]) if parsed.naive else 0,
            unsorted=int(unsorted[sym]),
            duplicates=int(duplicates[sym]),
        )
        for sym in symbols
    ]
    frame = frame[frame["duplicates"] == 0].sort_values(["symbol", "timestamp"], kind="stable")
    return frame.loc[:, list(COLUMNS)].reset_index(drop=True), reports, int((~owned).sum())


class _Repairs(NamedTuple):
    non_finite: int
    impossible: int
    inconsistent: int


def _repair_values(values: Floats) -> tuple[Floats, _Repairs]:
    """Non-finite and impossible values to NaN, inconsistent high/low widened."""
    values = values.copy()
    infinite = np.isinf(values)  # NaN is missing, counted as such; infinity is a fault
    non_finite = int(infinite.any(axis=1).sum())
    values[infinite] = np.nan
    o, h, lo, c, v = values.T  # views: they see the NaNs set below
    with np.errstate(invalid="ignore"):
        impossible = (values[:, :4] <= 0).any(axis=1) | (v < 0) | (h < lo)
    values[impossible] = np.nan
    body_hi, body_lo = np.fmax(o, c), np.fmin(o, c)
    with np.errstate(invalid="ignore"):
        narrow = ((h < body_hi) | (lo > body_lo)) & ~np.isnan(values).any(axis=1)
    values[:, 1] = np.where(narrow, np.fmax(h, body_hi), h)
    values[:, 2] = np.where(narrow, np.fmin(lo, body_lo), lo)
    return values, _Repairs(non_finite, int(impossible.sum()), int(narrow.sum()))


def _fill(values: Floats, config: CleaningConfig) -> tuple[Floats, Mask, int]:
    """Missing bars as flat bars at the last close, `fillLimit` in a row at most.

    Returns the values, the rows to keep and how many were filled.
    """
    missing: Mask = np.asarray(np.isnan(values).any(axis=1))
    if config.fill_method == FillMethod.NONE or config.fill_limit == 0 or not missing.any():
        return values, ~missing, 0
    close = pd.Series(np.where(missing, np.nan, values[:, 3]))
    last = close.ffill(limit=config.fill_limit).to_numpy()
    filled = missing & ~np.isnan(last)
    values = values.copy()
    values[filled, :4] = last[filled, None]
    values[filled, 4] = 0.0
    return values, ~missing | filled, int(filled.sum())


def _clean_symbol(
    bars: pd.DataFrame, report: QualityReport, slots: pd.DatetimeIndex, config: CleaningConfig
) -> tuple[pd.DataFrame, QualityReport]:
    """Clean one symbol's sorted, unique bars against its calendar's `slots`."""
    values, repairs = _repair_values(bars[_VALUES].to_numpy(dtype="float64"))
    on_calendar = bars["timestamp"].isin(slots).to_numpy()
    missing = int(np.isnan(values[on_calendar]).any(axis=1).sum())
    aligned = pd.DataFrame(
        values[on_calendar], columns=_VALUES, index=bars["timestamp"][on_calendar]
    )
    aligned = aligned.reindex(slots)
    filled_values, keep, filled = _fill(aligned.to_numpy(), config)
    kept, times = filled_values[keep], aligned.index[keep]
    prices, rows, found = outliers.apply(
        kept[:, :4], kept[:, 3], OutlierAction(config.outlier_action), config.outlier_z
    )
    kept = np.column_stack([prices, kept[:, 4]])[rows]
    out = pd.DataFrame(kept, columns=_VALUES)
    out.insert(0, "symbol", report.symbol)
    out.insert(0, "timestamp", times[rows])
    report = replace(
        report,
        non_finite=repairs.non_finite,
        impossible=repairs.impossible,
        inconsistent=repairs.inconsistent,
        off_calendar=int((~on_calendar).sum()),
        expected=len(slots),
        gaps=len(slots) - int(on_calendar.sum()),
        missing=missing,
        filled=filled,
        dropped_missing=int((~keep).sum()),
        outliers=found,
        rows_out=len(out),
        last=out["timestamp"].iloc[-1] if len(out) else None,
    )
    return out, report


def clean(bars: pd.DataFrame, config: CleaningConfig, interval: str) -> Cleaned:
    """Clean `bars` (any source's frame) into canonical bars and count every repair.

    Raises BarsError for what cannot be repaired without guessing: missing
    columns, naive timestamps without `timezone`, mixed time zones, numeric
    timestamps, an unknown calendar.
    """
    frame, reports, unowned = _prepare(bars, interval, config)
    if frame.empty:
        return Cleaned(empty(), tuple(reports), unowned)
    parts, done = [], []
    groups = dict(tuple(frame.groupby("symbol", sort=True)))
    for report in reports:
        own = groups.get(report.symbol)
        if own is None:  # every row of this symbol had an unreadable timestamp
            done.append(report)
            continue
        # Each symbol's own span: a listing or delisting inside the range is no gap.
        start, end = own["timestamp"].iloc[0], own["timestamp"].iloc[-1]
        calendar = calendars.resolve(config.calendar, report.symbol)
        slots = calendars.expected(calendar, interval, start, end)
        part, report = _clean_symbol(own, replace(report, calendar=calendar), slots, config)
        parts.append(part)
        done.append(report)
    out = pd.concat(parts, ignore_index=True) if parts else empty()
    out = out.sort_values(["timestamp", "symbol"], kind="stable").reset_index(drop=True)
    return Cleaned(out.loc[:, list(COLUMNS)], tuple(done), unowned)
