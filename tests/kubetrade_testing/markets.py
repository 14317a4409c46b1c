"""Small markets for environment and training tests: random-walk bars, histories, datasets."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kubetrade_workloads.data import publish
from kubetrade_workloads.market.history import History


def bars(
    symbols: Sequence[str] = ("AAA", "BBB"), n: int = 120, seed: int = 0, drift: float = 0.0
) -> pd.DataFrame:
    """A canonical long bar frame: daily random walks, positive prices, some volume."""
    rng = np.random.default_rng(seed)
    times = pd.date_range("2022-01-03", periods=n, freq="D", tz="UTC")
    frames = []
    for j, symbol in enumerate(symbols):
        steps = rng.normal(drift, 0.01, n)
        close = 50.0 * (j + 1) * np.exp(np.cumsum(steps))
        open_ = close * np.exp(rng.normal(0, 0.003, n))
        high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.01, n))
        low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.01, n))
        volume = rng.uniform(1e5, 2e5, n)
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
    return pd.concat(frames).sort_values(["timestamp", "symbol"]).reset_index(drop=True)


def history(symbols: Sequence[str] = ("AAA", "BBB"), n: int = 120, seed: int = 0) -> History:
    """`bars` as a History."""
    return History.from_frame(bars(symbols, n, seed))


def dataset(
    root: Path,
    symbols: Sequence[str] = ("AAA", "BBB"),
    n: int = 240,
    seed: int = 0,
    extra: dict[str, Any] | None = None,
) -> str:
    """Publish a dataset of `bars` (train 60%, validation 20%, test 20%); return its URI."""
    frame = bars(symbols, n, seed, drift=0.0005)
    times = frame["timestamp"].drop_duplicates().sort_values().to_list()
    cut1, cut2 = times[int(n * 0.6)], times[int(n * 0.8)]
    splits = {
        "train": frame[frame["timestamp"] < cut1].reset_index(drop=True),
        "validation": frame[(frame["timestamp"] >= cut1) & (frame["timestamp"] < cut2)].reset_index(
            drop=True
        ),
        "test": frame[frame["timestamp"] >= cut2].reset_index(drop=True),
    }
    uri = f"file://{root}"
    publish.write_dataset(uri, splits, {"source": {"interval": "1d"}, **(extra or {})})
    return uri
