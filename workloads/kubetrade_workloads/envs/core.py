"""The trading book of N environments at once: orders, fills, marking and rewards in numpy.

Timing is the backtest's default (`FillTiming.NEXT_OPEN`): the agent decides on
bar t's close, its orders are sized on the equity at that close, fill at bar
t+1's open through the shared cost model (slippage against the trader, then
commission on the filled notional), and the book is marked at t+1's close.
So the step from t to t+1 earns exactly what the backtest engine would book.

`TradingEnv` is this core with N = 1 and `VecTradingEnv` with N > 1: one
code path, which is why N single environments and one batched environment
give the same numbers.
"""

from __future__ import annotations

import math

import numpy as np

from ..config.training import ActionSpace, EnvironmentConfig, Reward
from ..market.costs import CostModel
from ..market.history import BoolArray, FloatArray
from . import actions
from .arrays import Float32Array, MarketArrays, NonFiniteError

DUST = 1e-12
"""Orders worth less than this share of equity are not sent (the backtest's rule)."""
_VARIANCE_FLOOR = 1e-12


def observation_size(data: MarketArrays) -> int:
    """Length of one observation: the feature window, weights, cash, and forecasts if any."""
    symbols = len(data.symbols)
    extra = symbols if data.forecast is not None else 0
    return data.window * data.features.shape[1] + symbols + 1 + extra


def assemble(
    window: Float32Array, weights: FloatArray, cash: FloatArray, forecast: FloatArray | None
) -> Float32Array:
    """Rows of [feature window, weights, cash, forecast]: the one observation layout."""
    parts = [window, weights.astype(np.float32), cash.astype(np.float32)[:, None]]
    if forecast is not None:
        parts.append(forecast.astype(np.float32))
    return np.concatenate(parts, axis=1)


