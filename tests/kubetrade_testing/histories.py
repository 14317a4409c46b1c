"""Small factories for the market and backtest tests: histories from arrays, and
strategies that replay a fixed target matrix."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kubetrade_workloads.market.history import FloatArray, History


def history(
    close: Sequence[Sequence[float]] | FloatArray,
    *,
    open_: Sequence[Sequence[float]] | FloatArray | None = None,
    volume: float | FloatArray = 1e6,
    symbols: Sequence[str] | None = None,
    start: str = "2024-01-01",
    freq: str = "D",
) -> History:
    """A History from a [bars, symbols] close array (open defaults to close)."""
    closes = np.asarray(close, dtype=np.float64)
    if closes.ndim == 1:
        closes = closes[:, None]
    opens = closes if open_ is None else np.asarray(open_, dtype=np.float64).reshape(closes.shape)
    n, k = closes.shape
    names = list(symbols) if symbols else [f"S{j}" for j in range(k)]
    return History(
        pd.date_range(start, periods=n, freq=freq).to_numpy(),
        names,
        {
            "open": opens,
            "high": np.maximum(opens, closes),
            "low": np.minimum(opens, closes),
            "close": closes,
            "volume": np.broadcast_to(np.asarray(volume, dtype=np.float64), closes.shape).copy(),
        },
    )


def random_history(
    seed: int, bars: int = 300, symbols: int = 3, *, vol: float = 0.02, freq: str = "D"
) -> History:
    """A geometric random walk per symbol, opens jittered around the previous close."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, vol, (bars, symbols)), axis=0))
    previous = np.vstack([close[:1], close[:-1]])
    open_ = previous * np.exp(rng.normal(0.0, vol / 4, (bars, symbols)))
    volume = rng.uniform(1e3, 1e5, (bars, symbols))
    return history(close, open_=open_, volume=volume, freq=freq)


class MatrixStrategy:
    """Replays fixed targets: row t of `weights` at bar t (both paths, no look-ahead
    needed since the rows are given)."""

    lookback = 0

    def __init__(self, weights: FloatArray) -> None:
        self.weights = np.asarray(weights, dtype=np.float64)

    def weight_matrix(self, history: History) -> FloatArray:
        return self.weights[: len(history)]

    def target_weights(self, history: History, weights: FloatArray) -> FloatArray:
        row: FloatArray = self.weights[len(history) - 1]
        return row


def publish(root: Path, bars: pd.DataFrame, manifest: dict[str, Any]) -> Path:
    """A dataset folder in the published layout: train and test Parquet, then a manifest."""
    times = np.sort(bars["timestamp"].unique())
    cut = times[int(len(times) * 0.7)]
    parts = {"train": bars[bars.timestamp < cut], "test": bars[bars.timestamp >= cut]}
    splits = {}
    for name, part in parts.items():
        part.to_parquet(root / f"{name}.parquet", index=False)
        splits[name] = {
            "path": f"{name}.parquet",
            "rows": len(part),
            "start": part.timestamp.min().isoformat(),
            "end": part.timestamp.max().isoformat(),
        }
    body = {"version": 2, "symbols": sorted(bars.symbol.unique()), "splits": splits, **manifest}
    (root / "manifest.json").write_text(json.dumps(body))
    return root
