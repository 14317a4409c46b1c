"""Targets to orders, the shorting rule, lot rounding and the market's hours."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from kubetrade_workloads.market.rebalance import changed, plan_masked, round_down, sanitize
from kubetrade_workloads.trading.hours import MarketHours


def test_sanitize_drops_shorts_and_untradeable_symbols() -> None:
    targets = np.array([0.5, -0.2, 0.3])
    tradeable = np.array([True, True, False])
    np.testing.assert_array_equal(sanitize(targets, tradeable, allow_short=False), [0.5, 0.0, 0.0])
    np.testing.assert_array_equal(sanitize(targets, tradeable, allow_short=True), [0.5, -0.2, 0.0])


def test_only_changed_targets_trade_and_sells_go_first() -> None:
    targets, previous = np.array([0.5, 0.0, 0.2]), np.array([0.5, 0.4, 0.1])
    mask = changed(targets, previous)
    np.testing.assert_array_equal(mask, [False, True, True])
    assert changed(targets, None).all()
    orders = plan_masked(
        mask, targets, np.array([50.0, 40.0, 10.0]), 10_000.0, np.array([100.0, 100.0, 100.0])
    )
    assert orders == [(1, -40.0), (2, pytest.approx(10.0))]
    assert plan_masked(mask, targets, np.zeros(3), 0.0, np.ones(3)) == []  # no equity, no orders
    assert (
        plan_masked(np.ones(3, bool), np.zeros(3), np.zeros(3), 1e4, np.ones(3)) == []
    )  # nothing to do


@pytest.mark.parametrize(
    ("quantity", "step", "expected"),
    [(0.3, 0.1, 0.3), (1.23456789, 1e-6, 1.234567), (7.9, 1.0, 7.0), (2.5, 0.0, 2.5)],
)
def test_round_down_to_the_lot(quantity: float, step: float, expected: float) -> None:
    assert round_down(quantity, step) == pytest.approx(expected)


def test_equities_trade_in_sessions_crypto_always() -> None:
    daily, hourly = MarketHours("1d"), MarketHours("1h")
    friday, saturday = (
        dt.datetime(2024, 3, 1, tzinfo=dt.UTC),
        dt.datetime(2024, 3, 2, tzinfo=dt.UTC),
    )
    assert daily.is_open("AAPL", friday) and not daily.is_open("AAPL", saturday)
    assert daily.is_open("BTC/USDT", saturday)
    assert not daily.is_open("AAPL", dt.datetime(2024, 12, 25, tzinfo=dt.UTC))  # Christmas
    # The 09:00 New York bar holds the half hour after the open; 16:00 is after the close.
    assert hourly.is_open("AAPL", dt.datetime(2024, 3, 1, 14, tzinfo=dt.UTC))
    assert not hourly.is_open("AAPL", dt.datetime(2024, 3, 1, 21, tzinfo=dt.UTC))
    assert not hourly.is_open("AAPL", dt.datetime(2024, 3, 2, 15, tzinfo=dt.UTC))
    # The day after Thanksgiving closes at 13:00 New York (18:00 UTC).
    assert hourly.is_open("AAPL", dt.datetime(2024, 11, 29, 17, tzinfo=dt.UTC))
    assert not hourly.is_open("AAPL", dt.datetime(2024, 11, 29, 18, tzinfo=dt.UTC))
    with pytest.raises(ValueError, match="interval"):
        MarketHours("2h")
