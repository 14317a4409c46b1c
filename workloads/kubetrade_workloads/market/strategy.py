"""What a strategy is, in every mode: bars up to now in, target weights out.

A target weight is the fraction of equity a symbol should hold (negative is
short). The backtest, the paper trader and the live trader turn targets into
orders the same way; the strategy never sees a broker, so it cannot tell which
mode it runs in.

Strategies whose targets depend only on the bars (not on the portfolio) may
also offer `weight_matrix`, every bar's targets at once; the backtest then
takes its vectorised path, which gives the same result as the bar-by-bar one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from .history import FloatArray, History

Weights = FloatArray | Mapping[str, float]
"""An array aligned with `history.symbols`, or a mapping (absent symbols are flat)."""


class StrategyError(ValueError):
    """A strategy returned targets that cannot be traded; the message says why."""


class Strategy(Protocol):
    @property
    def lookback(self) -> int:
        """Bars of history the strategy reads, the current bar included (0: all)."""
        ...

    def target_weights(self, history: History, weights: FloatArray) -> Weights:
        """Targets given bars up to now and the current weights (aligned with symbols)."""
        ...


@runtime_checkable
class VectorStrategy(Strategy, Protocol):
    """A Strategy whose targets depend on the bars alone, so they can come all at once."""

    def weight_matrix(self, history: History) -> FloatArray:
        """Targets for every bar, shape [bars, symbols]; row t reads bars up to t only."""
        ...


def as_weights(raw: Weights, symbols: Sequence[str]) -> FloatArray:
    """Targets as a float array aligned with `symbols`.

    Raises StrategyError for unknown symbols, a wrong shape or non-finite values.
    """
    if isinstance(raw, Mapping):
        unknown = sorted(set(raw) - set(symbols))
        if unknown:
            raise StrategyError(f"targets for symbols not traded: {unknown}")
        out = np.array([float(raw.get(s, 0.0)) for s in symbols], dtype=np.float64)
    else:
        out = np.asarray(raw, dtype=np.float64).reshape(-1)
        if out.shape != (len(symbols),):
            raise StrategyError(f"expected {len(symbols)} target weights, got shape {out.shape}")
    if not np.isfinite(out).all():
        bad = [s for s, w in zip(symbols, out, strict=True) if not np.isfinite(w)]
        raise StrategyError(f"non-finite target weights for {bad}")
    return out
