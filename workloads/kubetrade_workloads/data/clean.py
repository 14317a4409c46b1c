"""Cleaning bars: each repair made once, in a fixed order, and counted.

1. rows without a symbol or a readable timestamp are dropped; timestamps go
   to UTC (naive ones in `cleaning.timezone`, refused without it; mixed naive
   and aware values are refused) and become bar labels, see `timestamps`;
2. duplicated (symbol, timestamp) rows keep the last one sent, as sources
   re-send a corrected bar after the first; unsorted rows are sorted (1 and
   2 in `prepare`);
3. infinite values become missing (unreadable ones already are); so do
   impossible bars (a non-positive price, negative volume, high below low);
   bars whose high or low does not span open and close are widened to do so;
4. bars off the symbol's calendar are dropped and the calendar's bars with no
   row, between the symbol's own first and last bar, are inserted as missing
   (gaps);
5. bars that cannot be real become missing: stale ticks and one-bar spikes
   the next bar takes back (see `outliers`); given splits (and, under
   `adjustment: all`, dividends) are applied, then split-like jumps detected,
   each adjusting history backward (see `corporate`);
6. missing bars are forward-filled, up to `fillLimit` in a row, as a flat bar
   at the last close with zero volume (or dropped, with `fillMethod: none`);
7. return outliers are counted and kept (clipped or dropped only when asked).

Every decision reads the bar and bars before it, except a spike's, which
needs the next bar: the newest bar, if it moved like one, is held back. So
cleaning bars up to t and up to a later time agree on every bar up to t, but
for the price level before a corporate action that arrived in between (the
`adjustment` column records each bar's factor: raw price = price x adjustment).

The result is a canonical bar frame: sorted, unique, finite, consistent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..config.data import Adjustment, CleaningConfig, FillMethod, OutlierAction
from ..market.bars import COLUMNS, PRICE_COLUMNS, empty
from . import calendars, corporate, outliers, prepare
from .outliers import Floats, Mask
from .quality import QualityReport, summarize

_VALUES = [*PRICE_COLUMNS, "volume"]
ADJUSTMENT = "adjustment"
"""The column of each bar's cumulative price factor: raw price = price x adjustment."""
LISTED = 1000
"""Repaired bars listed per symbol in the report (the counts are complete)."""


@dataclass(frozen=True)
class Cleaned:
    """Clean bars, one quality report per symbol, and rows no symbol could own."""

    bars: pd.DataFrame
    reports: tuple[QualityReport, ...]
    unowned: int = 0

    def quality(self) -> dict[str, float]:
        """The dataset's quality report as numbers."""
        return summarize(self.reports, rows_without_symbol=self.unowned)


class _Repairs(NamedTuple):
    non_finite: Mask
    impossible: Mask
    inconsistent: Mask


def _repair_values(values: Floats) -> tuple[Floats, _Repairs]:
    """Non-finite and impossible values to NaN, inconsistent high/low widened."""
    values = values.copy()
    infinite = np.isinf(values)  # NaN is missing, counted as such; infinity is a fault
    non_finite: Mask = np.asarray(infinite.any(axis=1))
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
    return values, _Repairs(non_finite, impossible, narrow)


def _scaled(values: Floats, price: Floats, volume: Floats) -> Floats:
    """Bars with prices divided by `price` and volumes multiplied by `volume`."""
    scaled: Floats = values * np.c_[1.0 / price[:, None].repeat(4, axis=1), volume]
    return scaled


class _Adjusted(NamedTuple):
    values: Floats
    factor: Floats
    stale: Mask
    spikes: Mask
    withheld: int  # the first row held back (len(values) when none)
    actions: list[corporate.Action]


def _adjust(
    values: Floats,
    times: pd.Index,
    symbol: str,
    given: Sequence[corporate.Given],
    config: CleaningConfig,
    days: npt.NDArray[np.int64],
) -> _Adjusted:
    """Impossible bars made missing and corporate actions applied, in the order
    that lets each step read clean bars: stale ticks (raw), given actions,
    spikes (on the given-adjusted closes), then split detection. `days` is
    each bar's session (`calendars.session_days`): actions start a session."""
    n = len(values)
    stale = outliers.stale(values, np.asarray(~np.isnan(values).any(axis=1)))
    values = np.where(stale[:, None], np.nan, values)
    valid: Mask = np.asarray(~np.isnan(values).any(axis=1))
    placed = corporate.place(days, valid, given)
    price, volume = corporate.factors(
        n, values, valid, [(r, g.ratio, g.dividend) for r, g in placed]
    )
    values = _scaled(values, price, volume)
    spikes, unconfirmed = outliers.spikes(values[:, 3], valid, config.outlier_z)
    values[spikes] = np.nan
    withheld = n if unconfirmed is None else unconfirmed
    valid &= ~spikes & (np.arange(n) < withheld)
    actions = [
        corporate.Action(symbol, times[r], "given", g.ratio, g.dividend, int(days[r]))
        for r, g in placed
    ]
    if config.adjustment in (Adjustment.AUTO, Adjustment.ALL):
        rows, ratios = corporate.detect(values, valid, days)
        taken = [r for r, g in placed if g.ratio is not None]
        found = [
            (r, q, None)
            for r, q, near in zip(rows, ratios, corporate.near(rows, taken), strict=True)
            if not near
        ]
        more, more_volume = corporate.factors(n, values, valid, found)
        values = _scaled(values, more, more_volume)
        price = price * more
        actions += [
            corporate.Action(symbol, times[r], "detected", q, session=int(days[r]))
            for r, q, _ in found
        ]
    actions.sort(key=lambda a: a.timestamp)
    return _Adjusted(values, price, stale, spikes, withheld, actions)


