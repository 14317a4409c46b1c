"""Chronological train / validation / test splits: no shuffling, ever."""

from __future__ import annotations

import pandas as pd

from ..config.data import SplitConfig


def split_by_ratio(bars: pd.DataFrame, splits: SplitConfig) -> dict[str, pd.DataFrame]:
    """Split on timestamps so every symbol's split covers the same period.

    `embargo` bars are dropped at each boundary so that features computed over a
    window cannot straddle two splits.
    """
    times = bars["timestamp"].drop_duplicates().sort_values().to_numpy()
    n = len(times)
    cut1 = int(round(n * splits.train))
    cut2 = int(round(n * (splits.train + splits.validation)))
    e = splits.embargo
    ranges = {"train": (0, cut1), "validation": (cut1 + e, cut2), "test": (cut2 + e, n)}
    out = {}
    for name, (lo, hi) in ranges.items():
        if hi <= lo:
            continue
        mask = (bars["timestamp"] >= times[lo]) & (bars["timestamp"] <= times[hi - 1])
        out[name] = bars.loc[mask].reset_index(drop=True)
    return out
