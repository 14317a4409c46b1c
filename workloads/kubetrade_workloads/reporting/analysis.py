"""Everything a report shows, computed once: performance (from
`backtest.performance`), VaR and ES by every method with a Kupiec backtest,
and stress tests.

A return series says nothing about the positions behind it, so the
synthetic shocks treat the strategy as one asset whose exposure to the
market is its beta to the benchmark (1 without a benchmark): a 10% gap costs
beta x 10%, and tripled volatility triples the VaR. With a portfolio's
weights and covariance, `risk.stress.scenarios` does the full version.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from ..backtest.performance import Performance, summarize
from ..risk import stress, var, var_backtest
from ..risk.stress import ScenarioResult, StressWindow
from ..risk.var import RiskEstimate
from ..risk.var_backtest import KupiecResult
from .inputs import ReportData

_MIN_KUPIEC = 40


@dataclass(frozen=True)
class RiskSection:
    confidence: float
    horizon: int
    estimates: list[RiskEstimate]
    kupiec: KupiecResult | None
    """Rolling historical VaR over `var_window` bars, tested out of sample."""
    var_window: int


@dataclass(frozen=True)
class StressSection:
    window: int
    """Bars per historical stress window."""
    windows: list[StressWindow]
    exposure: float
    """Market exposure the synthetic shocks assume (beta, or 1)."""
    scenarios: list[ScenarioResult]


@dataclass(frozen=True)
class Analysis:
    performance: Performance
    benchmark: Performance | None
    risk: RiskSection
    stress: StressSection

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN becomes None)."""
        out: dict[str, Any] = _clean(asdict(self))
        return out


def analyze(
    data: ReportData,
    *,
    confidence: float = 0.95,
    horizon: int = 1,
    var_window: int | None = None,
    stress_window: int | None = None,
    seed: int = 0,
) -> Analysis:
    """Performance, risk and stress results of one return series."""
    r = data.returns.dropna()
    ppy = data.periods_per_year
    bench = data.benchmark.reindex(r.index) if data.benchmark is not None else None
    performance = _given(data.metrics) or summarize(
        r.to_numpy(), ppy, benchmark=None if bench is None else bench.to_numpy()
    )
    bench_perf = None
    if bench is not None:
        bench_perf = _given(data.benchmark_metrics) or summarize(bench.dropna().to_numpy(), ppy)
    return Analysis(
        performance,
        bench_perf,
        _risk(r.to_numpy(), confidence, horizon, var_window, seed),
        _stress(data, performance, confidence, stress_window),
    )


def _risk(
    r: np.ndarray, confidence: float, horizon: int, window: int | None, seed: int
) -> RiskSection:
    estimates = [var.estimate(r, m, confidence, horizon, seed=seed) for m in var.VarMethod]
    window = window or min(250, len(r) // 2)
    kupiec = None
    if len(r) >= _MIN_KUPIEC and 2 <= window < len(r):
        series = pd.Series(r)
        forecasts = var_backtest.rolling_historical_var(series, window, confidence)
        kupiec = var_backtest.backtest(series, forecasts, confidence)
    return RiskSection(confidence, horizon, estimates, kupiec, window)


def _stress(
    data: ReportData, performance: Performance, confidence: float, window: int | None
) -> StressSection:
    window = window or max(1, round(data.periods_per_year / 52))  # about a week
    windows = stress.worst_windows(data.returns, window, count=5)
    exposure = performance.beta if math.isfinite(performance.beta) else 1.0
    variance = float(np.nanvar(data.returns.to_numpy(), ddof=1)) if len(data.returns) > 1 else 0.0
    # The strategy as one asset of weight 1 and its own variance; a market gap
    # reaches it through its beta. One asset has no correlations to shock.
    base = var.portfolio_var([1.0], [[variance]], confidence)
    gap = ScenarioResult(
        "gap",
        f"the market gaps -10% at the open (exposure {exposure:.2f})",
        0.10 * exposure,
        base,
        base,
    )
    shocks = stress.scenarios([1.0], [[variance]], confidence=confidence)
    return StressSection(window, windows, exposure, [gap, shocks[1]])


def _given(metrics: dict[str, Any] | None) -> Performance | None:
    """The engine's metrics as a Performance; None if absent or of another shape."""
    if not metrics:
        return None
    wanted = {f.name for f in fields(Performance)}
    if set(metrics) - {"kind"} != wanted:
        return None  # a newer or older engine: recompute rather than guess
    values: dict[str, Any] = {k: math.nan if metrics[k] is None else metrics[k] for k in wanted}
    return Performance(**values)


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
