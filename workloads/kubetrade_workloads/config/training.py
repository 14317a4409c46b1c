"""What a training workload needs: the algorithm, its typed hyperparameters,
the environment it learns in, checkpoints and stopping rules."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, model_validator

from .base import Fraction, Frozen, cel, validations
from .costs import CostConfig
from .search import Objective, Pruner, SearchConfig, param_names

LearningRate = Annotated[float, Field(gt=0.0, le=1.0)]
Gamma = Annotated[float, Field(gt=0.0, le=1.0)]


class Algorithm(StrEnum):
    PPO = "PPO"
    A2C = "A2C"
    SAC = "SAC"
    TD3 = "TD3"
    CNN_LSTM = "CNN_LSTM"
    HYBRID = "HYBRID"


class PPOParams(Frozen):
    learning_rate: LearningRate = 3e-4
    n_steps: Annotated[int, Field(ge=8, le=65536)] = 2048
    batch_size: Annotated[int, Field(ge=8, le=65536)] = 64
    n_epochs: Annotated[int, Field(ge=1, le=100)] = 10
    gamma: Gamma = 0.99
    gae_lambda: Fraction = 0.95
    clip_range: Annotated[float, Field(gt=0.0, le=1.0)] = 0.2
    ent_coef: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0


class A2CParams(Frozen):
    learning_rate: LearningRate = 7e-4
    n_steps: Annotated[int, Field(ge=1, le=65536)] = 5
    gamma: Gamma = 0.99
    gae_lambda: Fraction = 1.0
    ent_coef: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0


class OffPolicyParams(Frozen):
    """SAC and TD3 share these."""

    learning_rate: LearningRate = 3e-4
    buffer_size: Annotated[int, Field(ge=1000, le=10_000_000)] = 1_000_000
    batch_size: Annotated[int, Field(ge=8, le=65536)] = 256
    tau: Annotated[float, Field(gt=0.0, le=1.0)] = 0.005
    gamma: Gamma = 0.99
    learning_starts: Annotated[int, Field(ge=0)] = 100


class CnnLstmParams(Frozen):
    hidden_size: Annotated[int, Field(ge=4, le=4096)] = 64
    layers: Annotated[int, Field(ge=1, le=8)] = 2
    kernel_size: Annotated[int, Field(ge=1, le=64)] = 3
    dropout: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.1
    epochs: Annotated[int, Field(ge=1, le=10000)] = 50
    learning_rate: LearningRate = 1e-3
    patience: Annotated[int, Field(ge=1, le=1000)] = 5
    """Epochs without a better validation loss before stopping."""
    batch_size: Annotated[int, Field(ge=1, le=65536)] = 256
    mixed_precision: bool = True
    """Train in float16 with loss scaling on a GPU; always float32 on a CPU."""


class HybridParams(Frozen):
    """How the forecaster and the RL policy combine."""

    model_config = Frozen.model_config | {
        "json_schema_extra": validations(
            cel(
                "self.cnnWeight + self.rlWeight >= 0.999999 && self.cnnWeight + self.rlWeight <= 1.000001",
                "hybrid.cnnWeight + hybrid.rlWeight must sum to 1",
            ),
            cel(
                "!(self.rlAlgorithm in ['CNN_LSTM', 'HYBRID'])",
                "hybrid.rlAlgorithm must be an RL algorithm",
                ".rlAlgorithm",
            ),
        )
    }

    cnn_weight: Fraction = 0.3
    rl_weight: Fraction = 0.7
    rl_algorithm: Algorithm = Algorithm.PPO

    @model_validator(mode="after")
    def _weights(self) -> Self:
        if abs(self.cnn_weight + self.rl_weight - 1.0) > 1e-6:
            raise ValueError("hybrid.cnnWeight + hybrid.rlWeight must sum to 1")
        if self.rl_algorithm in (Algorithm.CNN_LSTM, Algorithm.HYBRID):
            raise ValueError("hybrid.rlAlgorithm must be an RL algorithm")
        return self


class Reward(StrEnum):
    LOG_RETURN = "log_return"
    DIFFERENTIAL_SHARPE = "differential_sharpe"
    DRAWDOWN_PENALTY = "drawdown_penalty"


class ActionSpace(StrEnum):
    CONTINUOUS = "continuous"
    DISCRETE = "discrete"


_ENV_PROCESSES_MESSAGE = (
    "environment.envProcesses must not exceed environment.numEnvs: every process steps"
    " at least one environment"
)


class EnvironmentConfig(Frozen):
    """The trading environment an agent learns in (and a policy is run as).

    Continuous actions are target weights in [-1, 1] per symbol, scaled by
    `maxPositionWeight` (negative targets mean flat unless `costs.allowShort`);
    discrete actions pick sell / hold / buy per symbol. Gross exposure never
    exceeds equity (no borrowing).
    """

    model_config = Frozen.model_config | {
        "json_schema_extra": validations(
            cel(
                "!has(self.envProcesses)"
                " || self.envProcesses <= (has(self.numEnvs) ? self.numEnvs : 1)",
                _ENV_PROCESSES_MESSAGE,
                ".envProcesses",
            )
        )
    }

    window: Annotated[int, Field(ge=1, le=1000)] = 30
    """Bars of features in each observation, the current bar included."""
    action_space: ActionSpace = ActionSpace.CONTINUOUS
    reward: Reward = Reward.LOG_RETURN
    initial_cash: Annotated[float, Field(gt=0.0)] = 100_000.0
    max_position_weight: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0
    costs: CostConfig = CostConfig()
    episode_length: Annotated[int, Field(ge=1, le=10_000_000)] | None = None
    """Steps per episode, from a random start; the whole split when unset."""
    num_envs: Annotated[int, Field(ge=1, le=1024)] = 1
    """Environments stepped together in one batched (numpy) VecEnv."""
    env_processes: Annotated[int, Field(ge=0, le=1024)] = 1
    """Worker processes the environments are split across, each stepping its share as one
    batch, at most `numEnvs`; 0 means one per CPU the pod may use (its CPU limit). With 1
    they step in the trainer's own process. The same seed gives the same numbers either way."""
    sharpe_eta: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.01
    """Adaptation rate of the differential Sharpe reward's moving moments."""
    drawdown_weight: Annotated[float, Field(ge=0.0, le=1000.0)] = 1.0
    """With the drawdown_penalty reward: cost per unit of new drawdown."""

    @model_validator(mode="after")
    def _processes(self) -> Self:
        if self.env_processes > self.num_envs:
            raise ValueError(_ENV_PROCESSES_MESSAGE)
        return self


