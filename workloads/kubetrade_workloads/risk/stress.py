"""Stress tests: the worst stretches of history, and synthetic shocks.

The synthetic scenarios act on a portfolio described by its weights
(fractions of equity, negative for shorts) and the per-period covariance of
its assets' returns:

- a gap: every asset opens `shock` lower (default -10%) before anyone can
  trade, so the loss is simply -(weights . shock);
- volatility multiplied (default tripled): the covariance scales by the
  factor squared, so the parametric VaR scales by the factor;
- correlations going to one: diversification disappears, and the portfolio
  volatility becomes the weighted sum of the asset volatilities.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from .var import portfolio_var


@dataclass(frozen=True)
class StressWindow:
    """One stretch of history and the compounded return over it."""

    start: pd.Timestamp
    end: pd.Timestamp
    periods: int
    total_return: float


@dataclass(frozen=True)
class ScenarioResult:
    """A synthetic shock: the loss it implies and the VaR before and after it."""

    name: str
    description: str
    loss: float
    """Loss fraction of equity the scenario implies (the stressed VaR for the
    volatility and correlation shocks, the immediate loss for a gap)."""
    base_var: float
    stressed_var: float


def worst_windows(returns: pd.Series, window: int, count: int = 5) -> list[StressWindow]:
    """The `count` worst non-overlapping `window`-period stretches, worst first.

    Returns are compounded within each window. Overlapping windows would
    otherwise report one crash `window` times over.
    """
    if window < 1:
        raise ValueError(f"the stress window must be at least one period, got {window}")
    clean = returns.dropna()
    if len(clean) < window:
        return []
    growth = np.log1p(clean.to_numpy(dtype=np.float64))
    sums = np.convolve(growth, np.ones(window), mode="valid")  # sums[i] covers i .. i+window-1
    taken = np.zeros(len(clean), dtype=bool)
    found: list[StressWindow] = []
    for i in np.argsort(sums, kind="stable"):
        if len(found) == count:
            break
        if taken[i : i + window].any():
            continue
        taken[i : i + window] = True
        found.append(
            StressWindow(
                start=pd.Timestamp(clean.index[i]),
                end=pd.Timestamp(clean.index[i + window - 1]),
                periods=window,
                total_return=float(np.expm1(sums[i])),
            )
        )
    return found


def with_correlation(covariance: npt.ArrayLike, rho: float) -> npt.NDArray[np.float64]:
    """The covariance with every pairwise correlation set to `rho`, volatilities kept."""
    cov = np.asarray(covariance, dtype=np.float64)
    vol = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    corr = np.full(cov.shape, rho)
    np.fill_diagonal(corr, 1.0)
    stressed: npt.NDArray[np.float64] = corr * np.outer(vol, vol)
    return stressed


def scenarios(
    weights: npt.ArrayLike,
    covariance: npt.ArrayLike,
    *,
    confidence: float = 0.99,
    gap: float = -0.10,
    volatility_factor: float = 3.0,
    correlation: float = 1.0,
) -> list[ScenarioResult]:
    """The standard synthetic shocks applied to one portfolio."""
    w = np.asarray(weights, dtype=np.float64)
    cov = np.asarray(covariance, dtype=np.float64)
    base = portfolio_var(w, cov, confidence)
    vol_var = portfolio_var(w, cov * volatility_factor**2, confidence)
    corr_var = portfolio_var(w, with_correlation(cov, correlation), confidence)
    return [
        ScenarioResult(
            "gap",
            f"every asset gaps {gap:+.0%} at the open",
            -float(np.sum(w) * gap),
            base,
            base,
        ),
        ScenarioResult(
            "volatility",
            f"volatility multiplied by {volatility_factor:g}",
            vol_var,
            base,
            vol_var,
        ),
        ScenarioResult(
            "correlation",
            f"all correlations go to {correlation:g}",
            corr_var,
            base,
            corr_var,
        ),
    ]
