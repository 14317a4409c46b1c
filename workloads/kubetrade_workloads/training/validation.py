"""Scoring a policy on a held-out split: one deterministic episode over all of it.

The Sharpe ratio and drawdown come from `backtest.metrics`, the definitions the
Model's evaluation and its promotion gates use, so early stopping selects on
the number the gates will judge.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..backtest import metrics
from ..envs.arrays import Float32Array
from ..envs.trading_env import TradingEnv
from ..market.history import FloatArray

Act = Callable[[Float32Array], np.ndarray]
"""A policy as the environment sees it: observation in, action out."""


def run_episode(env: TradingEnv, act: Act) -> FloatArray:
    """Equity at every bar of one episode from the environment's first bar."""
    obs, info = env.reset(seed=0)
    equity = [info["equity"]]
    done = False
    while not done:
        obs, _, terminated, truncated, info = env.step(act(obs))
        equity.append(info["equity"])
        done = terminated or truncated
    return np.asarray(equity, dtype=np.float64)


def score(equity: FloatArray, periods_per_year: float) -> dict[str, float]:
    """Sharpe, total return and maximum drawdown of an equity curve."""
    returns = equity[1:] / equity[:-1] - 1.0
    return {
        "sharpe": metrics.sharpe_ratio(returns, periods_per_year),
        "totalReturn": metrics.total_return(returns),
        "maxDrawdown": metrics.max_drawdown(returns),
    }


def better(candidate: float, best: float | None) -> bool:
    """Whether a validation Sharpe beats the best so far (an undefined Sharpe never does)."""
    if not np.isfinite(candidate):
        return False
    return best is None or candidate > best
