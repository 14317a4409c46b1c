"""Walk-forward validation: one backtest per fold's test window, and the spread of
their metrics across folds.

Each fold starts flat with the initial cash. The strategy may read up to its
lookback of bars before the window (so a 50-bar moving average is warm on the
first test bar), but trades and is measured only inside it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from ..market.history import History
from ..market.ports import RiskGate
from ..market.strategy import Strategy
from .dataset import Fold
from .performance import Performance
from .result import BacktestResult
from .run import EnginePath, run_backtest
from .settings import BacktestSettings

SPREAD_METRICS = tuple(
    f.name for f in fields(Performance) if f.name not in ("bars", "periods_per_year")
)


class WalkForwardError(ValueError):
    """A fold cannot be backtested; the message names it."""


@dataclass(frozen=True)
class FoldResult:
    """One fold's backtest."""

    fold: Fold
    result: BacktestResult

    def to_dict(self) -> dict[str, Any]:
        """Fold name, test window and metrics, JSON-ready."""
        return {
            "fold": self.fold.name,
            "start": self.fold.test_start.isoformat(),
            "end": self.fold.test_end.isoformat(),
            "metrics": self.result.metrics.to_dict(),
            "benchmark": self.result.benchmark.to_dict(),
        }


@dataclass(frozen=True)
class WalkForwardResult:
    """Per-fold results and, per metric, the mean/std/min/max over folds."""

    folds: tuple[FoldResult, ...]
    spread: dict[str, dict[str, float | int | None]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the per-fold table and the spread."""
        return {"folds": [f.to_dict() for f in self.folds], "spread": self.spread}


def spread(metrics: Sequence[Performance]) -> dict[str, dict[str, float | int | None]]:
    """Mean, sample std (ddof=1), min and max of each metric over the folds where it
    is defined; `folds` counts them. Undefined statistics are None."""
    out: dict[str, dict[str, float | int | None]] = {}
    for name in SPREAD_METRICS:
        values = np.array([getattr(m, name) for m in metrics], dtype=np.float64)
        defined = values[np.isfinite(values)]
        count = int(defined.size)
        out[name] = {
            "mean": float(defined.mean()) if count else None,
            "std": float(defined.std(ddof=1)) if count > 1 else None,
            "min": float(defined.min()) if count else None,
            "max": float(defined.max()) if count else None,
            "folds": count,
        }
    return out


def _window(history: History, fold: Fold) -> tuple[int, int]:
    times = history.times
    start = np.datetime64(fold.test_start.tz_convert("UTC").tz_localize(None), "ns")
    end = np.datetime64(fold.test_end.tz_convert("UTC").tz_localize(None), "ns")
    return int(np.searchsorted(times, start, "left")), int(np.searchsorted(times, end, "right"))


def walk_forward(
    history: History,
    folds: Sequence[Fold],
    strategy: Strategy | Callable[[Fold], Strategy],
    settings: BacktestSettings | None = None,
    gate: Callable[[], RiskGate] | None = None,
    *,
    path: EnginePath | str = EnginePath.AUTO,
) -> WalkForwardResult:
    """Backtest every fold's test window of `history`.

    `strategy` is one strategy for all folds or a function giving each fold its
    own (a model trained on that fold); `gate` makes a fresh risk gate per fold,
    so a halt in one fold does not leak into the next.
    """
    if not folds:
        raise WalkForwardError("the dataset has no walk-forward folds")
    settings = settings or BacktestSettings()
    results = []
    for fold in folds:
        first, stop = _window(history, fold)
        if stop <= first:
            raise WalkForwardError(
                f"{fold.name}: no bars between {fold.test_start} and {fold.test_end}"
            )
        chosen = strategy(fold) if callable(strategy) else strategy
        warm = max(first - max(chosen.lookback - 1, 0), 0) if chosen.lookback else 0
        if gate is not None:
            # A risk gate sizes and limits from the returns before the fold, as the
            # trader's from its warm-up bars: it gets them all (it keeps what it needs).
            warm = 0
        window = history.between(warm, stop)
        result = run_backtest(
            window,
            chosen,
            settings.but(start=first - warm),
            gate() if gate else None,
            path=path,
        )
        results.append(FoldResult(fold, result))
    return WalkForwardResult(tuple(results), spread([r.result.metrics for r in results]))
