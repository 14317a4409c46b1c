"""stable-baselines3 agents: smoke runs, reproducibility, artifacts, and serving what was trained."""

from __future__ import annotations

import io
import json
import multiprocessing
from pathlib import Path

import numpy as np
import pytest
import torch

from kubetrade_testing import training
from kubetrade_workloads.__main__ import main
from kubetrade_workloads.config.training import EnvironmentConfig
from kubetrade_workloads.envs import actions
from kubetrade_workloads.envs.dataset import open_dataset
from kubetrade_workloads.envs.trading_env import TradingEnv
from kubetrade_workloads.market.policy import Policy, PolicyStrategy
from kubetrade_workloads.training import artifacts, job, splits
from kubetrade_workloads.training.policies import load_policy
from kubetrade_workloads.training.train_rl import ALGORITHMS


def _weights(model_uri: str) -> list[torch.Tensor]:
    card = artifacts.read_card(model_uri)
    agent = ALGORITHMS[card.algorithm].load(
        io.BytesIO(artifacts.read_file(model_uri, "policy.zip"))
    )
    return [p.detach().clone() for p in agent.policy.parameters()]


@pytest.mark.parametrize("algorithm", ["PPO", "SAC"])
def test_a_short_run_publishes_a_policy_and_its_card(tmp_path: Path, algorithm: str) -> None:
    work = training.job(tmp_path, algorithm)
    result = job.run(work)
    out = tmp_path / "out"
    assert {"model_card.json", "policy.zip", "checkpoints", "tensorboard"} <= {
        p.name for p in out.iterdir()
    }
    assert list((out / "tensorboard").rglob("events.out.tfevents.*"))
    card = result.card
    assert card.algorithm == algorithm and card.steps >= 128
    assert card.hyperparameters["learning_rate"] > 0
    assert card.features == ["open", "high", "low", "close", "volume"] and card.lookback == 6
    assert card.dataset.checksum == open_dataset(work.dataset_uri).checksum
    assert np.isfinite(card.metrics["validationSharpe"])
    assert result.checkpoint_uri and result.checkpoint_uri.startswith(
        f"file://{out}/checkpoints/rl/step-"
    )


def test_the_same_seed_trains_the_same_policy(tmp_path: Path) -> None:
    a = job.run(training.job(tmp_path / "a", "A2C"))
    b = job.run(training.job(tmp_path / "b", "A2C"))
    for x, y in zip(_weights(a.model_uri), _weights(b.model_uri), strict=True):
        assert torch.equal(x, y)
    assert a.card.metrics == b.card.metrics
    c = job.run(training.job(tmp_path / "c", "A2C", seed=1))
    assert not all(
        torch.equal(x, y) for x, y in zip(_weights(a.model_uri), _weights(c.model_uri), strict=True)
    )


def test_environments_in_two_processes_train_the_policy_one_process_trains(
    tmp_path: Path,
) -> None:
    environment = {"window": 5, "numEnvs": 4, "episodeLength": 40}
    one = job.run(training.job(tmp_path / "one", "PPO", environment=environment))
    two = job.run(
        training.job(tmp_path / "two", "PPO", environment={**environment, "envProcesses": 2})
    )
    assert two.card.training.environment.env_processes == 2
    assert (tmp_path / "two" / "out" / "policy.zip").is_file()
    assert two.card.steps == one.card.steps >= 128
    assert two.card.metrics == one.card.metrics
    for x, y in zip(_weights(one.model_uri), _weights(two.model_uri), strict=True):
        assert torch.equal(x, y)
    assert not [p for p in multiprocessing.active_children() if p.name.startswith("kubetrade-env")]


def test_the_card_round_trips_and_the_policy_trades_as_in_training(tmp_path: Path) -> None:
    work = training.job(
        tmp_path, "PPO", environment={"window": 5, "numEnvs": 2, "maxPositionWeight": 0.5}
    )
    result = job.run(work)
    card = artifacts.read_card(result.model_uri)
    assert card == result.card
    policy = load_policy(f"file://{tmp_path}/out")
    served: Policy = policy  # mypy checks the protocol; PolicyStrategy takes it below
    assert served.lookback == 6
    assert (tuple(policy.features), policy.lookback) == (tuple(card.features), 6)

    data = splits.load(work.dataset_uri, 5)
    assert data.validation is not None
    env = TradingEnv(
        data.validation, EnvironmentConfig.model_validate(card.training.environment.to_wire())
    )
    history = data.dataset.history("validation")
    strategy = PolicyStrategy(policy)
    agent = policy.agent
    assert agent is not None
    obs, _ = env.reset(seed=0)
    for _ in range(8):
        bar = int(env.book.t[0])
        observation = strategy.observe(history.upto(bar), obs[-3:-1].astype(np.float64))
        values, _ = policy.features_window(observation)
        np.testing.assert_array_equal(values.astype(np.float32).reshape(-1), obs[: values.size])
        action, _ = agent.predict(obs, deterministic=True)
        expected = actions.continuous_targets(action.astype(np.float64)[None], 0.5, False)[0]
        np.testing.assert_allclose(policy.predict(observation), expected, rtol=1e-6, atol=1e-7)
        obs, *_ = env.step(action)


def test_the_train_command_runs_a_job_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work = training.job(tmp_path, "PPO", totalTimesteps=64)
    config = tmp_path / "config.json"
    config.write_text(work.model_dump_json(by_alias=True))
    assert main(["train", "--config", str(config)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["algorithm"] == "PPO" and summary["steps"] >= 64
    assert (tmp_path / "out" / "model_card.json").exists()


def test_the_train_command_fails_on_nan_features_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kubetrade_testing import markets

    frame = markets.bars(n=120)
    frame["signal"] = 0.5
    frame.loc[frame.index == 40, "signal"] = np.nan
    from kubetrade_workloads.data import publish

    publish.write_dataset(f"file://{tmp_path}/ds", {"train": frame}, {"features": ["signal"]})
    work = training.job(tmp_path, "PPO", dataset=f"file://{tmp_path}/ds")
    config = tmp_path / "config.json"
    config.write_text(work.model_dump_json(by_alias=True))
    assert main(["train", "--config", str(config)]) == 1
    assert "error: NonFiniteError: feature 'signal' of" in capsys.readouterr().err


def test_early_stopping_on_validation_sharpe_keeps_the_best_policy(tmp_path: Path) -> None:
    work = training.job(
        tmp_path, "PPO", totalTimesteps=50_000, evalEvery=32, earlyStoppingPatience=1, saveBest=True
    )
    result = job.run(work)
    assert result.stopped_early and result.card.steps < 50_000
    assert result.checkpoint_uri is not None
    best = artifacts.read_file(result.checkpoint_uri, "best.zip")
    assert (tmp_path / "out" / "policy.zip").read_bytes() == best