class Book:
    """Positions, cash and reward state of `n` environments over one split."""

    def __init__(
        self, data: MarketArrays, config: EnvironmentConfig, n: int, cnn_weight: float = 0.0
    ) -> None:
        self.data, self.config, self.n = data, config, n
        self.cnn_weight = cnn_weight if data.forecast is not None else 0.0
        self.costs = CostModel.from_config(config.costs)
        self.discrete = config.action_space == ActionSpace.DISCRETE
        self.reward_kind = Reward(config.reward)
        k = len(data.symbols)
        self.t = np.zeros(n, dtype=np.int64)
        self.end = np.zeros(n, dtype=np.int64)
        self.qty = np.zeros((n, k))
        self.cash = np.zeros(n)
        self.equity = np.zeros(n)
        self.peak = np.zeros(n)
        self.drawdown = np.zeros(n)
        self.mean = np.zeros(n)
        self.second = np.zeros(n)
        self._offsets = np.arange(1 - data.window, 1)
        # The differential Sharpe's second moment starts at the split's typical
        # per-bar variance, not at zero: from zero, the first few rewards divide
        # by a variance of ~1e-10 and swamp everything the agent learns after.
        self._prior_second = _typical_variance(data)
        # Marked once per step and reused by the observation and the next action.
        self.weights = np.zeros((n, k))
        self.cash_share = np.zeros(n)
        self._everything: BoolArray = np.ones((n, k), dtype=bool)
        self._always_tradeable = bool(data.tradeable[data.first :].all())

    # -- episodes ------------------------------------------------------------------

    def bounds(self, rng: np.random.Generator) -> tuple[int, int]:
        """An episode's first decision bar and its last bar, drawn from `rng`."""
        first, last = self.data.first, self.data.bars - 1
        length = self.config.episode_length
        if length is None or length >= last - first:
            return first, last
        start = int(rng.integers(first, last - length + 1))
        return start, start + length

    def reset(self, i: int, rng: np.random.Generator) -> None:
        """Start environment `i` on a fresh episode: all cash, no positions."""
        self.t[i], self.end[i] = self.bounds(rng)
        cash = self.config.initial_cash
        self.qty[i] = 0.0
        self.cash[i] = self.equity[i] = self.peak[i] = cash
        self.drawdown[i] = self.mean[i] = 0.0
        self.second[i] = self._prior_second
        self.weights[i], self.cash_share[i] = 0.0, 1.0

    # -- observing -------------------------------------------------------------------

    def _mark(self, close: FloatArray) -> None:
        """Each symbol's and cash's share of equity at the current `close`."""
        equity = self.equity
        alive = equity > 0
        inverse = np.where(alive, 1.0 / np.where(alive, equity, 1.0), 0.0)
        self.weights = self.qty * close * inverse[:, None]
        self.cash_share = self.cash * inverse

    def observe(self, rows: np.ndarray | None = None) -> Float32Array:
        """Observations of `rows` (all when None) at their current bar, never a later one."""
        t = self.t if rows is None else self.t[rows]
        features = self.data.features
        if len(t) == 1:  # a view, not a gather: the single environment's hot path
            window = features[int(t[0]) - self.data.window + 1 : int(t[0]) + 1].reshape(1, -1)
        else:
            window = features[t[:, None] + self._offsets].reshape(len(t), -1)
        weights = self.weights if rows is None else self.weights[rows]
        cash = self.cash_share if rows is None else self.cash_share[rows]
        forecast = self.data.forecast[t] if self.data.forecast is not None else None
        return assemble(window, weights, cash, forecast)

    # -- stepping --------------------------------------------------------------------

    def targets(self, action: np.ndarray) -> tuple[FloatArray, np.ndarray]:
        """Target weights and the symbols that trade, for every environment."""
        cfg = self.config
        allow_short = cfg.costs.allow_short
        current = self.weights
        trade: BoolArray = self._everything
        if self.discrete:
            targets, trade = actions.discrete_targets(
                np.asarray(action).reshape(current.shape),
                current,
                cfg.max_position_weight,
                allow_short,
            )
        else:
            raw = np.asarray(action, dtype=np.float64).reshape(current.shape)
            if not np.isfinite(raw.sum()):
                raise NonFiniteError("the agent produced a non-finite action")
            targets = actions.continuous_targets(raw, cfg.max_position_weight, allow_short)
        if self.cnn_weight > 0 and self.data.forecast is not None:
            cnn = actions.forecast_targets(
                self.data.forecast[self.t], cfg.max_position_weight, allow_short
            )
            targets = actions.blend(targets, cnn, self.cnn_weight)
            trade = self._everything
        if self._always_tradeable:
            return targets, trade
        tradeable = self.data.tradeable[self.t]
        return np.where(tradeable, targets, 0.0), trade | ~tradeable

    def step(self, action: np.ndarray) -> tuple[FloatArray, np.ndarray, np.ndarray]:
        """Trade every environment to its targets and move one bar.

        Returns the rewards and which environments terminated (equity gone) or
        were truncated (their episode's last bar reached).
        """
        data, t = self.data, self.t
        targets, trade = self.targets(action)
        close = data.close[t]
        equity = self.equity[:, None]
        # Nothing trades once equity is gone (as in the backtest's order sizing).
        deltas = np.where(trade & (equity > 0), targets * equity / close - self.qty, 0.0)
        deltas[np.abs(deltas * close) <= DUST * equity] = 0.0
        nxt = t + 1
        prices = self.costs.fill_prices(deltas, data.open[nxt], data.volume[nxt])
        fees = self.costs.commissions(deltas, prices)
        self.cash = self.cash - (deltas * prices).sum(axis=1) - fees.sum(axis=1)
        self.qty = self.qty + deltas
        marks = data.close[nxt]
        new_equity = self.cash + (self.qty * marks).sum(axis=1)
        rewards = self._rewards(self.equity, new_equity)
        self.t = nxt
        self.equity = new_equity
        self._mark(marks)
        terminated = new_equity <= 0
        truncated = (nxt >= self.end) & ~terminated
        return rewards, terminated, truncated

    def _rewards(self, before: FloatArray, after: FloatArray) -> FloatArray:
        """The configured reward for the move from `before` to `after` equity."""
        positive = before > 0
        ratio = np.where(positive, after / np.where(positive, before, 1.0), 0.0)
        # A wiped-out book ends the episode; its last reward is large and finite.
        log_return = np.log(np.maximum(ratio, 1e-12))
        if self.reward_kind == Reward.DIFFERENTIAL_SHARPE:
            rewards = self._differential_sharpe(log_return)
        elif self.reward_kind == Reward.DRAWDOWN_PENALTY:
            rewards = log_return - self.config.drawdown_weight * self._new_drawdown(after)
        else:
            rewards = log_return
        if not np.isfinite(rewards.sum()):
            i = int(np.flatnonzero(~np.isfinite(rewards))[0])
            raise NonFiniteError(
                f"reward is not finite at {self.data.when(int(self.t[i]) + 1)}"
                f" (equity {before[i]} -> {after[i]})"
            )
        return rewards

    def _new_drawdown(self, equity: FloatArray) -> FloatArray:
        """How much deeper below its peak each book went this step (0 when it did not)."""
        self.peak = np.maximum(self.peak, equity)
        drawdown = 1.0 - equity / self.peak
        deeper: FloatArray = np.maximum(drawdown - self.drawdown, 0.0)
        self.drawdown = drawdown
        return deeper

    def _differential_sharpe(self, returns: FloatArray) -> FloatArray:
        """Moody and Saffell's differential Sharpe ratio: the Sharpe gained by this return.

        A and B are exponential moving estimates of the first and second moments
        of returns; D_t = (B dA - A dB / 2) / (B - A^2)^(3/2), with the moments
        before the update, and zero until the variance is defined.
        """
        a, b = self.mean, self.second
        da, db = returns - a, returns**2 - b
        variance = b - a**2
        value = (b * da - 0.5 * a * db) / np.maximum(variance, _VARIANCE_FLOOR) ** 1.5
        rewards: FloatArray = np.where(variance > _VARIANCE_FLOOR, value, 0.0)
        eta = self.config.sharpe_eta
        self.mean, self.second = a + eta * da, b + eta * db
        return rewards


def _typical_variance(data: MarketArrays) -> float:
    """Mean per-bar variance of the symbols' log close-to-close returns (a scale, >= 1e-8)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        returns = np.diff(np.log(data.close), axis=0)
    usable = data.tradeable[1:] & data.tradeable[:-1] & np.isfinite(returns)
    values = returns[usable]
    return max(float(values.var()) if values.size > 1 else 0.0, 1e-8)


def check_finite_observation(obs: Float32Array) -> None:
    """Raise NonFiniteError when an observation carries NaN or infinity."""
    if not math.isfinite(float(obs.sum())):
        raise NonFiniteError("the observation carries NaN or infinity")
