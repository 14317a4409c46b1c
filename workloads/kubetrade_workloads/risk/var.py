"""Value at risk and expected shortfall of a return series.

Conventions, the same for every method:
- Inputs are simple (not log) returns per period, e.g. daily.
- VaR and ES are reported as positive *loss fractions*: a 1-day 95% VaR of
  0.02 means that a day worse than -2% is expected on 1 day in 20. ES is the
  mean loss on the days beyond the VaR, so ES >= VaR.
- `horizon` is in periods. Historical VaR scales the one-period figure by
  sqrt(horizon) (the square-root-of-time rule: exact for i.i.d. zero-mean
  returns, an approximation otherwise, and optimistic when returns are
  autocorrelated or fat-tailed). Parametric VaR scales the mean by horizon and
  the volatility by sqrt(horizon). Monte Carlo simulates horizon-long paths
  and compounds them, so it needs no scaling rule at all.
- Historical quantiles interpolate linearly between order statistics (numpy's
  default), so small samples give smooth rather than stepwise estimates.

The normal quantile comes from the standard library (`statistics.NormalDist`),
so the trader's risk checks need no scipy.

Cornish-Fisher is only a quantile function where its expansion increases in
z. Its derivative is a quadratic in z (`cornish_fisher_slope`); with large
skew or excess kurtosis it turns negative somewhere, the implied density is
negative there and the "quantile" at the VaR level is not the loss exceeded
with probability 1 - confidence (excess kurtosis 26 gave half the historical
VaR). `cornish_fisher_valid` asks that the slope stay positive over every
quantile the estimate uses, the ES grid from the far tail to its mirror image
beyond the median (Maillard's (2012) domain of validity, over that range
rather than the whole real line, so that a near-normal sample's excess
kurtosis of -0.001, which breaks monotonicity only past |z| ~ 89, is kept).
Outside it the estimate falls back to historical simulation, logs a warning
and says so: `RiskEstimate.estimator` is the method actually used and
`RiskEstimate.note` why it differs from the one asked for.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from statistics import NormalDist
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

log = logging.getLogger(__name__)
Returns = pd.Series | npt.NDArray[np.floating[Any]] | Sequence[float]
_NORMAL = NormalDist()
# Tail probabilities at which the Cornish-Fisher quantile is averaged for ES.
_ES_GRID = 2000


class VarMethod(StrEnum):
    HISTORICAL = "historical"
    PARAMETRIC = "parametric"
    CORNISH_FISHER = "cornish_fisher"
    MONTE_CARLO = "monte_carlo"


@dataclass(frozen=True)
class RiskEstimate:
    """VaR and ES as positive loss fractions, with how they were computed."""

    method: str
    """The method asked for."""
    confidence: float
    horizon: int
    var: float
    es: float
    estimator: str = ""
    """The method that produced the figures: `method` unless it fell back (then `note` says why)."""
    note: str = ""

    def __post_init__(self) -> None:
        if not self.estimator:
            object.__setattr__(self, "estimator", self.method)

    @property
    def label(self) -> str:
        """The method for a table or a chart legend, naming a fallback."""
        name = self.method.replace("_", "-")
        if self.estimator == self.method:
            return name
        return f"{self.estimator.replace('_', '-')} ({name} invalid)"


def clean_returns(returns: Returns) -> npt.NDArray[np.float64]:
    """Finite returns as a float array; raises ValueError on an empty series."""
    values = np.asarray(returns, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise ValueError("the return series is empty (or holds no finite value)")
    return values


def _check(confidence: float, horizon: int) -> None:
    if not 0.5 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0.5, 1), got {confidence}")
    if horizon < 1:
        raise ValueError(f"horizon must be at least one period, got {horizon}")


def historical(returns: Returns, confidence: float = 0.95, horizon: int = 1) -> RiskEstimate:
    """Historical-simulation VaR and ES: the empirical loss quantile, sqrt-time scaled."""
    _check(confidence, horizon)
    values = clean_returns(returns)
    cutoff = float(np.quantile(values, 1.0 - confidence))
    tail = values[values <= cutoff]
    scale = math.sqrt(horizon)
    return RiskEstimate(
        "historical", confidence, horizon, -cutoff * scale, -float(tail.mean()) * scale
    )


def moments(values: npt.NDArray[np.float64]) -> tuple[float, float, float, float]:
    """Mean, sample standard deviation (ddof=1), skewness and excess kurtosis.

    Skewness and kurtosis are the population (biased) moments, as
    `scipy.stats.skew` and `scipy.stats.kurtosis` give by default; both are 0
    for a constant series rather than undefined.
    """
    mean = float(values.mean())
    std = float(values.std(ddof=1)) if values.size > 1 else 0.0
    # Skew and kurtosis do not depend on scale: computed on values scaled to
    # about 1, so that tiny returns cannot underflow m2**1.5 to zero.
    scale = float(np.abs(values).max()) if values.size else 0.0
    centred = (values - mean) / scale if scale > 0.0 else values - mean
    m2 = float(np.mean(centred**2))
    if m2 == 0.0:
        return mean, std, 0.0, 0.0
    skew = float(np.mean(centred**3)) / m2**1.5
    kurt = float(np.mean(centred**4)) / m2**2 - 3.0
    return mean, std, skew, kurt


def cornish_fisher_z(z: float | npt.NDArray[np.float64], skew: float, kurt: float) -> Any:
    """The Cornish-Fisher expansion of a normal quantile `z` for skew and excess kurtosis."""
    return (
        z
        + (z**2 - 1.0) * skew / 6.0
        + (z**3 - 3.0 * z) * kurt / 24.0
        - (2.0 * z**3 - 5.0 * z) * skew**2 / 36.0
    )


def cornish_fisher_slope(z: float | npt.NDArray[np.float64], skew: float, kurt: float) -> Any:
    """d/dz of `cornish_fisher_z`: 1 + zS/3 + (z^2 - 1)K/8 - (6z^2 - 5)S^2/36."""
    return 1.0 + z * skew / 3.0 + (z**2 - 1.0) * kurt / 8.0 - (6.0 * z**2 - 5.0) * skew**2 / 36.0


def cornish_fisher_valid(skew: float, kurt: float, confidence: float) -> bool:
    """Whether the expansion increases in z over every quantile a `confidence` estimate uses.

    The slope is a quadratic a z^2 + b z + c, so its minimum over the interval
    [z_lo, -z_lo] (z_lo: the ES grid's farthest tail quantile) is at an end or
    at the vertex: an exact check, no grid.
    """
    alpha = 1.0 - confidence
    z_lo = _NORMAL.inv_cdf(0.5 / _ES_GRID * alpha)
    a = kurt / 8.0 - skew**2 / 6.0
    b = skew / 3.0
    candidates = [z_lo, -z_lo]
    if a > 0.0 and z_lo < -b / (2.0 * a) < -z_lo:
        candidates.append(-b / (2.0 * a))
    return all(float(cornish_fisher_slope(z, skew, kurt)) > 0.0 for z in candidates)


def parametric(
    returns: Returns,
    confidence: float = 0.95,
    horizon: int = 1,
    *,
    cornish_fisher: bool = False,
) -> RiskEstimate:
    """Variance-covariance VaR and ES from the sample mean and volatility.

    With `cornish_fisher`, the normal quantile is adjusted for the sample's
    skewness and excess kurtosis (modified VaR); ES then averages the adjusted
    quantile over the tail beyond the VaR, numerically. Where the expansion is
    not increasing (`cornish_fisher_valid`), the historical estimate is
    returned instead, with a warning logged and `estimator`/`note` saying so.
    """
    _check(confidence, horizon)
    values = clean_returns(returns)
    mean, std, skew, kurt = moments(values)
    alpha = 1.0 - confidence
    z = _NORMAL.inv_cdf(alpha)
    mu, sigma = mean * horizon, std * math.sqrt(horizon)
    if not cornish_fisher:
        es_z = -_NORMAL.pdf(z) / alpha
        return RiskEstimate(
            "parametric", confidence, horizon, -(mu + sigma * z), -(mu + sigma * es_z)
        )
    if not cornish_fisher_valid(skew, kurt, confidence):
        note = (
            f"Cornish-Fisher is not a quantile function at skew {skew:.2f} and excess "
            f"kurtosis {kurt:.2f} (not increasing in z); historical VaR used instead"
        )
        log.warning("%s", note)
        fallback = historical(values, confidence, horizon)
        return replace(fallback, method="cornish_fisher", estimator="historical", note=note)
    grid = (np.arange(_ES_GRID) + 0.5) / _ES_GRID * alpha
    tail_z = cornish_fisher_z(np.array([_NORMAL.inv_cdf(p) for p in grid]), skew, kurt)
    var_z = float(cornish_fisher_z(z, skew, kurt))
    return RiskEstimate(
        "cornish_fisher",
        confidence,
        horizon,
        -(mu + sigma * var_z),
        -(mu + sigma * float(np.mean(tail_z))),
    )


def monte_carlo(
    returns: Returns,
    confidence: float = 0.95,
    horizon: int = 1,
    *,
    simulations: int = 20_000,
    seed: int = 0,
    bootstrap: bool = False,
) -> RiskEstimate:
    """Monte Carlo VaR and ES from `simulations` compounded horizon-long paths.

    Each step is drawn from a normal fitted to the sample, or, with
    `bootstrap`, resampled from the sample itself (keeping its fat tails).
    The seed makes the estimate reproducible.
    """
    _check(confidence, horizon)
    values = clean_returns(returns)
    rng = np.random.default_rng(seed)
    shape = (simulations, horizon)
    if bootstrap:
        steps = rng.choice(values, size=shape, replace=True)
    else:
        mean, std, _, _ = moments(values)
        steps = rng.normal(mean, std, size=shape)
    paths = np.prod(1.0 + steps, axis=1) - 1.0
    cutoff = float(np.quantile(paths, 1.0 - confidence))
    tail = paths[paths <= cutoff]
    return RiskEstimate("monte_carlo", confidence, horizon, -cutoff, -float(tail.mean()))


def estimate(
    returns: Returns,
    method: VarMethod | str = VarMethod.HISTORICAL,
    confidence: float = 0.95,
    horizon: int = 1,
    *,
    seed: int = 0,
) -> RiskEstimate:
    """VaR and ES by the named method (the CLI and the reports call this)."""
    match VarMethod(method):
        case VarMethod.HISTORICAL:
            return historical(returns, confidence, horizon)
        case VarMethod.PARAMETRIC:
            return parametric(returns, confidence, horizon)
        case VarMethod.CORNISH_FISHER:
            return parametric(returns, confidence, horizon, cornish_fisher=True)
        case VarMethod.MONTE_CARLO:
            return monte_carlo(returns, confidence, horizon, seed=seed)


def portfolio_var(
    weights: npt.ArrayLike,
    covariance: npt.ArrayLike,
    confidence: float = 0.95,
    horizon: int = 1,
    mean: npt.ArrayLike | None = None,
) -> float:
    """Parametric (normal) VaR of a portfolio of `weights` given per-period covariance.

    Weights are fractions of equity (signed: negative is short), so the result
    is a loss fraction of equity. Without `mean`, returns are taken as
    zero-mean, the usual choice for a risk limit (a drift estimate is noise
    next to the volatility over a day).
    """
    _check(confidence, horizon)
    w = np.asarray(weights, dtype=np.float64)
    cov = np.asarray(covariance, dtype=np.float64)
    variance = max(float(w @ cov @ w), 0.0)
    drift = 0.0 if mean is None else float(w @ np.asarray(mean, dtype=np.float64))
    z = _NORMAL.inv_cdf(confidence)
    return z * math.sqrt(variance * horizon) - drift * horizon