class Device(StrEnum):
    AUTO = "auto"
    CPU = "cpu"
    CUDA = "cuda"


# Which hyperparameter block each algorithm may carry; HYBRID takes its RL
# block and the forecaster's.
_PARAM_OWNERS: dict[str, tuple[str, ...]] = {
    "ppo": ("PPO", "HYBRID"),
    "a2c": ("A2C", "HYBRID"),
    "sac": ("SAC", "HYBRID"),
    "td3": ("TD3", "HYBRID"),
    "cnnLstm": ("CNN_LSTM", "HYBRID"),
    "hybrid": ("HYBRID",),
}


# SAC and TD3 act in continuous spaces only; the rule also covers HYBRID's RL part.
_CONTINUOUS_ONLY = (Algorithm.SAC, Algorithm.TD3)
_CONTINUOUS_RULE = (
    "!has(self.environment) || !has(self.environment.actionSpace)"
    " || self.environment.actionSpace == 'continuous'"
    " || !(self.algorithm in ['SAC', 'TD3']"
    " || (self.algorithm == 'HYBRID' && has(self.hybrid) && has(self.hybrid.rlAlgorithm)"
    " && self.hybrid.rlAlgorithm in ['SAC', 'TD3']))"
)
_CONTINUOUS_MESSAGE = "SAC and TD3 need environment.actionSpace continuous"


