"""From a search space to one trial's training config: suggest, then re-validate."""

from __future__ import annotations

from typing import Any

import optuna

from ..config.base import to_camel
from ..config.search import ParamType, SearchParam
from ..config.training import (
    HYBRID_WEIGHT,
    PARAM_BLOCKS,
    Algorithm,
    HybridParams,
    TrainingConfig,
)

# A block's wire name (`cnnLstm`) -> its attribute on TrainingConfig (`cnn_lstm`).
_ATTRIBUTES = {to_camel(name): name for name in TrainingConfig.model_fields}

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
DEFAULT_SPACES["CNN_LSTM"] = [
    {"name": "learningRate", "low": 1e-4, "high": 1e-2, "log": True},
    {"name": "hiddenSize", "type": "categorical", "choices": [32, 64, 128]},
    {"name": "dropout", "low": 0.0, "high": 0.5},
]


def default_space(algorithm: str, rl_algorithm: str = "PPO") -> list[dict[str, Any]]:
    """The starting space for `algorithm`; HYBRID's joins the forecaster's, its agent's
    (both qualified by block) and the forecaster's share of the targets."""
    if algorithm != Algorithm.HYBRID:
        return DEFAULT_SPACES.get(algorithm, [])
    qualified = [
        p | {"name": f"{PARAM_BLOCKS[a][0]}.{p['name']}"}
        for a in (Algorithm.CNN_LSTM, Algorithm(rl_algorithm))
        for p in DEFAULT_SPACES[a][:2]  # learning rate and one more each
    ]
    return [*qualified, {"name": HYBRID_WEIGHT, "low": 0.1, "high": 0.7}]


def suggest(trial: optuna.Trial, param: SearchParam) -> float | int:
    """One value for `param` from the trial's sampler."""
    if param.type == ParamType.CATEGORICAL:
        return float(trial.suggest_categorical(param.name, list(param.choices or [])))
    low, high = float(param.low or 0.0), float(param.high or 0.0)
    if param.type == ParamType.INT:
        step = max(int(param.step or 1), 1)
        return trial.suggest_int(param.name, int(low), int(high), step=step, log=param.log)
    return trial.suggest_float(param.name, low, high, step=param.step, log=param.log)


def _block_of(algorithm: Algorithm, name: str) -> tuple[str, str]:
    """(block attribute, field wire name) of a space name: HYBRID's say their block."""
    block, _, field = name.rpartition(".")
    return _ATTRIBUTES[block or PARAM_BLOCKS[algorithm][0]], field


def with_params(training: TrainingConfig, params: dict[str, Any], timesteps: int) -> TrainingConfig:
    """The run's training config with `params` (space names) in their blocks,
    `timesteps` of budget and no search: what one trial trains. The block's own
    bounds re-validate each value, so a space wider than the field fails the trial."""
    algorithm = Algorithm(training.algorithm)
    grouped: dict[str, dict[str, Any]] = {}
    for name, value in params.items():
        attribute, wire = _block_of(algorithm, name)
        grouped.setdefault(attribute, {})[wire] = value
    update: dict[str, Any] = {"search": None, "total_timesteps": timesteps}
    for attribute, values in grouped.items():
        block = getattr(training, attribute)
        block_type = type(block) if block is not None else _block_type(attribute)
        fields = {to_camel(n): (n, f) for n, f in block_type.model_fields.items()}
        typed = {
            fields[w][0]: int(v) if fields[w][1].annotation is int else v for w, v in values.items()
        }
        if block_type is HybridParams and "cnn_weight" in typed:
            typed["rl_weight"] = 1.0 - typed["cnn_weight"]  # the two shares sum to 1
        base = block.model_dump() if block is not None else {}
        update[attribute] = block_type.model_validate(base | typed)
    return training.model_copy(update=update)


def _block_type(attribute: str) -> type[Any]:
    """The parameter block class a TrainingConfig attribute holds."""
    types = {_ATTRIBUTES[wire]: model for wire, model in PARAM_BLOCKS.values()}
    return types[attribute]
