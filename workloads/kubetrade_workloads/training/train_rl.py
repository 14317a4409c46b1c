"""Train a stable-baselines3 agent (PPO, A2C, SAC or TD3) on a dataset, top to bottom.

    python -m kubetrade_workloads train --config job.json      # a TrainJob
    trading-cli train --algorithm PPO --timesteps 100000 --dataset DIR --out DIR

1. Read the dataset; fit the feature scaling on its train split.
2. Build the batched training environment (and a validation one).
3. Build the agent from the typed hyperparameters, or load the checkpoint to resume.
4. Learn, with one callback for progress, checkpoints and early stopping on validation Sharpe.
5. Publish the policy and its model card.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from stable_baselines3 import A2C, PPO, SAC, TD3
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.noise import NormalActionNoise
from stable_baselines3.common.vec_env import VecEnv, VecMonitor

from ..config.jobs import TrainJob
from ..config.training import A2CParams, Algorithm, OffPolicyParams, PPOParams, TrainingConfig
from ..envs.arrays import MarketArrays
from ..envs.processes import make_vec_env
from ..envs.trading_env import TradingEnv
from . import artifacts, device, splits, validation
from .callbacks import BEST_FILE, POLICY_FILE, RunCallback, policy_bytes
from .checkpoints import CheckpointError, CheckpointStore, resume_point
from .progress import Progress, ProgressReporter

log = logging.getLogger(__name__)

ALGORITHMS: dict[Algorithm, type[BaseAlgorithm]] = {
    Algorithm.PPO: PPO,
    Algorithm.A2C: A2C,
    Algorithm.SAC: SAC,
    Algorithm.TD3: TD3,
}
TD3_NOISE = 0.1
"""Std of TD3's Gaussian exploration noise, in action units (SB3's examples use 0.1)."""


def hyperparameters(config: TrainingConfig, algorithm: Algorithm) -> dict[str, Any]:
    """The algorithm's typed hyperparameters as stable-baselines3 keyword arguments."""
    blocks = {
        Algorithm.PPO: config.ppo or PPOParams(),
        Algorithm.A2C: config.a2c or A2CParams(),
        Algorithm.SAC: config.sac or OffPolicyParams(),
        Algorithm.TD3: config.td3 or OffPolicyParams(),
    }
    return blocks[algorithm].model_dump()


def make_agent(
    algorithm: Algorithm, env: VecEnv, config: TrainingConfig, on: torch.device, tensorboard: str
) -> BaseAlgorithm:
    """A fresh agent with an MLP policy, seeded from the config."""
    kwargs = hyperparameters(config, algorithm)
    if algorithm == Algorithm.TD3:
        n = env.action_space.shape[0] if env.action_space.shape else 1
        kwargs["action_noise"] = NormalActionNoise(np.zeros(n), TD3_NOISE * np.ones(n))
    agent_class = ALGORITHMS[algorithm]
    return agent_class(
        "MlpPolicy",
        env,
        seed=config.seed,
        device=on,
        tensorboard_log=tensorboard,
        verbose=0,
        **kwargs,
    )


def validator(
    data: MarketArrays, job: TrainJob, periods_per_year: float, cnn_weight: float
) -> Callable[[BaseAlgorithm], float]:
    """A function scoring an agent's deterministic policy by its Sharpe on `data`."""
    whole = job.training.environment.model_copy(update={"episode_length": None})
    env = TradingEnv(data, whole, cnn_weight=cnn_weight)

    def validate(model: BaseAlgorithm) -> float:
        equity = validation.run_episode(env, lambda obs: model.predict(obs, deterministic=True)[0])
        return validation.score(equity, periods_per_year)["sharpe"]

    return validate


@dataclass(frozen=True)
class AgentResult:
    """What `learn` hands back: the policy to publish and how the run went."""

    policy: bytes
    steps: int
    metrics: dict[str, float]
    checkpoint_uri: str | None
    stopped_early: bool


