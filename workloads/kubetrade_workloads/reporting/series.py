"""Time series the charts draw: growth of one unit, rolling Sharpe, monthly returns."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def growth(returns: pd.Series) -> pd.Series:
    """Value of one unit invested at the start, compounded bar by bar."""
    return (1.0 + returns.fillna(0.0)).cumprod()


def rolling_sharpe(returns: pd.Series, window: int, periods_per_year: float) -> pd.Series:
    """Annualised Sharpe ratio over a trailing window; NaN where volatility is zero."""
    mean = returns.rolling(window).mean()
    std = returns.rolling(window).std(ddof=1)
    return (mean / std.where(std > 0)) * math.sqrt(periods_per_year)


def monthly_returns(returns: pd.Series) -> pd.DataFrame:
    """Compounded return of each calendar month: rows are years, columns months 1-12."""
    stamps = pd.DatetimeIndex(returns.index)
    frame = pd.DataFrame(
        {"growth": np.log1p(returns.to_numpy(dtype=np.float64))},
        index=stamps,
    )
    frame["year"], frame["month"] = stamps.year, stamps.month
    table = frame.groupby(["year", "month"])["growth"].sum().unstack("month")
    return table.map(math.expm1).reindex(columns=range(1, 13))
