"""Is the challenger's Sharpe ratio higher than the champion's, on the same bars?

The Jobson–Korkie test with Memmel's correction (Memmel 2003, "Performance
hypothesis testing with the Sharpe ratio", Finance Letters 1) on two paired
per-bar return series a (challenger) and b (champion) of n bars. With per-bar
Sharpe ratios SR_a, SR_b (sample mean over sample standard deviation, ddof=1)
and the series' sample correlation ρ:

    V = (2 (1 - ρ) + ½ (SR_a² + SR_b² - 2 SR_a SR_b ρ²)) / n
    z = (SR_a - SR_b) / √V,    p = 1 - Φ(z)

`p` is one-sided: small when the challenger's Sharpe exceeds the champion's.
Pairing matters: two strategies that hold much the same book are highly
correlated, so a small Sharpe difference between them can be significant
where the same difference between unrelated series would not be.

No verdict (None) below `MIN_BARS` paired bars or when either series has no
variance (a Sharpe ratio is undefined there). Two series whose difference has
no dispersion (identical, or the same book) give z = 0, p = 0.5: no evidence
either way. Pure: the trader reports it, the operator reads the report.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MIN_BARS = 10
"""Fewer paired bars than this give no verdict: the test is asymptotic."""
_NO_DISPERSION = 1e-12
"""n·V at or below this: the two Sharpe estimates cannot differ (the same series)."""


@dataclass(frozen=True)
class SharpeComparison:
    """Challenger against champion on the same bars; Sharpe ratios annualised."""

    bars: int
    sharpe: float
    champion_sharpe: float
    sharpe_diff: float
    z_score: float
    p_value: float


def _per_bar_sharpe(r: np.ndarray) -> float | None:
    spread = float(np.std(r, ddof=1))
    if not spread > 0 or bool(r.max() == r.min()):
        return None
    return float(np.mean(r)) / spread


def sharpe_difference(
    challenger: Sequence[float] | np.ndarray,
    champion: Sequence[float] | np.ndarray,
    periods_per_year: float = 1.0,
) -> SharpeComparison | None:
    """Jobson–Korkie–Memmel test that `challenger`'s Sharpe exceeds `champion`'s.

    The two series are per-bar simple returns on the same bars (paired by
    position). Sharpe ratios in the result are annualised by
    √`periods_per_year`; z and p do not depend on it. None: no verdict.
    """
    a = np.asarray(challenger, dtype=np.float64).reshape(-1)
    b = np.asarray(champion, dtype=np.float64).reshape(-1)
    if a.shape != b.shape:
        raise ValueError(f"paired series differ in length: {a.size} and {b.size}")
    if a.size < MIN_BARS or not (np.isfinite(a).all() and np.isfinite(b).all()):
        return None
    sr_a, sr_b = _per_bar_sharpe(a), _per_bar_sharpe(b)
    if sr_a is None or sr_b is None:
        return None
    rho = min(max(float(np.corrcoef(a, b)[0, 1]), -1.0), 1.0)
    n_var = 2.0 * (1.0 - rho) + 0.5 * (sr_a * sr_a + sr_b * sr_b - 2.0 * sr_a * sr_b * rho * rho)
    if n_var <= _NO_DISPERSION:
        z = 0.0
    else:
        z = (sr_a - sr_b) / math.sqrt(n_var / a.size)
    p = 0.5 * math.erfc(z / math.sqrt(2.0))  # 1 - Φ(z), exact in the far tail too
    scale = math.sqrt(periods_per_year)
    return SharpeComparison(
        bars=int(a.size),
        sharpe=sr_a * scale,
        champion_sharpe=sr_b * scale,
        sharpe_diff=(sr_a - sr_b) * scale,
        z_score=z,
        p_value=p,
    )
