"""How a backtest runs: capital, costs, fill timing, rebalancing and the benchmark."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from ..config.evaluation import Benchmark, EvaluationConfig
from ..market.costs import CostModel
from ..market.sim_broker import FillTiming


class RebalanceMode(StrEnum):
    ON_CHANGE = "on-change"
    """Trade a symbol when its target weight changes (signal strategies)."""
    PERIODIC = "periodic"
    """Trade every symbol back to its target every `every` bars."""
    THRESHOLD = "threshold"
    """Trade a symbol when its weight drifts more than `threshold` from the target."""


@dataclass(frozen=True)
class Rebalance:
    """When targets become orders."""

    mode: RebalanceMode = RebalanceMode.ON_CHANGE
    every: int = 1
    threshold: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "mode", RebalanceMode(self.mode))
        if self.every < 1:
            raise ValueError(f"rebalance.every must be >= 1, got {self.every}")
        if not 0 <= self.threshold < math.inf:
            raise ValueError(f"rebalance.threshold must be >= 0, got {self.threshold}")


@dataclass(frozen=True)
class BacktestSettings:
    """Everything besides the bars and the strategy."""

    initial_cash: float = 100_000.0
    costs: CostModel = field(default_factory=CostModel)
    timing: FillTiming = FillTiming.NEXT_OPEN
    rebalance: Rebalance = field(default_factory=Rebalance)
    benchmark: Benchmark = Benchmark.BUY_AND_HOLD
    periods_per_year: float = 252.0
    max_participation: float | None = None
    """Share of a bar's volume an order may take; the rest fills on later bars."""
    start: int = 0
    """First bar traded and measured; earlier bars are only history for the strategy."""
    session: str = "backtest"
    """Namespace of the client order ids."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "timing", FillTiming(self.timing))
        object.__setattr__(self, "benchmark", Benchmark(self.benchmark))
        if not 0 < self.initial_cash < math.inf:
            raise ValueError(f"initial_cash must be positive, got {self.initial_cash}")
        if not 0 < self.periods_per_year < math.inf:
            raise ValueError(f"periods_per_year must be positive, got {self.periods_per_year}")
        if self.max_participation is not None and not 0 < self.max_participation <= 1:
            raise ValueError(f"max_participation must be in (0, 1], got {self.max_participation}")
        if self.start < 0:
            raise ValueError(f"start must be >= 0, got {self.start}")

    @classmethod
    def from_evaluation(cls, config: EvaluationConfig, **overrides: Any) -> BacktestSettings:
        """Settings for a Model evaluation: its costs and benchmark, plus `overrides`."""
        base = cls(costs=CostModel.from_config(config.costs), benchmark=Benchmark(config.benchmark))
        return replace(base, **overrides)

    def but(self, **changes: Any) -> BacktestSettings:
        """A copy with some fields changed."""
        return replace(self, **changes)
