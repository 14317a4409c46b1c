"""The recent prices the risk manager estimates volatility and VaR from.

A ring buffer of the last `lookback + 1` bars' prices, one column per symbol
ever seen (NaN where a bar lacks a symbol). Returns are derived once per bar
and covariances per set of symbols are cached until the next bar, so an order
check costs a column selection rather than a pass over history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float64]


class PriceHistory:
    """The last `lookback` bar-to-bar returns of every symbol seen."""

    def __init__(self, lookback: int = 60) -> None:
        if lookback < 2:
            raise ValueError(f"lookback must be at least 2 bars, got {lookback}")
        self._size = lookback + 1
        self._columns: dict[str, int] = {}
        self._prices: Matrix = np.full((self._size, 0), np.nan)
        self._bars = 0
        self._returns: Matrix | None = None
        self._covariances: dict[tuple[str, ...], Matrix | None] = {}
        self._moments: tuple[Matrix, Matrix, Matrix] | None = None

    @property
    def capacity(self) -> int:
        """Bars of prices kept: older ones no longer change any estimate."""
        return self._size

    def record(self, prices: Mapping[str, float]) -> None:
        """Add one bar's prices (non-positive or non-finite prices are left out)."""
        new = [s for s in prices if s not in self._columns]
        if new:
            for s in new:
                self._columns[s] = len(self._columns)
            grown = np.full((self._size, len(self._columns)), np.nan)
            grown[:, : self._prices.shape[1]] = self._prices
            self._prices = grown
        row = self._bars % self._size
        self._prices[row] = np.nan
        for s, p in prices.items():
            if p > 0 and np.isfinite(p):
                self._prices[row, self._columns[s]] = p
        self._bars += 1
        self._returns = None
        self._moments = None
        self._covariances.clear()

    def _ordered_returns(self) -> Matrix:
        if self._returns is None:
            n = min(self._bars, self._size)
            order = (np.arange(self._bars - n, self._bars)) % self._size
            prices = self._prices[order]
            self._returns = prices[1:] / prices[:-1] - 1.0
        return self._returns

    def returns(self, symbols: Sequence[str]) -> Matrix:
        """Simple returns, one column per symbol, over bars where every symbol has a price."""
        if any(s not in self._columns for s in symbols):
            return np.empty((0, len(symbols)))
        chosen = self._ordered_returns()[:, [self._columns[s] for s in symbols]]
        return chosen[~np.isnan(chosen).any(axis=1)]

    def moments(self, symbols: Sequence[str]) -> tuple[Matrix, Matrix, Matrix]:
        """Per symbol: how many returns it has, their mean and sample variance.

        Each symbol over its own priced bars (a symbol listed later is not cut
        to the others' common rows); computed for every column once per bar,
        so sizing a bar's targets costs one pass whatever the number of symbols.
        Unknown symbols have no returns (count 0, mean and variance 0).
        """
        if self._moments is None:
            matrix = self._ordered_returns()
            seen = np.isfinite(matrix)
            rows = matrix.shape[0]
            if rows > 1 and seen.all():  # the usual case: every symbol priced on every bar
                count = np.full(matrix.shape[1], float(rows))
                mean = matrix.mean(axis=0)
                variance = matrix.var(axis=0, ddof=1)
            else:
                count = seen.sum(axis=0).astype(np.float64)
                mean = np.where(seen, matrix, 0.0).sum(axis=0) / np.maximum(count, 1.0)
                squares = np.where(seen, (matrix - mean) ** 2, 0.0).sum(axis=0)
                variance = squares / np.maximum(count - 1.0, 1.0)
            self._moments = (count, mean, variance)
        count, mean, variance = self._moments
        if not symbols:
            return np.zeros(0), np.zeros(0), np.zeros(0)
        index = np.array([self._columns.get(s, -1) for s in symbols])
        known = index >= 0
        if not known.any():
            none = np.zeros(len(symbols))
            return none, none.copy(), none.copy()
        pick = np.where(known, index, 0)
        return (
            np.where(known, count[pick], 0.0),
            np.where(known, mean[pick], 0.0),
            np.where(known, variance[pick], 0.0),
        )

    def last_returns(self) -> dict[str, float]:
        """The latest bar-to-bar return of every symbol priced in both of the last two bars."""
        matrix = self._ordered_returns()
        if matrix.shape[0] == 0:
            return {}
        last = matrix[-1]
        return {s: float(last[i]) for s, i in self._columns.items() if np.isfinite(last[i])}

    def covariance(self, symbols: Sequence[str], min_observations: int) -> Matrix | None:
        """Per-bar sample covariance of the symbols' returns, or None with too little history."""
        key = (*symbols, f"#{min_observations}")
        if key not in self._covariances:
            data = self.returns(symbols)
            enough = data.shape[0] >= max(min_observations, 2)
            self._covariances[key] = (
                np.atleast_2d(np.cov(data, rowvar=False, ddof=1)) if enough else None
            )
        return self._covariances[key]
