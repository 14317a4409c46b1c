"""The environment meets gymnasium's and stable-baselines3's contracts, and sees no future."""

from __future__ import annotations

import numpy as np
import pytest
from stable_baselines3.common.env_checker import check_env
from stable_baselines3.common.vec_env import DummyVecEnv

from kubetrade_testing import markets
from kubetrade_testing.vec_envs import assert_same_step
from kubetrade_workloads.config.training import EnvironmentConfig
from kubetrade_workloads.envs.arrays import prepare
from kubetrade_workloads.envs.features import FeatureTransform
from kubetrade_workloads.envs.trading_env import TradingEnv
from kubetrade_workloads.envs.vec_env import VecTradingEnv
from kubetrade_workloads.market.history import History

CONFIGS = {
    "continuous-log-return": EnvironmentConfig(window=6),
    "discrete-sharpe": EnvironmentConfig(
        window=6, action_space="discrete", reward="differential_sharpe"
    ),
    "short-drawdown": EnvironmentConfig.model_validate(
        {
            "window": 6,
            "reward": "drawdown_penalty",
            "costs": {"allowShort": True},
            "episodeLength": 30,
        }
    ),
}


def _env(config: EnvironmentConfig, history: History | None = None) -> TradingEnv:
    history = history or markets.history(n=80)
    return TradingEnv(prepare(history, FeatureTransform.fit(history), config.window), config)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_passes_the_stable_baselines3_env_checker(name: str) -> None:
    check_env(_env(CONFIGS[name]), warn=True)


def test_observation_layout_is_window_weights_cash() -> None:
    env = _env(CONFIGS["continuous-log-return"])
    obs, _ = env.reset(seed=0)
    symbols, features = 2, 4
    assert obs.shape == (6 * symbols * features + symbols + 1,)
    assert obs[-1] == 1.0 and not obs[-3:-1].any()  # all cash, no positions yet
    obs, *_ = env.step(np.array([0.5, 0.25], dtype=np.float32))
    weights, cash = obs[-3:-1], obs[-1]
    assert weights.sum() + cash == pytest.approx(1.0, abs=1e-6)
    assert weights[0] == pytest.approx(0.5, abs=0.02) and weights[1] == pytest.approx(
        0.25, abs=0.02
    )


def test_observation_at_a_bar_never_depends_on_later_bars() -> None:
    frame = markets.bars(n=90, seed=3)
    history = History.from_frame(frame)
    transform = FeatureTransform.fit(history)  # fitted once, as on a train split, then fixed
    config = EnvironmentConfig(window=6)
    times = sorted(frame["timestamp"].unique())
    cut = 50
    future = frame["timestamp"] > times[cut]
    scrambled = frame.copy()
    rng = np.random.default_rng(0)
    for column in ("open", "high", "low", "close", "volume"):
        scrambled.loc[future, column] *= rng.uniform(0.5, 1.5, int(future.sum()))
    a = TradingEnv(prepare(history, transform, 6), config)
    b = TradingEnv(prepare(History.from_frame(scrambled), transform, 6), config)
    obs_a, _ = a.reset(seed=0)
    obs_b, _ = b.reset(seed=0)
    first = a.book.data.first
    action = np.array([0.6, 0.3], dtype=np.float32)
    for bar in range(first, cut + 1):
        np.testing.assert_array_equal(obs_a, obs_b, err_msg=f"observation at bar {bar} differs")
        obs_a, *_ = a.step(action)
        obs_b, *_ = b.step(action)
    # The first observation after the cut sees the changed bar, so the test can tell.
    assert not np.array_equal(obs_a, obs_b)


def test_batched_environment_equals_n_single_environments() -> None:
    history = markets.history(n=70, seed=2)
    config = EnvironmentConfig.model_validate(
        {"window": 4, "episodeLength": 9, "reward": "differential_sharpe"}
    )
    data = prepare(history, FeatureTransform.fit(history), config.window)
    n = 3
    singles = DummyVecEnv([lambda: TradingEnv(data, config) for _ in range(n)])
    batched = VecTradingEnv(data, config, n)
    singles.seed(11)
    batched.seed(11)
    np.testing.assert_array_equal(singles.reset(), batched.reset())
    rng = np.random.default_rng(0)
    for _ in range(40):  # several episodes: automatic resets included
        actions = rng.uniform(-1, 1, (n, 2)).astype(np.float32)
        step_b = batched.step(actions)
        assert_same_step(singles.step(actions), step_b)
    assert step_b[2].dtype == bool


def test_discrete_batched_environment_equals_single_ones() -> None:
    history = markets.history(n=50, seed=4)
    config = EnvironmentConfig.model_validate(
        {"window": 3, "actionSpace": "discrete", "episodeLength": 7}
    )
    data = prepare(history, FeatureTransform.fit(history), config.window)
    singles = DummyVecEnv([lambda: TradingEnv(data, config) for _ in range(2)])
    batched = VecTradingEnv(data, config, 2)
    singles.seed(1)
    batched.seed(1)
    singles.reset()
    batched.reset()
    rng = np.random.default_rng(1)
    for _ in range(20):
        actions = rng.integers(0, 3, (2, 2))
        np.testing.assert_array_equal(singles.step(actions)[0], batched.step(actions)[0])


def test_episode_starts_are_reproducible_from_a_seed() -> None:
    env = _env(EnvironmentConfig.model_validate({"window": 6, "episodeLength": 10}))
    starts = [env.reset(seed=s)[1]["bar"] for s in (1, 2, 1)]
    assert starts[0] == starts[2]
