"""VaR backtesting: did the losses beyond the VaR happen as often as promised?

Kupiec's proportion-of-failures (POF) test compares the number of exceptions
x in n observations with the rate p = 1 - confidence the VaR claims:

    LR = -2 ln[(1-p)^(n-x) p^x] + 2 ln[(1-x/n)^(n-x) (x/n)^x]

which is chi-squared with one degree of freedom under the null hypothesis
that the VaR is right. Its survival function has the closed form
erfc(sqrt(LR / 2)), so no statistics library is needed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .var import Returns, clean_returns


@dataclass(frozen=True)
class KupiecResult:
    """The POF test: counts, the likelihood ratio and its p-value."""

    observations: int
    exceptions: int
    expected: float
    confidence: float
    lr: float
    p_value: float
    significance: float = 0.05

    @property
    def rate(self) -> float:
        """The observed exception rate x / n."""
        return self.exceptions / self.observations

    @property
    def rejected(self) -> bool:
        """Whether the VaR model is rejected at the test's significance level."""
        return self.p_value < self.significance


def _xlogy(x: float, y: float) -> float:
    # 0 * log(0) is 0 in the likelihood (no exceptions, or only exceptions).
    return 0.0 if x == 0 else x * math.log(y)


def kupiec(
    exceptions: int, observations: int, confidence: float, significance: float = 0.05
) -> KupiecResult:
    """Kupiec's POF test for `exceptions` VaR breaches in `observations` periods."""
    if observations <= 0:
        raise ValueError("the VaR backtest needs at least one observation")
    if not 0 <= exceptions <= observations:
        raise ValueError(f"exceptions must be in [0, {observations}], got {exceptions}")
    n, x, p = observations, exceptions, 1.0 - confidence
    rate = x / n
    null = _xlogy(n - x, 1.0 - p) + _xlogy(x, p)
    alternative = _xlogy(n - x, 1.0 - rate) + _xlogy(x, rate)
    lr = max(-2.0 * (null - alternative), 0.0)
    p_value = math.erfc(math.sqrt(lr / 2.0))
    return KupiecResult(n, x, n * p, confidence, lr, p_value, significance)


def rolling_historical_var(returns: pd.Series, window: int, confidence: float) -> pd.Series:
    """Each period's VaR forecast from the `window` periods strictly before it.

    The first `window` periods have no forecast (NaN); no forecast ever sees
    the return it is tested against.
    """
    if window < 2:
        raise ValueError(f"the VaR window must be at least 2 periods, got {window}")
    values = returns.to_numpy(dtype=np.float64)
    out = np.full(values.size, np.nan)
    if values.size > window:
        # Window t covers values[t : t + window] and forecasts period t + window.
        windows = np.lib.stride_tricks.sliding_window_view(values, window)[:-1]
        out[window:] = -np.nanquantile(windows, 1.0 - confidence, axis=1)
    return pd.Series(out, index=returns.index, name="var")


def backtest(
    returns: Returns, var_forecasts: Returns, confidence: float, significance: float = 0.05
) -> KupiecResult:
    """Kupiec's test of VaR forecasts against the returns they were made for.

    An exception is a return below -VaR. Periods without a finite forecast are
    left out.
    """
    r = np.asarray(returns, dtype=np.float64).ravel()
    v = np.asarray(var_forecasts, dtype=np.float64).ravel()
    if r.shape != v.shape:
        raise ValueError(f"{r.size} returns but {v.size} VaR forecasts")
    usable = np.isfinite(r) & np.isfinite(v)
    clean_returns(r[usable])  # raises on nothing to test
    exceptions = int(np.sum(r[usable] < -v[usable]))
    return kupiec(exceptions, int(usable.sum()), confidence, significance)
