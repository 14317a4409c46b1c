"""The policy interface: how any trained model plugs into the backtest and the trader.

A `Policy` maps an `Observation` (a window of per-symbol features plus the
current positions and cash) to target weights. Training produces policies;
`PolicyStrategy` makes one a `Strategy`, so the backtest, the paper trader and
the live trader run a model exactly as they run a baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from .history import FIELDS, FloatArray, History
from .strategy import Weights

PRICE_FEATURES = FIELDS
"""Inputs a policy may read straight from the bars."""


class MissingFeaturesError(ValueError):
    """The data lacks features the model was trained on; `missing` names them."""

    def __init__(self, missing: Sequence[str]) -> None:
        self.missing = tuple(missing)
        super().__init__(f"the data lacks features the model was trained on: {list(missing)}")


@dataclass(frozen=True)
class Observation:
    """What a policy sees at one bar."""

    time: pd.Timestamp
    symbols: tuple[str, ...]
    features: tuple[str, ...]
    window: FloatArray
    """Shape [lookback, symbols, features], oldest first; the last row is the current bar."""
    weights: FloatArray
    """Current weight of each symbol in equity (negative is short)."""
    cash: float
    """Cash as a fraction of equity."""


class Policy(Protocol):
    @property
    def features(self) -> Sequence[str]:
        """Per-symbol inputs, by name: OHLCV fields or the dataset's feature columns."""
        ...

    @property
    def lookback(self) -> int:
        """Bars in the observation window."""
        ...

    def predict(self, observation: Observation) -> Weights:
        """Target weights for `observation.symbols`."""
        ...


def missing_features(policy: Policy, history: History) -> list[str]:
    """The policy's features that `history` does not carry."""
    available = set(PRICE_FEATURES) | set(history.features)
    return [f for f in policy.features if f not in available]


class PolicyStrategy:
    """A Strategy that asks a Policy; flat until the observation window is full."""

    def __init__(self, policy: Policy) -> None:
        if policy.lookback < 1:
            raise ValueError(f"a policy's lookback must be >= 1, got {policy.lookback}")
        self.policy = policy
        self._checked: frozenset[str] | None = None

    @property
    def lookback(self) -> int:
        """The policy's window length."""
        return self.policy.lookback

    def require(self, history: History) -> None:
        """Raise MissingFeaturesError when `history` lacks any of the policy's features."""
        missing = missing_features(self.policy, history)
        if missing:
            raise MissingFeaturesError(missing)

    def observe(self, history: History, weights: FloatArray) -> Observation:
        """The observation at the last bar of `history`."""
        window = history.upto(len(history) - 1, self.lookback)
        columns = [
            getattr(window, f) if f in PRICE_FEATURES else window.features[f]
            for f in self.policy.features
        ]
        stacked = np.stack(columns, axis=-1)
        return Observation(
            time=window.now,
            symbols=history.symbols,
            features=tuple(self.policy.features),
            window=stacked,
            weights=weights,
            cash=1.0 - float(np.sum(weights)),
        )

    def target_weights(self, history: History, weights: FloatArray) -> Weights:
        """Ask the policy once the window is full and every input in it is defined
        (a feature still warming up, a symbol without bars yet); stay flat before."""
        names = frozenset(history.features)
        if names != self._checked:
            self.require(history)
            self._checked = names
        flat = np.zeros(len(history.symbols))
        if len(history) < self.lookback:
            return flat
        observation = self.observe(history, weights)
        if not np.isfinite(observation.window).all():
            return flat
        return self.policy.predict(observation)
