"""Backtests on the market kernel's ports: an event-driven engine, a vectorised fast
path that agrees with it, metrics, benchmarks and walk-forward validation.

Never imports `trading` (the trader stands on the same `market` kernel instead).
"""

from .engine import AllowAll, run_events
from .result import BacktestResult
from .run import BacktestError, EnginePath, run_backtest
from .settings import BacktestSettings, Rebalance, RebalanceMode
from .vectorized import run_vectorized

__all__ = [
    "AllowAll",
    "BacktestError",
    "BacktestResult",
    "BacktestSettings",
    "EnginePath",
    "Rebalance",
    "RebalanceMode",
    "run_backtest",
    "run_events",
    "run_vectorized",
]
