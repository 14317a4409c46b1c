"""The quality report: every repair cleaning makes, counted per symbol.

Counts are plain numbers so the manifest and the Dataset's status can carry
them as they are; ratios are derived from counts, never stored apart from them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields

import pandas as pd

from ..config.base import to_camel

# The counts summed across symbols for the dataset's report.
_COUNTS = (
    "rows_in",
    "duplicates",
    "unsorted",
    "invalid_timestamps",
    "naive_timestamps",
    "non_finite",
    "impossible",
    "inconsistent",
    "off_calendar",
    "expected",
    "gaps",
    "missing",
    "filled",
    "dropped_missing",
    "stale",
    "spikes",
    "withheld",
    "splits",
    "dividends",
    "outliers",
    "rows_out",
)


@dataclass(frozen=True)
class QualityReport:
    """What cleaning found and did for one symbol.

    `duplicates`, `unsorted`, `invalidTimestamps` and `naiveTimestamps` count
    rows as they arrived; `nonFinite` (an infinite value), `impossible` (a
    non-positive price, negative volume or high below low) and `inconsistent`
    (high or low not spanning open and close, widened) count bars repaired.
    `calendar` is the calendar the symbol was cleaned against (what `auto`
    chose). `offCalendar` rows fell outside it and were dropped; their share of
    the rows with a readable, unique timestamp (`offCalendarRatio`) is held to
    `validation.maxOffCalendarRatio`, so a wrong calendar fails loudly instead
    of dropping bars behind a perfect completeness.
    `stale` (a bar repeating the one before) and `spikes` (a one-bar move the
    next bar takes back) count bars made missing as impossible; `withheld` the
    newest bars, held back until a later bar says whether the last move was a
    spike. `splits` and `dividends` count corporate actions applied (listed in
    `actions`, each repaired bar in `repairs`).
    `expected` is the number of bars the calendar has between the symbol's
    own first and last timestamp (a listing or delisting inside the dataset's
    range is not a gap); `gaps` of them had no row and `missing` had a row
    without usable values. `filled` of those were forward-filled, the rest
    (`droppedMissing`) dropped. `outliers` counts returns beyond the robust
    z-score, whatever the configured action did with them.
    """

    symbol: str
    rows_in: int = 0
    duplicates: int = 0
    unsorted: int = 0
    invalid_timestamps: int = 0
    naive_timestamps: int = 0
    non_finite: int = 0
    impossible: int = 0
    inconsistent: int = 0
    off_calendar: int = 0
    expected: int = 0
    gaps: int = 0
    missing: int = 0
    filled: int = 0
    dropped_missing: int = 0
    stale: int = 0
    spikes: int = 0
    withheld: int = 0
    splits: int = 0
    dividends: int = 0
    outliers: int = 0
    rows_out: int = 0
    last: pd.Timestamp | None = None
    actions: tuple[dict[str, object], ...] = ()
    """Corporate actions applied: symbol, date, kind, ratio or dividend, origin."""
    repairs: tuple[dict[str, object], ...] = ()
    """Bars repaired as impossible: symbol, timestamp, what."""
    calendar: str = ""

    @property
    def completeness(self) -> float:
        """Share of the calendar's bars that arrived with usable values."""
        if self.expected == 0:
            return 0.0
        return max(0.0, (self.expected - self.gaps - self.missing) / self.expected)

    @property
    def off_calendar_ratio(self) -> float:
        """Share of the rows with a readable, unique timestamp that the calendar lacks."""
        seen = self.rows_in - self.invalid_timestamps - self.duplicates
        return self.off_calendar / seen if seen > 0 else 0.0

    @property
    def gap_ratio(self) -> float:
        """Share of the calendar's bars that had no row at all."""
        return self.gaps / self.expected if self.expected else 1.0

    @property
    def outlier_ratio(self) -> float:
        """Share of the kept bars whose return was an outlier."""
        return self.outliers / self.rows_out if self.rows_out else 0.0

    def as_dict(self) -> dict[str, float | str]:
        """The numbers, camelCase, as the manifest and status carry them, and the
        calendar when one was chosen."""
        out: dict[str, float | str] = {
            to_camel(f.name): getattr(self, f.name) for f in fields(self) if f.name in _COUNTS
        }
        out.update(
            completeness=round(self.completeness, 6),
            gapRatio=round(self.gap_ratio, 6),
            outlierRatio=round(self.outlier_ratio, 6),
            offCalendarRatio=round(self.off_calendar_ratio, 6),
        )
        if self.calendar:
            out["calendar"] = self.calendar
        return out


def summarize(reports: Iterable[QualityReport], **extra: int) -> dict[str, float]:
    """The dataset's report: counts summed over symbols, ratios over the sums.

    `minCompleteness` is the worst symbol's, the figure validation holds to its
    threshold; `extra` adds dataset-level counts (e.g. rows without a symbol).
    """
    items = list(reports)
    total = QualityReport(
        symbol="*", **{name: sum(getattr(r, name) for r in items) for name in _COUNTS}
    )
    out = {k: v for k, v in total.as_dict().items() if not isinstance(v, str)}
    out["symbols"] = len(items)
    out["minCompleteness"] = round(min((r.completeness for r in items), default=0.0), 6)
    out.update({to_camel(k): v for k, v in extra.items()})
    return out
