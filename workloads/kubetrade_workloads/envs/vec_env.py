"""`VecTradingEnv`: N trading environments stepped together in numpy, as a stable-baselines3 VecEnv.

SB3's DummyVecEnv steps N Python environments one after another and deep-copies
their infos every step; here one `core.Book` holds all N books as [N, symbols]
arrays, so a step is a handful of array operations whatever N is. It follows
DummyVecEnv's contract exactly: environment i is seeded with `seed + i`,
finished environments reset automatically, and their last observation is in
`info["terminal_observation"]` with `info["TimeLimit.truncated"]`; the tests
check it gives the same numbers as N `TradingEnv`s in a DummyVecEnv.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils import seeding
from stable_baselines3.common.vec_env.base_vec_env import (
    VecEnv,
    VecEnvIndices,
    VecEnvObs,
    VecEnvStepReturn,
)

from ..config.training import EnvironmentConfig
from .arrays import MarketArrays
from .core import Book, check_finite_observation
from .trading_env import make_spaces


class SharedVecEnv(VecEnv):
    """A VecEnv whose environments are one object (a batch), not N gymnasium envs:
    SB3's attribute and method calls go to that object, once per requested index."""

    def _indices(self, indices: VecEnvIndices) -> Sequence[int]:
        if indices is None:
            return range(self.num_envs)
        if isinstance(indices, int):
            return [indices]
        return list(indices)

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """An attribute every sub-environment shares (they are one object here)."""
        value = getattr(self, attr_name)
        return [value for _ in self._indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Set a shared attribute (for all environments: they are one object)."""
        setattr(self, attr_name, value)

    def env_method(
        self,
        method_name: str,
        *method_args: Any,
        indices: VecEnvIndices = None,
        **method_kwargs: Any,
    ) -> list[Any]:
        """Call a method of the shared object once per requested environment."""
        method = getattr(self, method_name)
        return [method(*method_args, **method_kwargs) for _ in self._indices(indices)]

    def env_is_wrapped(
        self, wrapper_class: type[gym.Wrapper[Any, Any, Any, Any]], indices: VecEnvIndices = None
    ) -> list[bool]:
        """No sub-environment is wrapped: there are none to wrap."""
        return [False for _ in self._indices(indices)]


class VecTradingEnv(SharedVecEnv):
    """`n` independent episodes over one split, stepped as one batch."""

    def __init__(
        self, data: MarketArrays, config: EnvironmentConfig, n: int, *, cnn_weight: float = 0.0
    ) -> None:
        if n < 1:
            raise ValueError(f"a VecTradingEnv needs at least one environment, got {n}")
        self.data, self.config = data, config
        self.book = Book(data, config, n, cnn_weight)
        self.render_mode = None
        self._rngs: list[np.random.Generator | None] = [None] * n
        self._actions: np.ndarray | None = None
        observation, action = make_spaces(data, config)
        super().__init__(n, observation, action)

    def _reset_one(self, i: int, seed: int | None) -> None:
        rng = self._rngs[i]
        if seed is not None or rng is None:
            rng, _ = seeding.np_random(seed)
            self._rngs[i] = rng
        self.book.reset(i, rng)

    def reset(self) -> VecEnvObs:
        """Start every environment on a new episode (with the seeds `seed()` set, once)."""
        for i in range(self.num_envs):
            self._reset_one(i, self._seeds[i])
        self._reset_seeds()
        self._reset_options()
        self.reset_infos = self._infos(range(self.num_envs))
        return self.book.observe()

    def step_async(self, actions: np.ndarray) -> None:
        """Remember the actions; `step_wait` applies them all at once."""
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        """Step every environment; reset the finished ones."""
        if self._actions is None:
            raise RuntimeError("step_wait() called without step_async()")
        rewards, terminated, truncated = self.book.step(self._actions)
        self._actions = None
        obs = self.book.observe()
        check_finite_observation(obs)
        dones = terminated | truncated
        infos = self._infos(range(self.num_envs))
        for i in np.flatnonzero(dones).tolist():
            infos[i]["terminal_observation"] = obs[i].copy()
            infos[i]["TimeLimit.truncated"] = bool(truncated[i])
            self._reset_one(i, None)
            self.reset_infos[i] = self._infos([i])[0]
            obs[i] = self.book.observe(np.array([i]))[0]
        return obs, rewards.astype(np.float32), dones, infos

    def _infos(self, rows: Iterable[int]) -> list[dict[str, Any]]:
        equity, bar = self.book.equity, self.book.t
        return [{"equity": float(equity[i]), "bar": int(bar[i])} for i in rows]

    def close(self) -> None:
        """Nothing to release: no processes, no files."""
