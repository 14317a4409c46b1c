"""Inputs for the sizing tests: price paths whose volatility and edge are known
exactly, a strategy that always gives the same signals, and wide risk limits
so that only the sizing decides a position."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from kubetrade_workloads.config.risk import RiskConfig
from kubetrade_workloads.data.sources import calendar
from kubetrade_workloads.market.history import FloatArray, History

WIDE: dict[str, Any] = {
    "limits": {
        "maxPositionWeight": 1.0,
        "maxGrossExposure": 3.0,
        "maxDailyLoss": 0.9,
        "maxDrawdown": 0.95,
        "maxVar": 0.99,
    },
    "breakers": {"marketDrop": 0.99, "consecutiveLosses": 1000},
}


def wide(**sizing: Any) -> dict[str, Any]:
    """Wide limits with `sizing` (camelCase keys) as the spec's risk section."""
    return WIDE | {"sizing": sizing}


def risk_config(**sizing: Any) -> RiskConfig:
    return RiskConfig.model_validate(wide(**sizing))


def alternating(drift: float, swing: float, bars: int) -> FloatArray:
    """Returns drift + swing, drift - swing, ...: mean `drift` and standard deviation
    `swing` (population) over any even number of them."""
    signs = np.where(np.arange(bars) % 2 == 0, 1.0, -1.0)
    out: FloatArray = drift + swing * signs
    return out


def sessions(bars: int) -> pd.DatetimeIndex:
    """The first `bars` NYSE sessions from 2022, as daily bar times (UTC midnight)."""
    days = calendar.sessions(dt.date(2022, 1, 1), dt.date(2024, 12, 31)).index[:bars]
    return pd.DatetimeIndex(days).tz_localize("UTC")


def history(returns: dict[str, FloatArray]) -> History:
    """Daily bars of each symbol from 100, closing on `returns` (open = close)."""
    symbols = list(returns)
    bars = 1 + len(next(iter(returns.values())))
    times = sessions(bars)
    rows = []
    for s in symbols:
        closes = 100.0 * np.cumprod(np.concatenate([[1.0], 1.0 + returns[s]]))
        rows += [
            {
                "timestamp": t,
                "symbol": s,
                "open": c,
                "high": c * 1.01,
                "low": c * 0.99,
                "close": c,
                "volume": 1e9,
            }
            for t, c in zip(times, closes, strict=True)
        ]
    return History.from_frame(pd.DataFrame(rows), symbols)


class Constant:
    """A strategy that gives the same signal for each symbol on every bar."""

    lookback = 1

    def __init__(self, signals: Sequence[float]) -> None:
        self.signals = np.array(signals, dtype=np.float64)

    def target_weights(self, history: History, weights: FloatArray) -> FloatArray:
        return self.signals.copy()
