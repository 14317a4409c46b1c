"""What a model evaluation needs: the benchmark, the costs and the promotion gates."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from .base import Frozen
from .costs import CostConfig


class Benchmark(StrEnum):
    BUY_AND_HOLD = "buy_and_hold"
    EQUAL_WEIGHT = "equal_weight"


class Gates(Frozen):
    """Promotion gates: a model failing any of them ends Rejected."""

    min_sharpe: Annotated[float, Field(ge=-10.0, le=20.0)] | None = None
    max_drawdown: Annotated[float, Field(gt=0.0, le=1.0)] | None = None
    must_beat_benchmark: bool = False


class EvaluationConfig(Frozen):
    benchmark: Benchmark = Benchmark.BUY_AND_HOLD
    costs: CostConfig = CostConfig()
    gates: Gates = Gates()
    walk_forward: bool = True
    """Also backtest each walk-forward fold when the dataset has folds."""
