"""Live bars polled through the data workload's clients: Alpaca bars and ccxt OHLCV."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from kubetrade_testing.fakes.alpaca import AlpacaFake
from kubetrade_testing.fakes.binance import BinanceFake
from kubetrade_testing.fakes.server import Response
from kubetrade_testing.market_data import EQUITIES, PAIRS, truth
from kubetrade_testing.risk import FakeClock
from kubetrade_testing.trading import ALPACA_KEYS
from kubetrade_workloads.data.sources.alpaca import AlpacaSource
from kubetrade_workloads.data.sources.ccxt import CcxtSource
from kubetrade_workloads.data.sources.credentials import Credentials
from kubetrade_workloads.data.sources.retry import Retry
from kubetrade_workloads.trading.feeds import PollingFeed


def test_alpaca_bars_arrive_once_complete_and_resume_after_the_last(
    alpaca: tuple[AlpacaFake, str],
) -> None:
    fake, url = alpaca
    daily = truth(EQUITIES, "1d")
    fake.bars["1d"] = daily[daily["timestamp"] < "2024-03-01"]
    clock = FakeClock(dt.datetime(2024, 3, 1, 22, tzinfo=dt.UTC))
    feed = PollingFeed(
        AlpacaSource(ALPACA_KEYS, url=url), EQUITIES, "1d", clock=clock, poll_seconds=0.01
    )
    warmup = feed.start(None, 20)
    assert len(warmup) == 20 and warmup[-1].time == dt.datetime(2024, 2, 29, tzinfo=dt.UTC)
    assert feed.next(0.05) is None  # nothing new yet
    fake.bars["1d"] = daily[daily["timestamp"] < "2024-03-06"]  # two sessions later
    clock.time = dt.datetime(2024, 3, 5, 12, tzinfo=dt.UTC)  # 3-05 is not over yet
    bar = feed.next(1.0)
    assert bar is not None and bar.time == dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
    expected = (
        daily[daily["timestamp"] == "2024-03-01"].set_index("symbol").loc[list(EQUITIES), "close"]
    )
    np.testing.assert_allclose(bar.field("close"), expected.to_numpy())
    assert bar.received > 0
    nxt = feed.next(1.0)
    assert nxt is not None and nxt.time == dt.datetime(2024, 3, 4, tzinfo=dt.UTC)
    assert feed.next(0.05) is None
    # A restarted trader resumes after the last bar it finished.
    again = PollingFeed(
        AlpacaSource(ALPACA_KEYS, url=url), EQUITIES, "1d", clock=clock, poll_seconds=0.01
    )
    history = again.start(dt.datetime(2024, 3, 1, tzinfo=dt.UTC), 5)
    assert [b.time.day for b in history][-1] == 1
    resumed = again.next(1.0)
    assert resumed is not None and resumed.time == dt.datetime(2024, 3, 4, tzinfo=dt.UTC)


def test_ccxt_ohlcv_is_polled_and_an_outage_only_delays_it(
    binance: tuple[BinanceFake, str],
) -> None:
    fake, url = binance
    hourly = truth(PAIRS, "1h", dt.date(2024, 1, 1), dt.date(2024, 1, 3))
    fake.bars["1h"] = hourly
    clock = FakeClock(dt.datetime(2024, 1, 2, 5, 30, tzinfo=dt.UTC))
    feed = PollingFeed(
        CcxtSource("binance", Credentials(), url=url, policy=Retry(attempts=2, base_delay=0.01)),
        PAIRS,
        "1h",
        clock=clock,
        poll_seconds=0.01,
    )
    warmup = feed.start(None, 10)
    assert warmup[-1].time == dt.datetime(2024, 1, 2, 4, tzinfo=dt.UTC)  # 05:00 is not complete
    fake.fail(Response(503, b"busy"), when=lambda seen: seen.path == "/api/v3/klines", times=None)
    clock.time = dt.datetime(2024, 1, 2, 7, 1, tzinfo=dt.UTC)
    assert feed.next(0.1) is None  # the outage delays, it does not stop
    fake.clear_faults()
    bars = [feed.next(2.0), feed.next(2.0)]
    assert [b.time.hour for b in bars if b is not None] == [5, 6]
    row = hourly[(hourly["timestamp"] == pd.Timestamp("2024-01-02 06:00", tz="UTC"))]
    closes = row.set_index("symbol").loc[list(PAIRS), "close"].to_numpy()
    np.testing.assert_allclose(bars[1].field("close"), closes)  # type: ignore[union-attr]
