"""Rolling risk: volatility, drawdown and correlation through time."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def rolling_volatility(
    returns: pd.Series, window: int, periods_per_year: float = 252.0
) -> pd.Series:
    """Annualised volatility (sample standard deviation) over a trailing window."""
    return returns.rolling(window).std(ddof=1) * math.sqrt(periods_per_year)


def equity_curve(returns: pd.Series, start: float = 1.0) -> pd.Series:
    """Compounded value of `start` invested at the beginning of the series."""
    return start * (1.0 + returns.fillna(0.0)).cumprod()


def drawdown(returns: pd.Series) -> pd.Series:
    """Fall from the running peak at each period, as a fraction (0 or negative).

    The starting capital counts as the first peak, so a loss in the very
    first period is a drawdown.
    """
    equity = equity_curve(returns)
    peak = equity.cummax().clip(lower=1.0)
    return equity / peak - 1.0


def rolling_max_drawdown(returns: pd.Series, window: int) -> pd.Series:
    """The deepest drawdown within each trailing window (0 or negative)."""

    def worst(chunk: np.ndarray) -> float:
        equity = np.cumprod(1.0 + chunk)
        peak = np.maximum(np.maximum.accumulate(equity), 1.0)
        return float(np.min(equity / peak - 1.0))

    return returns.fillna(0.0).rolling(window).apply(worst, raw=True)


def rolling_correlation(a: pd.Series, b: pd.Series, window: int) -> pd.Series:
    """Pearson correlation of two aligned series over a trailing window."""
    return a.rolling(window).corr(b)
