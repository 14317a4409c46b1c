"""Baseline strategies: buy-and-hold, moving-average crossover and momentum.

Each computes every bar's targets at once (`weight_matrix`, the vectorised
backtest's input) and, bar by bar, the same numbers from a window that ends at
the current bar (`target_weights`): the last row of the same function applied
to that window. Indicators are sums in a fixed association, so a value is
bit-identical either way and even exact ties break the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..market.history import FloatArray, History
from ..market.strategy import Weights


def sma(values: FloatArray, window: int) -> FloatArray:
    """Simple moving average along the first axis; NaN until a window is full.

    The window sum is built from power-of-two block sums (log2(window) passes, not
    `window`), and the value of bar t is a fixed expression of the window's
    elements: the same bits whether computed over the whole series or over a
    window that ends at t. No running sum whose rounding depends on the start.
    """
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    n = len(values)
    out = np.full(values.shape, np.nan)
    if n < window:
        return out
    total = out[window - 1 :]  # sums accumulate in place: fresh memory is costly
    total[...] = 0.0  # 0 + x == x: no rounding added
    spare = [np.empty(values.shape), np.empty(values.shape)] if window > 1 else []
    block, size = values, 1  # block[i]: sum of the `size` values ending at i
    covered, remaining = 0, window
    while True:
        if remaining & 1:
            np.add(total, block[window - 1 - covered : n - covered], out=total)
            covered += size
        remaining >>= 1
        if not remaining:
            break
        doubled = spare[0] if block is not spare[0] else spare[1]  # ping-pong buffers
        doubled[:size] = np.nan  # sums of fewer than `size` values: never read
        np.add(block[size:], block[:-size], out=doubled[size:])
        block, size = doubled, size * 2
    total /= window
    return out


def _last_row(strategy: _Vector, history: History) -> Weights:
    tail = history.upto(len(history) - 1, strategy.lookback)
    row: FloatArray = strategy.weight_matrix(tail)[-1]
    return row


class _Vector:
    """Shared bar-by-bar entry point of the vectorised baselines."""

    @property
    def lookback(self) -> int:
        raise NotImplementedError

    def weight_matrix(self, history: History) -> FloatArray:
        raise NotImplementedError

    def target_weights(self, history: History, weights: FloatArray) -> Weights:
        """This bar's targets: the last row of `weight_matrix` over the lookback window."""
        return _last_row(self, history)


@dataclass(frozen=True)
class BuyAndHold(_Vector):
    """Equal weight in every symbol from the first bar on."""

    @property
    def lookback(self) -> int:
        return 1

    def weight_matrix(self, history: History) -> FloatArray:
        """1/N for every symbol on every bar."""
        n, k = history.close.shape
        return np.full((n, k), 1.0 / k)


@dataclass(frozen=True)
class MovingAverageCrossover(_Vector):
    """Long (1/N per symbol) while the fast average of closes is above the slow one.

    With `short`, short (-1/N) while it is below; flat before the slow window fills.
    """

    fast: int = 10
    slow: int = 50
    short: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.fast < self.slow:
            raise ValueError(f"need 1 <= fast < slow, got fast={self.fast} slow={self.slow}")

    @property
    def lookback(self) -> int:
        return self.slow

    def weight_matrix(self, history: History) -> FloatArray:
        """+1/N above, 0 (or -1/N with `short`) below, per symbol and bar."""
        close = history.close
        fast, slow = sma(close, self.fast), sma(close, self.slow)
        share = 1.0 / close.shape[1]
        out = np.where(fast > slow, share, 0.0)
        if self.short:
            out = np.where(fast < slow, -share, out)
        return out


@dataclass(frozen=True)
class Momentum(_Vector):
    """Long the symbols whose return over `window` bars is positive.

    Without `top`, 1/N in each such symbol; with `top`, 1/top in each of the
    `top` best (ties broken by symbol order).
    """

    window: int = 20
    top: int | None = None

    def __post_init__(self) -> None:
        if self.window < 1:
            raise ValueError(f"window must be >= 1, got {self.window}")
        if self.top is not None and self.top < 1:
            raise ValueError(f"top must be >= 1, got {self.top}")

    @property
    def lookback(self) -> int:
        return self.window + 1

    def weight_matrix(self, history: History) -> FloatArray:
        """Per symbol and bar: the share when its momentum qualifies, else 0."""
        close = history.close
        n, k = close.shape
        momentum = np.full((n, k), -np.inf)
        if n > self.window:
            momentum[self.window :] = close[self.window :] / close[: n - self.window] - 1.0
        rising = momentum > 0
        if self.top is None:
            return np.where(rising, 1.0 / k, 0.0)
        order = np.argsort(-momentum, axis=1, kind="stable")
        ranks = np.empty_like(order)
        np.put_along_axis(ranks, order, np.arange(k)[None, :].repeat(n, axis=0), axis=1)
        return np.where(rising & (ranks < self.top), 1.0 / self.top, 0.0)


BASELINES: dict[str, Callable[..., _Vector]] = {
    "buy-and-hold": BuyAndHold,
    "ma-crossover": MovingAverageCrossover,
    "momentum": Momentum,
}


def baseline(name: str, **params: int | bool | None) -> _Vector:
    """A baseline by its command-line name; raises ValueError naming the choices."""
    try:
        factory = BASELINES[name]
    except KeyError:
        raise ValueError(f"unknown strategy {name!r}; choose from {sorted(BASELINES)}") from None
    return factory(**params)
