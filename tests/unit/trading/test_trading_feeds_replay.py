"""Bars for the trader: the window buffer, paced streams, and a Dataset's replay."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import numpy as np
import pytest

from kubetrade_testing.bar_frames import bars
from kubetrade_testing.market_data import bar_rows
from kubetrade_workloads.config.data import FeatureConfig
from kubetrade_workloads.data.features.live import LiveFeatures
from kubetrade_workloads.data.publish import write_dataset
from kubetrade_workloads.market.history import History
from kubetrade_workloads.market.policy import MissingFeaturesError
from kubetrade_workloads.trading.feeds import Bar, BarBuffer, PacedFeed
from kubetrade_workloads.trading.feeds.base import bars_of
from kubetrade_workloads.trading.feeds.replay import ReplayError, replay_feed

T0 = dt.datetime(2024, 1, 2, tzinfo=dt.UTC)


def _bar(day: int, closes: list[float]) -> Bar:
    values = np.array([closes] * 4 + [[1.0] * len(closes)])
    return Bar(T0 + dt.timedelta(days=day), values)


def test_the_buffer_carries_missing_symbols_forward_and_keeps_a_window() -> None:
    buffer = BarBuffer(("A", "B"), capacity=3)
    buffer.append(_bar(0, [10.0, np.nan]))
    assert list(buffer.tradeable()) == [True, False]
    for day in range(1, 8):
        buffer.append(_bar(day, [10.0 + day, np.nan if day == 5 else 20.0 + day]))
    window = buffer.window(3)
    assert len(window) == 3 and window.now == T0 + dt.timedelta(days=7)
    np.testing.assert_array_equal(window.close[:, 0], [15.0, 16.0, 17.0])
    np.testing.assert_array_equal(window.close[:, 1], [24.0, 26.0, 27.0])  # day 5 carried 24
    assert window.volume[0, 1] == 0.0 and list(buffer.tradeable()) == [True, True]
    assert len(buffer.window()) == 3  # all kept bars: the capacity


def test_a_paced_feed_resumes_after_a_given_bar() -> None:
    frame = bar_rows("A", days=10)
    history = History.from_frame(frame)
    feed = PacedFeed(history, bar_seconds=0.05)
    warmup = feed.start(None, 3)
    assert [b.time.day for b in warmup] == [2, 3, 4]
    started = time.monotonic()
    first, second = feed.next(1.0), feed.next(1.0)
    assert first is not None and second is not None and first.time.day == 5 and second.time.day == 6
    assert time.monotonic() - started >= 0.04  # the beat
    assert feed.next(0.0) is None  # not due yet
    resumed = PacedFeed(history, 0.0)
    assert [b.time.day for b in resumed.start(dt.datetime(2024, 1, 8, tzinfo=dt.UTC), 2)] == [7, 8]
    rest = [resumed.next(0.1) for _ in range(4)]
    assert [b.time.day for b in rest if b] == [9, 10, 11] and resumed.exhausted


def test_replay_reads_a_published_split(tmp_path: Path) -> None:
    frame = bar_rows("AAA", days=5)
    uri = f"file://{tmp_path}/ds"
    write_dataset(uri, {"test": frame, "train": frame}, {})
    feed = replay_feed(uri, "test", None, 0.0)
    assert feed.symbols == ("AAA",) and len(feed.history) == 5
    with pytest.raises(ReplayError, match="no 'valid' split"):
        replay_feed(uri, "valid", None, 0.0)
    with pytest.raises(ReplayError, match="manifest.json not found"):
        replay_feed(f"file://{tmp_path}/nothing", "test", None, 0.0)


def test_replay_bars_carry_the_dataset_features_into_the_window(tmp_path: Path) -> None:
    frame = bar_rows("AAA", days=6).assign(rsi_14=np.arange(6.0), cci_14=-np.arange(6.0))
    uri = f"file://{tmp_path}/ds"
    write_dataset(uri, {"test": frame}, {})
    feed = replay_feed(uri, "test", None, 0.0)
    assert set(feed.features) == {"rsi_14", "cci_14"}
    buffer = BarBuffer(feed.symbols, capacity=4, features=("rsi_14",))
    buffer.extend(feed.start(None, 2))
    while (bar := feed.next(0.1)) is not None:
        buffer.append(bar)
    window = buffer.window(3)
    np.testing.assert_array_equal(window.features["rsi_14"][:, 0], [3.0, 4.0, 5.0])
    with pytest.raises(MissingFeaturesError, match="atr_14"):
        BarBuffer(feed.symbols, features=("atr_14",)).append(_bar(0, [1.0]))


def test_the_buffer_makes_features_the_feed_lacks_from_its_own_bars() -> None:
    history = History.from_frame(bars(("A", "B"), start="2021-01-04", end="2024-06-28"))
    maker = LiveFeatures.of(("rsi_14", "ema_50", "regime"), FeatureConfig(), None)
    buffer = BarBuffer(history.symbols, capacity=maker.span, features=maker.names, maker=maker)
    plain = [Bar(b.time, b.values) for b in (bars_of(history, i, 0.0) for i in range(len(history)))]
    assert len(plain) > 2 * maker.span  # so the arrays shift back once
    buffer.extend(plain[:500])
    for bar in plain[500:]:
        buffer.append(bar)
    # Each appended bar's row is made from the bar and the `span` bars before it.
    expected = maker.rows(history.upto(len(history) - 1, maker.span + 1))[:, -5:, :]
    window = buffer.window(5)
    made = np.stack([window.features[name] for name in maker.names])
    np.testing.assert_allclose(made, expected, rtol=1e-6, atol=1e-7)
    assert np.isfinite(made).all()
