"""A hyperparameter search over one TrainingRun's algorithm: sampler, pruner,
objective, the space of real hyperparameters, and how many trials run at once.

Space entries name the algorithm's own hyperparameters in their wire spelling
(`learningRate`, `nSteps`, ...); HYBRID's name their block too
(`cnnLstm.hiddenSize`, `ppo.learningRate`, `hybrid.cnnWeight`), as its forecaster
and agent share names. The names allowed per algorithm come from the typed
parameter blocks in `training.py`, so a field renamed there moves here.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, Field, model_validator

from .base import Frozen, ObjectName, cel, to_camel, validations


class Sampler(StrEnum):
    TPE = "tpe"
    CMAES = "cmaes"
    RANDOM = "random"
    GRID = "grid"


class Pruner(StrEnum):
    NONE = "none"
    MEDIAN = "median"
    HYPERBAND = "hyperband"
    SUCCESSIVE_HALVING = "successive_halving"


class Direction(StrEnum):
    MAXIMIZE = "maximize"
    MINIMIZE = "minimize"


class Objective(StrEnum):
    """Validation scores a trial ends with (training/validation.py's `score`)."""

    VALIDATION_SHARPE = "validationSharpe"
    VALIDATION_TOTAL_RETURN = "validationTotalReturn"
    VALIDATION_MAX_DRAWDOWN = "validationMaxDrawdown"
    VALIDATION_LOSS = "validationLoss"
    """The CNN-LSTM forecaster's best validation loss (CNN_LSTM only; minimise)."""


# What a pruner can hear during a trial: the validation Sharpe at each evaluation
# of an agent, the validation loss after each forecaster epoch.
PRUNABLE = (Objective.VALIDATION_SHARPE, Objective.VALIDATION_LOSS)


class ParamType(StrEnum):
    FLOAT = "float"
    INT = "int"
    CATEGORICAL = "categorical"


def param_names(block: type[BaseModel]) -> tuple[str, ...]:
    """The wire names of a parameter block's numeric fields (booleans are not searched)."""
    return tuple(
        to_camel(name) for name, field in block.model_fields.items() if field.annotation is not bool
    )


class SearchParam(Frozen):
    """One dimension of the space: a float or int range (optionally log-scaled) or a list."""

    model_config = Frozen.model_config | {
        "json_schema_extra": validations(
            cel(
                "self.type == 'categorical' || (has(self.low) && has(self.high) && self.low < self.high)",
                "a float or int search range needs low < high",
                ".low",
            ),
            cel(
                "self.type != 'categorical' || (has(self.choices) && size(self.choices) > 0)",
                "a categorical search parameter needs choices",
                ".choices",
            ),
            cel(
                "!has(self.log) || !self.log || (has(self.low) && self.low > 0.0)",
                "a log-scaled search range needs low > 0",
                ".low",
            ),
        )
    }

    name: Annotated[
        str,
        Field(
            min_length=1,
            max_length=64,
            pattern=r"^([a-zA-Z][a-zA-Z0-9]*\.)?[a-zA-Z][a-zA-Z0-9]*$",
        ),
    ]
    """A hyperparameter of the run's algorithm, spelled as in its block (`learningRate`);
    HYBRID's name the block too (`cnnLstm.hiddenSize`, `ppo.learningRate`)."""
    type: ParamType = ParamType.FLOAT
    low: float | None = None
    high: float | None = None
    log: bool = False
    """Sample uniformly in log space (learning rates)."""
    step: Annotated[float, Field(gt=0.0)] | None = None
    choices: Annotated[list[float], Field(max_length=64)] | None = None

    @model_validator(mode="after")
    def _range(self) -> Self:
        if self.type == ParamType.CATEGORICAL:
            if not self.choices:
                raise ValueError("a categorical search parameter needs choices")
        elif self.low is None or self.high is None or not self.low < self.high:
            raise ValueError("a float or int search range needs low < high")
        if self.log and not (self.low is not None and self.low > 0):
            raise ValueError("a log-scaled search range needs low > 0")
        return self


class StorageRef(Frozen):
    """A Secret whose key `url` holds an SQLAlchemy database URL (postgresql+psycopg://...)."""

    name: ObjectName


class SearchConfig(Frozen):
    """Run the training as a study of trials and publish the best trial's policy."""

    model_config = Frozen.model_config | {
        "json_schema_extra": validations(
            cel(
                "self.pruner == 'none' || self.objective in ['validationSharpe', 'validationLoss']",
                "a pruner is fed the validation Sharpe (a forecaster's: its validation loss),"
                " so it needs objective validationSharpe or validationLoss",
                ".pruner",
            ),
            cel(
                "self.objective != 'validationSharpe' || self.direction == 'maximize'"
                " || self.pruner == 'none'",
                "pruning on the validation Sharpe needs direction maximize",
                ".direction",
            ),
            cel(
                "self.objective != 'validationLoss' || self.direction == 'minimize'",
                "objective validationLoss needs direction minimize",
                ".direction",
            ),
            cel(
                "self.sampler != 'grid' || self.space.all(p, p.type == 'categorical')",
                "the grid sampler needs categorical search parameters",
                ".sampler",
            ),
            cel(
                "self.space.all(p, self.space.exists_one(q, q.name == p.name))",
                "search.space names a hyperparameter twice",
                ".space",
            ),
        )
    }

    sampler: Sampler = Sampler.TPE
    pruner: Pruner = Pruner.MEDIAN
    objective: Objective = Objective.VALIDATION_SHARPE
    direction: Direction = Direction.MAXIMIZE
    space: Annotated[list[SearchParam], Field(min_length=1, max_length=32)]
    max_trials: Annotated[int, Field(ge=1, le=10_000)] = 20
    parallelism: Annotated[int, Field(ge=1, le=256)] = 1
    """Worker pods pulling trials from the one study at once."""
    trial_timesteps: Annotated[int, Field(ge=1, le=10_000_000_000)] | None = None
    """Each trial's training budget; the run's `totalTimesteps` when unset."""
    trial_timeout_seconds: Annotated[int, Field(ge=1, le=604_800)] | None = None
    """A trial still training after this many seconds of wall clock is failed (checked at
    every environment step, and before every forecaster batch)."""
    storage_secret_ref: StorageRef | None = None
    """Postgres for the study; a journal file beside the run's artifacts when unset."""
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = None
    """The sampler's seed (each worker adds its index)."""

    @model_validator(mode="after")
    def _rules(self) -> Self:
        if self.pruner != Pruner.NONE and self.objective not in PRUNABLE:
            raise ValueError(
                "a pruner is fed the validation Sharpe (a forecaster's: its validation loss),"
                " so it needs objective validationSharpe or validationLoss"
            )
        if self.pruner != Pruner.NONE and self.objective == Objective.VALIDATION_SHARPE:
            if self.direction != Direction.MAXIMIZE:
                raise ValueError("pruning on the validation Sharpe needs direction maximize")
        if self.objective == Objective.VALIDATION_LOSS and self.direction != Direction.MINIMIZE:
            raise ValueError("objective validationLoss needs direction minimize")
        if self.sampler == Sampler.GRID and any(
            p.type != ParamType.CATEGORICAL for p in self.space
        ):
            raise ValueError("the grid sampler needs categorical search parameters")
        names = [p.name for p in self.space]
        if len(set(names)) != len(names):
            raise ValueError("search.space names a hyperparameter twice")
        return self
