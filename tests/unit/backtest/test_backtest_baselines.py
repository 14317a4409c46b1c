"""Baseline strategies: moving averages, crossover and momentum signals."""

from __future__ import annotations

import numpy as np
import pytest

from kubetrade_testing.histories import history, random_history
from kubetrade_workloads.strategies import BuyAndHold, Momentum, MovingAverageCrossover, baseline
from kubetrade_workloads.strategies.baselines import sma


def test_sma_matches_the_plain_mean_and_is_nan_until_the_window_fills() -> None:
    x = np.random.default_rng(0).random((100, 2)) * 100
    for window in (1, 2, 5, 37, 64):
        out = sma(x, window)
        assert np.isnan(out[: window - 1]).all()
        expected = np.array(
            [x[t - window + 1 : t + 1].mean(axis=0) for t in range(window - 1, 100)]
        )
        np.testing.assert_allclose(out[window - 1 :], expected, rtol=1e-12)
    assert np.isnan(sma(x[:3], 5)).all()
    with pytest.raises(ValueError, match="window"):
        sma(x, 0)


def test_sma_of_a_bar_is_the_same_bits_from_any_window_ending_there() -> None:
    x = np.random.default_rng(1).random((200, 1)) * 100
    full = sma(x, 50)
    for t in range(49, 200, 13):
        for extra in (0, 1, 7, 30):
            tail = x[max(0, t - 49 - extra) : t + 1]
            assert sma(tail, 50)[-1, 0] == full[t, 0]


def test_crossover_is_long_above_and_flat_or_short_below() -> None:
    prices = np.concatenate([np.linspace(100, 50, 30), np.linspace(50, 120, 30)])
    h = history(prices)
    w = MovingAverageCrossover(3, 10).weight_matrix(h)
    assert (w[:9] == 0).all()  # slow window not yet full
    assert w[25, 0] == 0 and w[-1, 0] == 1
    short = MovingAverageCrossover(3, 10, short=True).weight_matrix(h)
    assert short[25, 0] == -1
    with pytest.raises(ValueError, match="fast < slow"):
        MovingAverageCrossover(10, 10)


def test_momentum_holds_the_risers_or_the_top_n() -> None:
    h = history([[10.0, 10.0, 10.0], [11.0, 9.0, 12.0], [12.0, 8.0, 15.0]])
    all_up = Momentum(window=1).weight_matrix(h)
    np.testing.assert_allclose(all_up[2], [1 / 3, 0.0, 1 / 3])
    assert (all_up[0] == 0).all()
    top = Momentum(window=1, top=1).weight_matrix(h)
    np.testing.assert_allclose(top[2], [0.0, 0.0, 1.0])


def test_event_entry_points_return_the_last_row() -> None:
    h = random_history(3, bars=80, symbols=3)
    for strategy in (BuyAndHold(), MovingAverageCrossover(5, 20), Momentum(10, top=2)):
        full = strategy.weight_matrix(h)
        for t in (0, 19, 20, 79):
            row = strategy.target_weights(h.upto(t), np.zeros(3))
            np.testing.assert_array_equal(row, full[t])


def test_baselines_by_name() -> None:
    assert baseline("ma-crossover", fast=2, slow=3) == MovingAverageCrossover(2, 3)
    assert isinstance(baseline("buy-and-hold"), BuyAndHold)
    with pytest.raises(ValueError, match="choose from"):
        baseline("moon")