def _listed(
    symbol: str, kinds: Sequence[tuple[str, pd.Index | pd.Series, Mask]]
) -> tuple[dict[str, object], ...]:
    """The first `LISTED` repaired bars of a symbol, by time."""
    out: list[dict[str, object]] = [
        {"symbol": symbol, "timestamp": pd.Timestamp(t).isoformat(), "what": what}
        for what, times, mask in kinds
        for t in pd.Index(times)[mask][:LISTED]
    ]
    return tuple(sorted(out, key=lambda r: str(r["timestamp"]))[:LISTED])


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
    bars: pd.DataFrame,
    report: QualityReport,
    slots: pd.DatetimeIndex,
    config: CleaningConfig,
    days: npt.NDArray[np.int64],
    given: Sequence[corporate.Given] = (),
) -> tuple[pd.DataFrame, QualityReport]:
    """Clean one symbol's sorted, unique bars against its calendar's `slots`, each
    in the session `days` says."""
    values, repairs = _repair_values(bars[_VALUES].to_numpy(dtype="float64"))
    on_calendar = bars["timestamp"].isin(slots).to_numpy()
    missing = int(np.isnan(values[on_calendar]).any(axis=1).sum())
    aligned = pd.DataFrame(
        values[on_calendar], columns=_VALUES, index=bars["timestamp"][on_calendar]
    )
    aligned = aligned.reindex(slots)
    done = _adjust(aligned.to_numpy(), aligned.index, report.symbol, given, config, days)
    filled_values, keep, filled = _fill(done.values, config)
    keep[done.withheld :] = False  # unconfirmed: neither filled nor published
    kept, times, factor = filled_values[keep], aligned.index[keep], done.factor[keep]
    prices, rows, found = outliers.apply(
        kept[:, :4], kept[:, 3], OutlierAction(config.outlier_action), config.outlier_z
    )
    kept = np.column_stack([prices, kept[:, 4], factor])[rows]
    out = pd.DataFrame(kept, columns=[*_VALUES, ADJUSTMENT])
    out.insert(0, "symbol", report.symbol)
    out.insert(0, "timestamp", times[rows])
    withheld = len(slots) - done.withheld
    report = replace(
        report,
        non_finite=int(repairs.non_finite.sum()),
        impossible=int(repairs.impossible.sum()),
        inconsistent=int(repairs.inconsistent.sum()),
        off_calendar=int((~on_calendar).sum()),
        expected=len(slots),
        gaps=len(slots) - int(on_calendar.sum()),
        missing=missing,
        filled=filled,
        dropped_missing=int((~keep).sum()) - withheld,
        stale=int(done.stale.sum()),
        spikes=int(done.spikes.sum()),
        withheld=withheld,
        splits=sum(a.ratio is not None for a in done.actions),
        dividends=sum(a.dividend is not None for a in done.actions),
        outliers=found,
        rows_out=len(out),
        last=out["timestamp"].iloc[-1] if len(out) else None,
        actions=tuple(a.as_dict() for a in done.actions),
        repairs=_listed(
            report.symbol,
            [
                ("nonFinite", bars["timestamp"], repairs.non_finite),
                ("impossible", bars["timestamp"], repairs.impossible),
                ("inconsistent", bars["timestamp"], repairs.inconsistent),
                ("stale", aligned.index, done.stale),
                ("spike", aligned.index, done.spikes),
            ],
        ),
    )
    return out, report


def clean(bars: pd.DataFrame, config: CleaningConfig, interval: str) -> Cleaned:
    """Clean `bars` (any source's frame) into canonical bars and count every repair.

    Raises BarsError for what cannot be repaired without guessing: missing
    columns, naive timestamps without `timezone`, mixed time zones, numeric
    timestamps, an unknown calendar.
    """
    given = corporate.given(bars, config.corporate_actions, Adjustment(config.adjustment))
    frame, reports, unowned = prepare.prepare(bars, interval, config)
    if frame.empty:
        return Cleaned(empty().assign(**{ADJUSTMENT: 1.0}), tuple(reports), unowned)
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
        days = calendars.session_days(calendar, interval, slots)
        part, report = _clean_symbol(
            own,
            replace(report, calendar=calendar),
            slots,
            config,
            days,
            given.get(report.symbol, ()),
        )
        parts.append(part)
        done.append(report)
    out = pd.concat(parts, ignore_index=True) if parts else empty().assign(**{ADJUSTMENT: 1.0})
    out = out.sort_values(["timestamp", "symbol"], kind="stable").reset_index(drop=True)
    return Cleaned(out.loc[:, [*COLUMNS, ADJUSTMENT]], tuple(done), unowned)
