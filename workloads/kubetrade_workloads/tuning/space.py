"""From a search space to one trial's training config: suggest, then re-validate."""

from __future__ import annotations

from typing import Any

import optuna

from ..config.search import ParamType, SearchParam
from ..config.training import A2CParams, Algorithm, OffPolicyParams, PPOParams, TrainingConfig

_BLOCKS: dict[Algorithm, tuple[str, type[Any]]] = {
    Algorithm.PPO: ("ppo", PPOParams),
    Algorithm.A2C: ("a2c", A2CParams),
    Algorithm.SAC: ("sac", OffPolicyParams),
    Algorithm.TD3: ("td3", OffPolicyParams),
}


# A starting space per algorithm for `trading-cli optimize` without --config: the
# hyperparameters that most often matter (the RL Zoo's tuned ranges, narrowed).
DEFAULT_SPACES: dict[str, list[dict[str, Any]]] = {
    "PPO": [
        {"name": "learningRate", "low": 1e-5, "high": 3e-3, "log": True},
        {"name": "gamma", "low": 0.9, "high": 0.9999},
        {"name": "entCoef", "low": 1e-8, "high": 0.1, "log": True},
        {"name": "clipRange", "type": "categorical", "choices": [0.1, 0.2, 0.3]},
    ],
    "A2C": [
        {"name": "learningRate", "low": 1e-5, "high": 3e-3, "log": True},
        {"name": "gamma", "low": 0.9, "high": 0.9999},
        {"name": "nSteps", "type": "categorical", "choices": [5, 16, 32]},
    ],
    "SAC": [
        {"name": "learningRate", "low": 1e-5, "high": 3e-3, "log": True},
        {"name": "gamma", "low": 0.9, "high": 0.9999},
        {"name": "tau", "low": 0.001, "high": 0.05, "log": True},
    ],
}
DEFAULT_SPACES["TD3"] = DEFAULT_SPACES["SAC"]


def suggest(trial: optuna.Trial, param: SearchParam) -> float | int:
    """One value for `param` from the trial's sampler."""
    if param.type == ParamType.CATEGORICAL:
        return float(trial.suggest_categorical(param.name, list(param.choices or [])))
    low, high = float(param.low or 0.0), float(param.high or 0.0)
    if param.type == ParamType.INT:
        step = max(int(param.step or 1), 1)
        return trial.suggest_int(param.name, int(low), int(high), step=step, log=param.log)
    return trial.suggest_float(param.name, low, high, step=param.step, log=param.log)


def with_params(training: TrainingConfig, params: dict[str, Any], timesteps: int) -> TrainingConfig:
    """The run's training config with `params` (wire names) in its algorithm's block,
    `timesteps` of budget and no search: what one trial trains. The block's own
    bounds re-validate each value, so a space wider than the field fails the trial."""
    algorithm = Algorithm(training.algorithm)
    attribute, block_type = _BLOCKS[algorithm]
    block = getattr(training, attribute) or block_type()
    fields = block_type.model_fields
    values = {}
    for wire, value in params.items():
        name = next(n for n, f in fields.items() if (f.alias or n) == wire or n == wire)
        values[name] = int(value) if fields[name].annotation is int else value
    updated = block_type.model_validate(block.model_dump() | values)
    return training.model_copy(
        update={attribute: updated, "search": None, "total_timesteps": timesteps}
    )
