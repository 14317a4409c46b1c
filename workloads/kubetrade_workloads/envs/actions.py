"""From an agent's action to target weights: the same mapping in training and serving.

Every function works on a batch of rows ([envs, symbols]); the single
environment is a batch of one, and a served policy calls the same functions,
so a model's action means the same targets in both places.

Limits: each weight stays within `max_weight` (and >= 0 without shorting);
gross exposure never exceeds equity, so the agent cannot borrow.
"""

from __future__ import annotations

import numpy as np

from ..market.history import BoolArray, FloatArray

SELL, HOLD, BUY = 0, 1, 2
"""Discrete actions per symbol: go to the lowest weight, keep the position, go to the highest."""
DISCRETE_CHOICES = 3


def cap_gross(weights: FloatArray) -> FloatArray:
    """Scale rows whose gross exposure exceeds 1 down to exactly 1."""
    gross = np.abs(weights).sum(axis=-1, keepdims=True)
    capped: FloatArray = weights / np.maximum(gross, 1.0)
    return capped


def continuous_targets(actions: FloatArray, max_weight: float, allow_short: bool) -> FloatArray:
    """Box actions in [-1, 1] to target weights (negatives are flat without shorting)."""
    low = -1.0 if allow_short else 0.0
    return cap_gross(np.clip(actions, low, 1.0) * max_weight)


def discrete_targets(
    actions: np.ndarray, current: FloatArray, max_weight: float, allow_short: bool
) -> tuple[FloatArray, BoolArray]:
    """Sell / hold / buy per symbol to targets, and the symbols that trade.

    Held symbols keep their weight; the traded ones are scaled down together
    when they would take gross exposure past 1.
    """
    low = -max_weight if allow_short else 0.0
    trade: BoolArray = actions != HOLD
    wanted = np.where(actions == BUY, max_weight, low)
    held_gross = np.where(trade, 0.0, np.abs(current)).sum(axis=-1, keepdims=True)
    traded_gross = np.where(trade, np.abs(wanted), 0.0).sum(axis=-1, keepdims=True)
    room = np.maximum(1.0 - held_gross, 0.0)
    scale = np.where(traded_gross > room, room / np.maximum(traded_gross, 1e-300), 1.0)
    targets: FloatArray = np.where(trade, wanted * scale, current)
    return targets, trade


def forecast_targets(forecast: FloatArray, max_weight: float, allow_short: bool) -> FloatArray:
    """A forecaster's scaled return forecasts to weights: tanh-shaped, capped like actions."""
    return continuous_targets(np.tanh(forecast), max_weight, allow_short)


def blend(rl: FloatArray, cnn: FloatArray, cnn_weight: float) -> FloatArray:
    """HYBRID's targets: `cnn_weight` of the forecaster's, the rest the agent's."""
    mixed: FloatArray = (1.0 - cnn_weight) * rl + cnn_weight * cnn
    return mixed