# The block a search varies for each algorithm, by its wire name. HYBRID varies
# the forecaster's, its agent's and `hybrid.cnnWeight`, each name qualified.
PARAM_BLOCKS: dict[Algorithm, tuple[str, type[Frozen]]] = {
    Algorithm.PPO: ("ppo", PPOParams),
    Algorithm.A2C: ("a2c", A2CParams),
    Algorithm.SAC: ("sac", OffPolicyParams),
    Algorithm.TD3: ("td3", OffPolicyParams),
    Algorithm.CNN_LSTM: ("cnnLstm", CnnLstmParams),
}
RL_ALGORITHMS = (Algorithm.PPO, Algorithm.A2C, Algorithm.SAC, Algorithm.TD3)
HYBRID_WEIGHT = "hybrid.cnnWeight"
"""HYBRID's searchable share; `rlWeight` follows it, as the two sum to 1."""


def search_names(
    algorithm: Algorithm | str, rl_algorithm: Algorithm | str = Algorithm.PPO
) -> tuple[str, ...]:
    """The hyperparameters a search may vary for `algorithm`. HYBRID's (its agent
    being `rl_algorithm`) carry their block: `cnnLstm.hiddenSize`, `ppo.gamma`, ..."""
    if Algorithm(algorithm) != Algorithm.HYBRID:
        return param_names(PARAM_BLOCKS[Algorithm(algorithm)][1])
    parts = (PARAM_BLOCKS[Algorithm.CNN_LSTM], PARAM_BLOCKS[Algorithm(rl_algorithm)])
    qualified = (f"{block}.{name}" for block, model in parts for name in param_names(model))
    return (*qualified, HYBRID_WEIGHT)


def _search_rule(algorithm: Algorithm, rl_algorithm: Algorithm | None = None) -> dict[str, str]:
    names = search_names(algorithm, rl_algorithm or Algorithm.PPO)
    allowed = ", ".join(f"'{n}'" for n in names)
    applies, owner = f"self.algorithm == '{algorithm}'", str(algorithm)
    if rl_algorithm is not None:
        agent = "(has(self.hybrid.rlAlgorithm) ? self.hybrid.rlAlgorithm : 'PPO')"
        applies += f" && has(self.hybrid) && {agent} == '{rl_algorithm}'"
        owner += f" (rlAlgorithm {rl_algorithm})"
    return cel(
        f"!has(self.search) || !({applies}) || self.search.space.all(p, p.name in [{allowed}])",
        f"search.space may only name {owner} hyperparameters: {', '.join(names)}",
        ".search.space",
    )


_SEARCH_RULES = (
    *(_search_rule(a) for a in (*RL_ALGORITHMS, Algorithm.CNN_LSTM)),
    *(_search_rule(Algorithm.HYBRID, rl) for rl in RL_ALGORITHMS),
    cel(
        "!has(self.search) || self.algorithm == 'CNN_LSTM'"
        " || self.search.objective != 'validationLoss'",
        "objective validationLoss is the CNN_LSTM forecaster's; an agent is scored by"
        " validationSharpe, validationTotalReturn or validationMaxDrawdown",
        ".search.objective",
    ),
    cel(
        "!has(self.search) || self.algorithm != 'CNN_LSTM' || self.search.pruner == 'none'"
        " || self.search.objective == 'validationLoss'",
        "a CNN_LSTM trial reports its validation loss each epoch: pruning needs objective"
        " validationLoss, or pruner none",
        ".search.pruner",
    ),
    cel(
        "!has(self.search) || self.algorithm != 'CNN_LSTM' || !has(self.search.trialTimesteps)",
        "a CNN_LSTM trial trains cnnLstm.epochs; search.trialTimesteps does not apply",
        ".search.trialTimesteps",
    ),
)


def _param_rule(block: str, owners: tuple[str, ...]) -> dict[str, str]:
    allowed = ", ".join(f"'{a}'" for a in owners)
    return cel(
        f"!has(self.{block}) || self.algorithm in [{allowed}]",
        f"{block} may only be set when algorithm is one of {', '.join(owners)}",
        f".{block}",
    )


