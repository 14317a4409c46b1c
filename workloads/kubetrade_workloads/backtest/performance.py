"""All metrics of one backtest in one record, ready for JSON, status fields and reports."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from ..config.base import to_camel
from . import metrics
from .metrics import ArrayLike

_COUNTS = ("bars", "max_drawdown_duration", "recovery_time")


@dataclass(frozen=True)
class Performance:
    """Metrics of a return series; NaN means undefined (see `metrics`)."""

    bars: int
    periods_per_year: float
    total_return: float
    annual_return: float
    annual_volatility: float
    sharpe: float
    probabilistic_sharpe: float
    """Probability that the true Sharpe ratio is above 0 (Bailey & López de Prado)."""
    sortino: float
    calmar: float
    max_drawdown: float
    """Negative fraction: -0.2 is a 20% fall from the peak."""
    max_drawdown_duration: float
    """Bars."""
    recovery_time: float
    """Bars from the deepest trough back to the peak; NaN if never recovered."""
    win_rate: float
    profit_factor: float
    expectancy: float
    turnover: float
    """Annualised: traded notional over mean equity per year."""
    exposure: float
    """Share of bars with a position open."""
    gross_exposure: float
    """Mean of the sum of absolute weights."""
    alpha: float
    beta: float

    def to_dict(self) -> dict[str, float | int | None]:
        """Plain JSON values under camelCase keys (as status fields spell them):
        NaN becomes None, bar counts become integers."""
        out: dict[str, float | int | None] = {}
        for key, value in asdict(self).items():
            name = to_camel(key)
            if isinstance(value, float) and math.isnan(value):
                out[name] = None
            elif key in _COUNTS:
                out[name] = int(value)
            else:
                out[name] = value
        return out


def summarize(
    returns: ArrayLike,
    periods_per_year: float,
    *,
    benchmark: ArrayLike | None = None,
    traded: ArrayLike | None = None,
    equity: ArrayLike | None = None,
    gross: ArrayLike | None = None,
) -> Performance:
    """Every metric of `returns`; those needing absent inputs are NaN.

    `benchmark` gives alpha and beta, `traded` (notional per bar) with `equity`
    gives turnover, `gross` (sum of absolute weights per bar) gives exposure.
    """
    if benchmark is not None:
        alpha, beta = metrics.alpha_beta(returns, benchmark, periods_per_year)
    else:
        alpha, beta = math.nan, math.nan
    r = metrics.clean_returns(returns)
    deepest, duration, recovery = metrics.drawdown_stats(r)
    annual = metrics.annual_return(r, periods_per_year)
    annual_turnover = math.nan
    if traded is not None and equity is not None:
        annual_turnover = metrics.turnover(traded, equity, periods_per_year)
    return Performance(
        bars=len(r),
        periods_per_year=periods_per_year,
        total_return=metrics.total_return(r),
        annual_return=annual,
        annual_volatility=metrics.annual_volatility(r, periods_per_year),
        sharpe=metrics.sharpe_ratio(r, periods_per_year),
        probabilistic_sharpe=metrics.probabilistic_sharpe(r),
        sortino=metrics.sortino_ratio(r, periods_per_year),
        calmar=metrics.calmar(annual, deepest),
        max_drawdown=deepest,
        max_drawdown_duration=duration,
        recovery_time=recovery,
        win_rate=metrics.win_rate(r),
        profit_factor=metrics.profit_factor(r),
        expectancy=metrics.expectancy(r),
        turnover=annual_turnover,
        exposure=metrics.exposure(gross) if gross is not None else math.nan,
        gross_exposure=_mean(gross),
        alpha=alpha,
        beta=beta,
    )


def _mean(values: ArrayLike | None) -> float:
    if values is None or len(values) == 0:
        return math.nan
    return float(np.mean(np.asarray(values, dtype=np.float64)))
