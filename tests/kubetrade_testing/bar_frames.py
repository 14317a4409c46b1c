"""Small bar frames for data tests: a seeded random walk on a calendar's bars.

Independent of the sources, so cleaning and feature tests state exactly what
they start from.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kubetrade_workloads.data import calendars


def bars(
    symbols: tuple[str, ...] = ("AAA", "BBB"),
    start: str = "2021-01-04",
    end: str = "2022-06-30",
    interval: str = "1d",
    calendar: str = "auto",
    seed: int = 0,
    vol: float = 0.01,
) -> pd.DataFrame:
    """Clean canonical bars: every calendar bar between `start` and `end`, sorted."""
    rng = np.random.default_rng(seed)
    frames = []
    for symbol in symbols:
        times = calendars.expected(
            calendars.resolve(calendar, symbol),
            interval,
            pd.Timestamp(start, tz="UTC"),
            pd.Timestamp(end, tz="UTC"),
        )
        n = len(times)
        close = rng.uniform(20, 200) * np.exp(np.cumsum(rng.normal(0, vol, n)))
        open_ = close * np.exp(rng.normal(0, vol / 4, n))
        high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, vol / 2, n)))
        low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, vol / 2, n)))
        volume = np.round(rng.lognormal(12, 0.4, n))
        frames.append(
            pd.DataFrame(
                {
                    "timestamp": times,
                    "symbol": symbol,
                    "open": open_,
                    "high": high,
                    "low": low,
                    "close": close,
                    "volume": volume,
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["timestamp", "symbol"], kind="stable").reset_index(drop=True)


def one(frame: pd.DataFrame, symbol: str) -> pd.DataFrame:
    """The rows of one symbol, in time order, re-indexed from 0."""
    part = frame[frame["symbol"] == symbol]
    return part.sort_values("timestamp").reset_index(drop=True)
