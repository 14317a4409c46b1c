"""History: long frames to arrays, gaps, and views that never reach past now."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kubetrade_testing.histories import random_history
from kubetrade_workloads.market.history import History, HistoryError
from kubetrade_workloads.market.replay import BarClock, BarFeed


def frame(rows: list[tuple[str, str, float]], **extra: list[float]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=["timestamp", "symbol", "close"])
    out["open"] = out["close"]
    out["high"] = out["close"]
    out["low"] = out["close"]
    out["volume"] = 10.0
    for name, values in extra.items():
        out[name] = values
    return out


def test_a_long_frame_becomes_aligned_arrays_with_features() -> None:
    bars = frame(
        [
            ("2024-01-02", "B", 20.0),
            ("2024-01-02", "A", 10.0),
            ("2024-01-03", "A", 11.0),
            ("2024-01-03", "B", 21.0),
        ],
        rsi=[1.0, 2.0, 3.0, 4.0],
    )
    h = History.from_frame(bars)
    assert h.symbols == ("A", "B")
    np.testing.assert_array_equal(h.close, [[10.0, 20.0], [11.0, 21.0]])
    np.testing.assert_array_equal(h.features["rsi"], [[2.0, 1.0], [3.0, 4.0]])
    assert h.now == pd.Timestamp("2024-01-03", tz="UTC")
    back = h.frame()
    assert list(back["symbol"]) == ["A", "B", "A", "B"]
    assert back["close"].tolist() == [10.0, 20.0, 11.0, 21.0]


def test_gaps_carry_the_last_price_and_a_late_symbol_is_untradeable_until_it_starts() -> None:
    bars = frame(
        [
            ("2024-01-01", "A", 10.0),
            ("2024-01-02", "B", 5.0),
            ("2024-01-03", "A", 12.0),
            ("2024-01-03", "B", 6.0),
        ]
    )
    h = History.from_frame(bars)
    np.testing.assert_array_equal(h.close[:, 0], [10.0, 10.0, 12.0])  # A's gap carried
    np.testing.assert_array_equal(h.volume[:, 0], [10.0, 0.0, 10.0])  # nothing traded in it
    np.testing.assert_array_equal(h.tradeable[:, 1], [False, True, True])
    assert np.isfinite(h.close).all()


@pytest.mark.parametrize(
    ("bars", "symbols", "message"),
    [
        (frame([]), None, "empty"),
        (frame([("2024-01-01", "A", 1.0)]), ["A", "Z"], "not in the bars"),
        (frame([("2024-01-01", "A", 1.0), ("2024-01-01", "A", 2.0)]), None, "duplicate"),
        (frame([("2024-01-01", "A", 1.0), ("2024-01-01", "B", float("nan"))]), None, "no prices"),
    ],
)
def test_unusable_frames_raise_a_clear_error(
    bars: pd.DataFrame, symbols: list[str] | None, message: str
) -> None:
    with pytest.raises(HistoryError, match=message):
        History.from_frame(bars, symbols)


def test_views_end_at_the_bar_asked_for() -> None:
    h = random_history(1, bars=50)
    view = h.upto(19, lookback=5)
    assert len(view) == 5
    assert view.times[-1] == h.times[19]
    np.testing.assert_array_equal(view.close, h.close[15:20])
    assert len(h.upto(3)) == 4
    with pytest.raises(IndexError):
        h.upto(50)
    inner = h.between(10, 30)
    assert inner.upto(0).times[-1] == h.times[10]


def test_the_feed_serves_only_bars_up_to_the_clock() -> None:
    h = random_history(2, bars=30)
    clock = BarClock(h)
    feed = BarFeed(h, clock)
    clock.index = 9
    assert feed.window().times[-1] == h.times[9]
    frame_ = feed.history(["S1"], bars=1000)  # asking for more never reaches the future
    assert frame_["timestamp"].max() == clock.now()
    assert set(frame_["symbol"]) == {"S1"}
    assert len(frame_) == 10
