"""`TradingEnv`: one gymnasium environment over a dataset split.

Observation: the last `window` bars of scaled features for every symbol
(flattened), then each symbol's weight in equity, the cash share, and, for
HYBRID, the forecaster's per-symbol forecast. Actions: target weights
(`Box(-1, 1)` per symbol) or sell / hold / buy per symbol (`MultiDiscrete`).
An episode ends when its bars run out (truncated) or equity is gone
(terminated). All the arithmetic lives in `core.Book`, shared with the batched
`VecTradingEnv`.
"""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from ..config.training import ActionSpace, EnvironmentConfig
from .actions import DISCRETE_CHOICES
from .arrays import Float32Array, MarketArrays
from .core import Book, check_finite_observation, observation_size


def make_spaces(
    data: MarketArrays, config: EnvironmentConfig
) -> tuple[spaces.Box, spaces.Space[Any]]:
    """The observation and action spaces of an environment over `data`."""
    size = observation_size(data)
    observation = spaces.Box(-np.inf, np.inf, shape=(size,), dtype=np.float32)
    k = len(data.symbols)
    action: spaces.Space[Any]
    if config.action_space == ActionSpace.DISCRETE:
        action = spaces.MultiDiscrete(np.full(k, DISCRETE_CHOICES))
    else:
        action = spaces.Box(-1.0, 1.0, shape=(k,), dtype=np.float32)
    return observation, action


class TradingEnv(gym.Env[np.ndarray, np.ndarray]):
    """A multi-asset trading environment with the backtest's fills and costs."""

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(
        self, data: MarketArrays, config: EnvironmentConfig, *, cnn_weight: float = 0.0
    ) -> None:
        self.data, self.config = data, config
        self.book = Book(data, config, 1, cnn_weight)
        self.observation_space, self.action_space = make_spaces(data, config)
        self.render_mode = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Float32Array, dict[str, Any]]:
        """Start an episode (at a random bar when `episodeLength` is set)."""
        super().reset(seed=seed)
        self.book.reset(0, self.np_random)
        return self.book.observe()[0], self._info()

    def step(
        self, action: np.ndarray
    ) -> tuple[Float32Array, SupportsFloat, bool, bool, dict[str, Any]]:
        """Trade to the action's targets, move one bar, and return what the agent sees."""
        rewards, terminated, truncated = self.book.step(np.asarray(action)[None])
        obs = self.book.observe()
        check_finite_observation(obs)
        return obs[0], float(rewards[0]), bool(terminated[0]), bool(truncated[0]), self._info()

    def _info(self) -> dict[str, Any]:
        return {"equity": float(self.book.equity[0]), "bar": int(self.book.t[0])}