def learn(
    job: TrainJob,
    algorithm: Algorithm,
    data: splits.Splits,
    reporter: ProgressReporter,
    cnn_weight: float = 0.0,
    on_validation: Callable[[int, float], None] | None = None,
) -> AgentResult:
    """Train (or resume) the agent on `data.train`; the core of every RL run, HYBRID's too
    and a search trial's (`on_validation` hears each validation Sharpe)."""
    config, env_config = job.training, job.training.environment
    on = device.pick(config.device, algorithm)
    if on.type == "cpu":
        # SB3's MLPs are tiny: one thread avoids contention and runs up to ~5x faster.
        torch.set_num_threads(1)
    # Split across worker processes when environment.envProcesses asks; closed on every
    # way out of training, so no worker outlives it.
    env = VecMonitor(make_vec_env(data.train, env_config, cnn_weight=cnn_weight))
    try:
        env.seed(config.seed)
        tensorboard = artifacts.tensorboard_dir(job.output_uri)
        start = resume_point(job.resume_from, job.output_uri, "rl")
        if start is not None:
            log.info("resuming %s from %s at step %d", algorithm, start.uri, start.steps)
            model = ALGORITHMS[algorithm].load(
                io.BytesIO(start.files[POLICY_FILE]),
                env=env,
                device=on,
                tensorboard_log=tensorboard,
            )
        else:
            model = make_agent(algorithm, env, config, on, tensorboard)

        validate = (
            validator(data.validation, job, data.periods_per_year, cnn_weight)
            if data.validation is not None
            else None
        )
        callback = RunCallback(
            reporter,
            CheckpointStore(artifacts.checkpoints_uri(job.output_uri, "rl")),
            config.checkpoint_every,
            validate=validate,
            eval_every=config.eval_every,
            patience=config.early_stopping_patience,
            save_best=config.save_best,
            state=start.state if start else None,
            best_policy=start.files.get(BEST_FILE) if start else None,
            on_validation=on_validation,
        )
        remaining = config.total_timesteps - model.num_timesteps
        if remaining > 0:
            model.learn(
                remaining,
                callback=callback,
                reset_num_timesteps=start is None,
                tb_log_name=str(algorithm),
            )
        else:
            callback.init_callback(model)
        checkpoint = callback.checkpoint()
        artifacts.upload_tensorboard(tensorboard, job.output_uri)
    finally:
        env.close()

    policy = (
        callback.best_policy if config.save_best and callback.best_policy else policy_bytes(model)
    )
    metrics: dict[str, float] = {"steps": float(model.num_timesteps)}
    if callback.mean_reward() is not None:
        metrics["trainMeanReward"] = float(callback.mean_reward() or 0.0)
    if data.validation is not None:
        chosen = ALGORITHMS[algorithm].load(io.BytesIO(policy), device=on)
        whole = env_config.model_copy(update={"episode_length": None})
        equity = validation.run_episode(
            TradingEnv(data.validation, whole, cnn_weight=cnn_weight),
            lambda obs: chosen.predict(obs, deterministic=True)[0],
        )
        scores = validation.score(equity, data.periods_per_year)
        metrics.update({f"validation{k[0].upper()}{k[1:]}": v for k, v in scores.items()})
    return AgentResult(policy, model.num_timesteps, metrics, checkpoint, callback.stopped_early)


def train(job: TrainJob, sink: Callable[[Progress], None] | None = None) -> artifacts.TrainResult:
    """Train the TrainJob's agent and publish it with its model card."""
    config = job.training
    algorithm = Algorithm(config.algorithm)
    if algorithm not in ALGORITHMS:
        raise ValueError(f"train_rl trains {sorted(ALGORITHMS)}, not {algorithm}")
    data = splits.load(job.dataset_uri, config.environment.window)
    reporter = ProgressReporter(
        job.owner, config.total_timesteps, sink=sink, history=artifacts.history_uri(job.output_uri)
    )
    if (
        job.resume_from not in (None, "latest")
        and resume_point(job.resume_from, job.output_uri, "rl") is None
    ):
        raise CheckpointError(f"no complete checkpoint at {job.resume_from}")

    agent = learn(job, algorithm, data, reporter)

    card = artifacts.card(
        job,
        data,
        hyperparameters(config, algorithm),
        agent.metrics,
        agent.steps,
        {"policy": artifacts.POLICY},
    )
    model_uri = artifacts.publish(job.output_uri, {artifacts.POLICY: agent.policy}, card)
    reporter.finish(agent.steps, card.metrics, agent.checkpoint_uri)
    return artifacts.TrainResult(card, model_uri, agent.checkpoint_uri, agent.stopped_early)
