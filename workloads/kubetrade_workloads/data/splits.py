"""Chronological splits and walk-forward folds: no shuffling, ever.

Splits cut on timestamps, so every symbol's split covers the same period. An
embargo drops the first `embargo` timestamps after each boundary, so that a
label or a window reaching across the boundary cannot leak the next period.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config.data import FoldMode, SplitConfig, WalkForwardConfig

SPLITS = ("train", "validation", "test")


class SplitError(ValueError):
    """The data cannot be split as configured; the message says how it falls short."""


def _times(bars: pd.DataFrame) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(bars["timestamp"].unique()).sort_values()


def _by_positions(
    bars: pd.DataFrame, times: pd.DatetimeIndex, ranges: dict[str, tuple[int, int]]
) -> dict[str, pd.DataFrame]:
    out = {}
    for name, (lo, hi) in ranges.items():
        if hi <= lo:
            continue
        mask = (bars["timestamp"] >= times[lo]) & (bars["timestamp"] <= times[hi - 1])
        out[name] = bars.loc[mask].reset_index(drop=True)
    return out


def split_by_ratio(bars: pd.DataFrame, splits: SplitConfig) -> dict[str, pd.DataFrame]:
    """Train, validation and test by the configured ratios of timestamps."""
    times = _times(bars)
    n = len(times)
    cut1 = int(round(n * splits.train))
    cut2 = int(round(n * (splits.train + splits.validation)))
    e = splits.embargo
    ranges = {"train": (0, cut1), "validation": (cut1 + e, cut2), "test": (cut2 + e, n)}
    return _by_positions(bars, times, ranges)


def _after(times: pd.DatetimeIndex, day: dt.date) -> int:
    """How many of `times` fall on or before `day` (UTC): a date bound holds its whole day."""
    return int(times.searchsorted(pd.Timestamp(day + dt.timedelta(days=1), tz="UTC")))


def split_by_date(bars: pd.DataFrame, splits: SplitConfig) -> dict[str, pd.DataFrame]:
    """Train to the end of `trainEnd`, validation to the end of `validationEnd`, test after."""
    if splits.train_end is None or splits.validation_end is None:
        raise SplitError("splits: trainEnd and validationEnd are needed to split by date")
    times = _times(bars)
    cut1, cut2 = _after(times, splits.train_end), _after(times, splits.validation_end)
    e = splits.embargo
    ranges = {"train": (0, cut1), "validation": (cut1 + e, cut2), "test": (cut2 + e, len(times))}
    return _by_positions(bars, times, ranges)


def split(bars: pd.DataFrame, splits: SplitConfig) -> dict[str, pd.DataFrame]:
    """The configured splits; SplitError when one that should have rows has none.

    A split asked for (a ratio above zero, or by date) must not come out
    empty: a dataset silently missing its test period is a wrong dataset.
    """
    by_date = splits.train_end is not None
    parts = split_by_date(bars, splits) if by_date else split_by_ratio(bars, splits)
    ratios = {"train": splits.train, "validation": splits.validation, "test": splits.test}
    wanted = SPLITS if by_date else [name for name in SPLITS if ratios[name] > 0]
    empty = [name for name in wanted if name not in parts]
    if empty:
        how = (
            f"dates trainEnd {splits.train_end} and validationEnd {splits.validation_end}"
            if by_date
            else f"ratios {ratios}"
        )
        raise SplitError(
            f"splits: {', '.join(empty)} would be empty: {bars['timestamp'].nunique()} "
            f"timestamps from {bars['timestamp'].min()} to {bars['timestamp'].max()} with "
            f"{how} and embargo {splits.embargo}"
        )
    return parts


def _span(start: pd.Timestamp, end: pd.Timestamp, count: int) -> dict[str, object]:
    return {"start": start.isoformat(), "end": end.isoformat(), "timestamps": count}


@dataclass(frozen=True)
class Fold:
    """One walk-forward fold: train on [trainStart, trainEnd], test on [testStart, testEnd]."""

    index: int
    train_start: pd.Timestamp
    train_end: pd.Timestamp
    test_start: pd.Timestamp
    test_end: pd.Timestamp
    train_bars: int
    test_bars: int

    def as_dict(self) -> dict[str, object]:
        """Fold boundaries as the manifest records them (timestamps, both ends included)."""
        return {
            "fold": self.index,
            "train": _span(self.train_start, self.train_end, self.train_bars),
            "test": _span(self.test_start, self.test_end, self.test_bars),
        }


def walk_forward(timestamps: pd.Series, config: WalkForwardConfig, embargo: int = 0) -> list[Fold]:
    """Folds over `timestamps` cut into `folds + 1` equal blocks of time.

    Fold k tests on block k and trains on blocks 0..k-1 (expanding) or on
    block k-1 alone (rolling); the last `embargo` timestamps of each training
    window are purged, as they sit right before the test block.
    """
    times = pd.DatetimeIndex(timestamps.unique()).sort_values()
    blocks = np.array_split(np.arange(len(times)), config.folds + 1)
    if min(len(b) for b in blocks) <= embargo:  # every block must leave training rows
        raise SplitError(
            f"splits.walkForward: {len(times)} timestamps are too few for {config.folds} "
            f"folds with embargo {embargo}"
        )
    folds = []
    for k in range(1, config.folds + 1):
        first = 0 if config.mode == FoldMode.EXPANDING else int(blocks[k - 1][0])
        stop = int(blocks[k][0]) - embargo  # one past the last training timestamp
        test = blocks[k]
        folds.append(
            Fold(
                index=k,
                train_start=times[first],
                train_end=times[stop - 1],
                test_start=times[int(test[0])],
                test_end=times[int(test[-1])],
                train_bars=stop - first,
                test_bars=len(test),
            )
        )
    return folds
