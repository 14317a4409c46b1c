"""What a model evaluation needs: the benchmark, the costs and the promotion gates."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, model_validator

from .base import Frozen, cel, validations
from .costs import CostConfig


class Benchmark(StrEnum):
    BUY_AND_HOLD = "buy_and_hold"
    EQUAL_WEIGHT = "equal_weight"


class Gates(Frozen):
    """Promotion gates: a model failing any of them ends Rejected."""

    min_sharpe: Annotated[float, Field(ge=-10.0, le=20.0)] | None = None
    max_drawdown: Annotated[float, Field(gt=0.0, le=1.0)] | None = None
    must_beat_benchmark: bool = False
    """Total return above the benchmark's over the test window."""
    min_test_bars: Annotated[int, Field(ge=1, le=10_000_000)] | None = None
    """Fewest bars the test window may have: a short window proves little."""
    min_probabilistic_sharpe: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    """Minimum Probabilistic Sharpe Ratio against 0 (Bailey & López de Prado): the
    probability that the true Sharpe is positive, from the test window's length,
    skewness and kurtosis. 0.95 rejects a lucky short window."""
    min_deflated_sharpe: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    """Minimum Deflated Sharpe Ratio (Bailey & López de Prado 2014) of a model that won a
    hyperparameter search: the PSR against the Sharpe the best of that many trials
    reaches by luck, on the test window no trial saw. A model from one run is judged
    as one trial (its PSR against 0)."""
    min_fold_sharpe: Annotated[float, Field(ge=-10.0, le=20.0)] | None = None
    """Minimum mean Sharpe over the walk-forward folds. Judged only on out-of-sample
    folds (`retrainFolds`): in-sample fold metrics would promote an overfit model."""


class FoldSample(StrEnum):
    """Whether the model scored on a fold's test window had seen it in training."""

    IN_SAMPLE = "in-sample"
    OUT_OF_SAMPLE = "out-of-sample"


class FoldRetraining(Frozen):
    """A small budget to train a fresh model per walk-forward fold, with the
    published model's algorithm and hyperparameters, on the fold's train block only."""

    total_timesteps: Annotated[int, Field(ge=1, le=10_000_000)] = 10_000
    """Agent steps per fold (PPO, A2C, SAC, TD3, HYBRID's agent)."""
    epochs: Annotated[int, Field(ge=1, le=1000)] = 5
    """Forecaster epochs per fold (CNN_LSTM, HYBRID)."""


_RETRAIN_NEEDS_FOLDS = "retrainFolds needs walkForward"
_FOLD_GATE_NEEDS_RETRAIN = (
    "gates.minFoldSharpe needs retrainFolds: without it fold metrics are in-sample"
)


class EvaluationConfig(Frozen):
    model_config = Frozen.model_config | {
        "json_schema_extra": validations(
            cel("!has(self.retrainFolds) || self.walkForward", _RETRAIN_NEEDS_FOLDS),
            cel(
                "!has(self.gates) || !has(self.gates.minFoldSharpe) || has(self.retrainFolds)",
                _FOLD_GATE_NEEDS_RETRAIN,
            ),
        )
    }

    benchmark: Benchmark = Benchmark.BUY_AND_HOLD
    costs: CostConfig = CostConfig()
    gates: Gates = Gates()
    walk_forward: bool = True
    """Also backtest each walk-forward fold when the dataset has folds."""
    retrain_folds: FoldRetraining | None = None
    """Train a fresh model per fold on the fold's train block and score it on the
    fold's test block (out-of-sample). Unset: the folds are scored with the published
    model, which saw them in training, and the metrics are labelled in-sample."""

    @model_validator(mode="after")
    def _folds(self) -> Self:
        if self.retrain_folds is not None and not self.walk_forward:
            raise ValueError(_RETRAIN_NEEDS_FOLDS)
        if self.gates.min_fold_sharpe is not None and self.retrain_folds is None:
            raise ValueError(_FOLD_GATE_NEEDS_RETRAIN)
        return self