TRAINING_RULES = (
    *(_param_rule(block, owners) for block, owners in _PARAM_OWNERS.items()),
    cel(
        "self.algorithm != 'HYBRID' || has(self.hybrid)",
        "hybrid is required when algorithm is HYBRID",
        ".hybrid",
    ),
    cel(_CONTINUOUS_RULE, _CONTINUOUS_MESSAGE, ".environment.actionSpace"),
    *_SEARCH_RULES,
)
"""TrainingConfig's cross-field CEL rules (a spec that embeds it adds its own)."""


class TrainingConfig(Frozen):
    """Everything the training workload needs for one run."""

    model_config = Frozen.model_config | {"json_schema_extra": validations(*TRAINING_RULES)}

    algorithm: Algorithm = Algorithm.PPO
    total_timesteps: Annotated[int, Field(ge=1, le=10_000_000_000)] = 100_000
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0
    device: Device = Device.AUTO
    ppo: PPOParams | None = None
    a2c: A2CParams | None = None
    sac: OffPolicyParams | None = None
    td3: OffPolicyParams | None = None
    cnn_lstm: CnnLstmParams | None = None
    hybrid: HybridParams | None = None
    environment: EnvironmentConfig = EnvironmentConfig()
    checkpoint_every: Annotated[int, Field(ge=1)] = 10_000
    """Steps between checkpoints."""
    early_stopping_patience: Annotated[int, Field(ge=1, le=1000)] | None = None
    """Evaluations without a better validation Sharpe before stopping."""
    eval_every: Annotated[int, Field(ge=1)] | None = None
    """Steps between validation evaluations; `checkpointEvery` when unset."""
    save_best: bool = False
    """Publish the policy with the best validation Sharpe rather than the last one."""
    search: SearchConfig | None = None
    """Tune the algorithm's hyperparameters: trials in worker pods, the best one published."""

    @model_validator(mode="after")
    def _algorithm_params(self) -> Self:
        for block, owners in _PARAM_OWNERS.items():
            set_here = getattr(self, "cnn_lstm" if block == "cnnLstm" else block) is not None
            if set_here and self.algorithm not in owners:
                raise ValueError(
                    f"{block} may only be set when algorithm is one of {', '.join(owners)}"
                )
        if self.algorithm == Algorithm.HYBRID and self.hybrid is None:
            raise ValueError("hybrid is required when algorithm is HYBRID")
        if (
            self.rl_algorithm in _CONTINUOUS_ONLY
            and self.environment.action_space != ActionSpace.CONTINUOUS
        ):
            raise ValueError(_CONTINUOUS_MESSAGE)
        if self.search is not None:
            self._check_search(self.search)
        return self

    def _check_search(self, search: SearchConfig) -> None:
        """The Python side of `_SEARCH_RULES`."""
        agent = self.hybrid.rl_algorithm if self.hybrid else Algorithm.PPO
        names = search_names(self.algorithm, agent)
        unknown = [p.name for p in search.space if p.name not in names]
        if unknown:
            owner = f"{self.algorithm} (rlAlgorithm {agent})" if self.hybrid else self.algorithm
            raise ValueError(
                f"search.space may only name {owner} hyperparameters:"
                f" {', '.join(names)} (not {', '.join(unknown)})"
            )
        forecaster = self.algorithm == Algorithm.CNN_LSTM
        if search.objective == Objective.VALIDATION_LOSS and not forecaster:
            raise ValueError("objective validationLoss is the CNN_LSTM forecaster's")
        if forecaster and search.pruner != Pruner.NONE:
            if search.objective != Objective.VALIDATION_LOSS:
                raise ValueError(
                    "a CNN_LSTM trial reports its validation loss each epoch: pruning needs"
                    " objective validationLoss, or pruner none"
                )
        if forecaster and search.trial_timesteps is not None:
            raise ValueError(
                "a CNN_LSTM trial trains cnnLstm.epochs; search.trialTimesteps does not apply"
            )

    @property
    def rl_algorithm(self) -> Algorithm | None:
        """The stable-baselines3 algorithm this run trains (HYBRID's RL part), if any."""
        if self.algorithm == Algorithm.HYBRID:
            return Algorithm(self.hybrid.rl_algorithm) if self.hybrid else None
        if self.algorithm == Algorithm.CNN_LSTM:
            return None
        return Algorithm(self.algorithm)
