"""Benchmark return series: buy-and-hold and equal weight, frictionless, from closes.

Buy-and-hold puts equal amounts into every symbol priced on the first bar and
lets the weights drift; equal weight is rebalanced to equal weights on every
bar (the mean of the symbols' returns). Both start at the first bar's close, so
their first return is 0.
"""

from __future__ import annotations

import numpy as np

from ..config.evaluation import Benchmark
from ..market.history import FloatArray, History


class BenchmarkError(ValueError):
    """The benchmark cannot be formed from these bars; the message says why."""


def benchmark_returns(history: History, kind: Benchmark | str) -> FloatArray:
    """Per-bar returns of the benchmark over `history`."""
    close, tradeable = history.close, history.tradeable
    n = len(close)
    out = np.zeros(n)
    if n == 0:
        return out
    if Benchmark(kind) == Benchmark.BUY_AND_HOLD:
        held = tradeable[0]
        if not held.any():
            raise BenchmarkError(
                "no symbol has a price on the first bar, so there is no buy-and-hold benchmark"
            )
        value = (close[:, held] / close[0, held]).mean(axis=1)
        out[1:] = value[1:] / value[:-1] - 1.0
        return out
    moves = close[1:] / close[:-1] - 1.0
    live = tradeable[:-1]
    counted = live.sum(axis=1)
    total = np.where(live, moves, 0.0).sum(axis=1)
    out[1:] = np.divide(total, counted, out=np.zeros(n - 1), where=counted > 0)
    return out
