"""Environments split across worker processes give the numbers one batched process gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kubetrade_testing import markets
from kubetrade_testing.vec_envs import assert_same_step
from kubetrade_workloads.config.training import EnvironmentConfig
from kubetrade_workloads.envs.arrays import MarketArrays, NonFiniteError, prepare
from kubetrade_workloads.envs.features import FeatureTransform
from kubetrade_workloads.envs.processes import (
    ProcessVecTradingEnv,
    available_cpus,
    make_vec_env,
    processes_for,
    shares,
)
from kubetrade_workloads.envs.vec_env import VecTradingEnv


def _data(config: EnvironmentConfig) -> MarketArrays:
    history = markets.history(n=70, seed=2)
    return prepare(history, FeatureTransform.fit(history), config.window)


def test_split_environments_equal_one_batch_over_whole_episodes() -> None:
    config = EnvironmentConfig.model_validate(
        {"window": 4, "episodeLength": 9, "reward": "differential_sharpe"}
    )
    data, n = _data(config), 5  # split 3 + 2: uneven, so the seed offsets matter
    one = VecTradingEnv(data, config, n)
    split = ProcessVecTradingEnv(data, config, n, 2)
    try:
        assert split.starts == [0, 3]
        one.seed(11)
        split.seed(11)
        np.testing.assert_array_equal(one.reset(), split.reset())
        assert one.reset_infos == split.reset_infos
        rng = np.random.default_rng(0)
        resets = 0
        for _ in range(40):  # four episodes and more: automatic resets included
            actions = rng.uniform(-1, 1, (n, 2)).astype(np.float32)
            step_1, step_2 = one.step(actions), split.step(actions)
            assert_same_step(step_1, step_2)
            assert step_2[1].dtype == np.float32 and step_2[2].dtype == bool
            assert [i["bar"] for i in step_1[3]] == [i["bar"] for i in step_2[3]]
            assert one.reset_infos == split.reset_infos
            resets += int(step_1[2].sum())
        assert resets >= n * 3
        # A reset without a new seed continues each environment's own generator.
        np.testing.assert_array_equal(one.reset(), split.reset())
    finally:
        split.close()
    assert all(not w.is_alive() for w in split._workers)


def test_a_different_seed_changes_the_split_episodes() -> None:
    config = EnvironmentConfig.model_validate({"window": 4, "episodeLength": 9})
    split = ProcessVecTradingEnv(_data(config), config, 2, 2)
    try:
        split.seed(1)
        first = np.asarray(split.reset())
        split.seed(2)
        assert not np.array_equal(first, np.asarray(split.reset()))
    finally:
        split.close()


def test_a_worker_error_reaches_the_trainer_as_itself_and_close_still_works() -> None:
    config = EnvironmentConfig.model_validate({"window": 4, "episodeLength": 9})
    split = ProcessVecTradingEnv(_data(config), config, 2, 2)
    split.reset()
    actions = np.zeros((2, 2), dtype=np.float32)
    actions[1, 0] = np.nan
    with pytest.raises(NonFiniteError, match="non-finite action"):
        split.step(actions)
    split.step(np.zeros((2, 2), dtype=np.float32))  # the pipes are still in step
    split.close()
    split.close()  # twice is harmless
    assert [w.exitcode for w in split._workers] == [0, 0]


def test_shares_are_contiguous_and_even() -> None:
    assert shares(8, 2) == [4, 4]
    assert shares(5, 2) == [3, 2]
    assert shares(3, 3) == [1, 1, 1]
    with pytest.raises(ValueError, match="cannot be split"):
        shares(2, 3)


def test_available_cpus_follows_the_cgroup_limit(tmp_path: Path) -> None:
    affinity = available_cpus(tmp_path / "missing")
    assert affinity >= 1
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text("150000 100000\n")  # a pod limit of 1.5 CPUs
    assert available_cpus(cpu_max) == 1
    cpu_max.write_text("max 100000\n")
    assert available_cpus(cpu_max) == affinity
    cpu_max.write_text("100000000 100000\n")  # a limit above the cores: the cores
    assert available_cpus(cpu_max) == affinity


def test_processes_follow_the_config() -> None:
    def processes(**fields: int) -> int:
        return processes_for(EnvironmentConfig.model_validate(fields))

    assert processes() == 1
    assert processes(numEnvs=8, envProcesses=2) == 2
    assert 1 <= processes(numEnvs=3, envProcesses=0) <= min(3, available_cpus())
    config = EnvironmentConfig(window=4, num_envs=2)
    assert isinstance(make_vec_env(_data(config), config), VecTradingEnv)


def test_more_processes_than_environments_is_refused() -> None:
    with pytest.raises(ValueError, match="envProcesses must not exceed environment.numEnvs"):
        EnvironmentConfig.model_validate({"numEnvs": 2, "envProcesses": 3})
