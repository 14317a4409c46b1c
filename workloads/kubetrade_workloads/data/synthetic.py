"""Synthetic OHLCV bars: the embedded default source, deterministic from a seed.

Correlated symbols share a market factor; calm, volatile and trending regimes
switch as a Markov chain, so models meet more than one kind of market.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ..config.data import Interval, SourceConfig

_FREQ = {"1m": "min", "5m": "5min", "15m": "15min", "1h": "h", "1d": "B"}
_BARS_PER_YEAR = {"1m": 252 * 390, "5m": 252 * 78, "15m": 252 * 26, "1h": 252 * 7, "1d": 252}
# (annual drift, annual volatility) of calm, volatile and trending regimes.
_REGIMES = np.array([[0.05, 0.12], [-0.05, 0.45], [0.30, 0.18]])
_STAY = 0.98  # chance a regime lasts another bar


def _index(source: SourceConfig) -> pd.DatetimeIndex:
    end = source.end or source.start + dt.timedelta(days=3 * 365)
    return pd.date_range(
        source.start, end, freq=_FREQ[Interval(source.interval).value], tz="UTC", inclusive="left"
    )


def generate(source: SourceConfig) -> pd.DataFrame:
    """Bars for every symbol in long form: timestamp, symbol, open, high, low, close, volume."""
    rng = np.random.default_rng(source.seed)
    index = _index(source)
    n, k = len(index), len(source.symbols)
    dt_year = 1.0 / _BARS_PER_YEAR[Interval(source.interval).value]
    regimes = np.empty(n, dtype=np.int64)
    regimes[0] = 0
    switches = rng.random(n) > _STAY
    choices = rng.integers(0, 3, n)
    for i in range(1, n):  # a Markov chain is sequential by nature
        regimes[i] = choices[i] if switches[i] else regimes[i - 1]
    drift, vol = _REGIMES[regimes, 0], _REGIMES[regimes, 1]
    market = rng.standard_normal(n)
    idio = rng.standard_normal((n, k))
    beta = rng.uniform(0.5, 1.2, k)
    shocks = beta * market[:, None] + np.sqrt(1 - np.minimum(beta, 0.95) ** 2)[None, :] * idio
    jumps = (rng.random((n, k)) < 0.002) * rng.normal(0, 0.08, (n, k))
    log_ret = (
        (drift[:, None] - 0.5 * vol[:, None] ** 2) * dt_year
        + vol[:, None] * np.sqrt(dt_year) * shocks
        + jumps
    )
    close = rng.uniform(20, 400, k) * np.exp(np.cumsum(log_ret, axis=0))
    open_ = np.vstack([close[:1], close[:-1]]) * np.exp(rng.normal(0, 0.002, (n, k)))
    spread = np.abs(rng.normal(0, vol[:, None] * np.sqrt(dt_year) * 0.5, (n, k)))
    high = np.maximum(open_, close) * (1 + spread)
    low = np.minimum(open_, close) * (1 - spread)
    volume = np.round(rng.lognormal(13, 0.5, (n, k)) * (1 + 5 * np.abs(log_ret)))
    frames = [
        pd.DataFrame(
            {
                "timestamp": index,
                "symbol": symbol,
                "open": open_[:, j],
                "high": high[:, j],
                "low": low[:, j],
                "close": close[:, j],
                "volume": volume[:, j],
            }
        )
        for j, symbol in enumerate(source.symbols)
    ]
    return pd.concat(frames, ignore_index=True)
