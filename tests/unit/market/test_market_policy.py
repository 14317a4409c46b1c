"""The policy interface: observations, the strategy adapter, missing features."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

from kubetrade_testing.histories import random_history
from kubetrade_workloads.backtest import BacktestSettings, run_events
from kubetrade_workloads.market.history import FloatArray, History
from kubetrade_workloads.market.policy import MissingFeaturesError, Observation, PolicyStrategy


@dataclass
class RecordingPolicy:
    """Holds the symbols whose last close is above the window's mean; keeps what it saw."""

    features: Sequence[str] = ("close", "volume")
    lookback: int = 5
    seen: list[Observation] = field(default_factory=list)

    def predict(self, observation: Observation) -> FloatArray:
        self.seen.append(observation)
        close = observation.window[:, :, 0]
        up = close[-1] > close.mean(axis=0)
        return np.where(up, 1.0 / len(observation.symbols), 0.0)


def test_the_policy_sees_a_full_window_ending_now_plus_weights_and_cash() -> None:
    h = random_history(3, bars=40, symbols=2)
    policy = RecordingPolicy()
    result = run_events(h, PolicyStrategy(policy), BacktestSettings())
    assert len(policy.seen) == 40 - 4  # flat until five bars exist
    last = policy.seen[-1]
    assert last.window.shape == (5, 2, 2)
    np.testing.assert_array_equal(last.window[:, :, 0], h.close[-5:])
    np.testing.assert_array_equal(last.window[:, :, 1], h.volume[-5:])
    assert last.time == pd.Timestamp(h.times[-1]).tz_localize("UTC")
    assert last.cash == pytest.approx(1.0 - last.weights.sum())
    assert len(result.fills) > 0


def test_a_model_needing_features_the_data_lacks_names_them() -> None:
    h = random_history(4, bars=10)
    strategy = PolicyStrategy(RecordingPolicy(features=("close", "rsi_14", "macd")))
    with pytest.raises(MissingFeaturesError, match=r"\['rsi_14', 'macd'\]") as caught:
        strategy.require(h)
    assert caught.value.missing == ("rsi_14", "macd")
    with pytest.raises(MissingFeaturesError):
        run_events(h, strategy)


def test_dataset_features_reach_the_policy() -> None:
    base = random_history(5, bars=12, symbols=1)
    bars = base.frame().assign(rsi_14=np.arange(12.0))
    h = History.from_frame(bars)
    policy = RecordingPolicy(features=("rsi_14",), lookback=3)
    PolicyStrategy(policy).target_weights(h, np.zeros(1))
    np.testing.assert_array_equal(policy.seen[-1].window[:, 0, 0], [9.0, 10.0, 11.0])


def test_a_policy_without_a_window_is_refused() -> None:
    with pytest.raises(ValueError, match="lookback"):
        PolicyStrategy(RecordingPolicy(lookback=0))


def test_the_policy_is_not_asked_while_an_input_in_its_window_is_undefined() -> None:
    base = random_history(6, bars=12, symbols=2)
    warming = np.arange(24.0).reshape(12, 2)
    warming[:7, 1] = np.nan  # the second symbol's indicator defined from bar 7 on
    bars = base.frame().assign(rsi_14=warming.reshape(-1))
    h = History.from_frame(bars)
    policy = RecordingPolicy(features=("close", "rsi_14"), lookback=3)
    strategy = PolicyStrategy(policy)
    held = np.zeros(2)
    for i in range(12):
        weights = np.asarray(strategy.target_weights(h.upto(i), held))
        if i < 9:
            assert not weights.any()
    assert [o.time for o in policy.seen] == [
        pd.Timestamp(t).tz_localize("UTC") for t in h.times[9:]
    ]
