"""One entry point for a backtest: checks the inputs and picks the engine path."""

from __future__ import annotations

from enum import StrEnum

import numpy as np

from ..market.history import History
from ..market.ports import RiskGate
from ..market.strategy import Strategy, VectorStrategy
from .engine import run_events
from .result import BacktestResult
from .settings import BacktestSettings
from .vectorized import run_vectorized


class EnginePath(StrEnum):
    AUTO = "auto"
    VECTORIZED = "vectorized"
    EVENT = "event"


class BacktestError(ValueError):
    """Inputs a backtest cannot run on; the message names the problem."""


def check_inputs(history: History, settings: BacktestSettings) -> None:
    """Raise BacktestError for too few bars or prices a fill could not use."""
    if settings.start >= len(history):
        raise BacktestError(
            f"nothing to trade: the first traded bar ({settings.start}) is beyond "
            f"the {len(history)} bars"
        )
    for field in ("open", "close"):
        prices = getattr(history, field)
        bad = history.tradeable & ~(prices > 0)
        if bad.any():
            bar, col = (int(x[0]) for x in np.nonzero(bad))
            raise BacktestError(
                f"{history.symbols[col]} has a non-positive or missing {field} price "
                f"at {history.times[bar]}"
            )


def run_backtest(
    history: History,
    strategy: Strategy,
    settings: BacktestSettings | None = None,
    gate: RiskGate | None = None,
    *,
    path: EnginePath | str = EnginePath.AUTO,
) -> BacktestResult:
    """Backtest `strategy` on `history`.

    `auto` takes the vectorised path when the strategy offers `weight_matrix`
    and neither a risk gate nor a volume cap needs the bar-by-bar engine; the
    two paths give the same result where both apply.
    """
    settings = settings or BacktestSettings()
    check_inputs(history, settings)
    choice = EnginePath(path)
    plain = gate is None and settings.max_participation is None
    if choice != EnginePath.EVENT and plain and isinstance(strategy, VectorStrategy):
        return run_vectorized(history, strategy, settings)
    if choice == EnginePath.VECTORIZED:
        raise BacktestError(
            "the vectorised path needs a strategy with weight_matrix, no risk gate and no volume cap"
        )
    return run_events(history, strategy, settings, gate)
