"""The ccxt source through ccxt's `binance` against a local Binance spot API."""

from __future__ import annotations

import datetime as dt
import sys
import time
from typing import Any

import ccxt
import numpy as np
import pandas as pd
import pytest

from kubetrade_testing.fakes.binance import TOO_MANY, BinanceFake
from kubetrade_testing.fakes.server import json_response
from kubetrade_testing.market_data import HOURLY_END, PAIRS, START, truth
from kubetrade_workloads.config import SourceConfig
from kubetrade_workloads.data.sources import Credentials, SourceError, get_source
from kubetrade_workloads.data.sources.ccxt import CcxtSource
from kubetrade_workloads.data.sources.retry import Retry

END = dt.date(2024, 7, 1)
QUICK = Retry(attempts=3, base_delay=0.01)  # tests need not wait like production


def _expected(interval: str, symbols: tuple[str, ...] = PAIRS) -> pd.DataFrame:
    frame = truth(PAIRS, interval, START, HOURLY_END if interval == "1h" else END)
    return frame[frame["symbol"].isin(symbols)].reset_index(drop=True)


def _klines(fake: BinanceFake) -> list[dict[str, str]]:
    return [r.query for r in fake.requests if r.path == "/api/v3/klines"]


class ThrottleClock:
    """ccxt's clock, as its throttle reads it: time stands still except when ccxt
    sleeps, and a sleep moves it on instead of waiting. The gaps between requests
    are then exactly what the throttle chose, whatever the machine's load does to
    wall time (measured at the server, a 44 ms gap against a 45 ms bound failed
    3 runs of 11), and without the throttle they would be 0."""

    def __init__(self) -> None:
        self.now_ns = time.time_ns()
        self.naps: list[float] = []

    def time_ns(self) -> int:
        return self.now_ns

    def time(self) -> float:
        return self.now_ns / 1e9

    def sleep(self, seconds: float) -> None:
        self.naps.append(seconds)
        self.now_ns += round(seconds * 1e9)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)  # the rest of the time module, unchanged


def test_pages_are_walked_by_since_within_the_rate_limit(
    binance: tuple[BinanceFake, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, url = binance
    fake.page_cap = 50  # Binance allows 1000 a page; fewer makes many pages
    clock = ThrottleClock()
    # The module whose `time` the throttle and `milliseconds()` read (ccxt loads lazily).
    monkeypatch.setattr(sys.modules[ccxt.Exchange.__module__], "time", clock)
    sent: list[tuple[str, int]] = []
    send = ccxt.Exchange.fetch

    def fetch(self: Any, url: str, *args: Any, **kwargs: Any) -> Any:
        # When the throttle let this request go, by ccxt's clock.
        sent.append((url, self.lastRestRequestTimestamp))
        return send(self, url, *args, **kwargs)

    monkeypatch.setattr(ccxt.Exchange, "fetch", fetch)
    source = get_source(
        SourceConfig(type="ccxt", exchange="binance", symbols=list(PAIRS), uri=url), Credentials()
    )
    bars = source.fetch(list(PAIRS), "1d", START, END)
    pd.testing.assert_frame_equal(bars, _expected("1d"), rtol=1e-8)
    btc = [q for q in _klines(fake) if q["symbol"] == "BTCUSDT"]
    starts = [int(q["startTime"]) for q in btc]
    assert len(btc) >= 182 // 50 and starts == sorted(starts) and starts[0] == 1704067200000
    assert all(q["interval"] == "1d" for q in btc)
    pages = [at for sent_to, at in sent if "/api/v3/klines" in sent_to]
    assert len(pages) == len(_klines(fake)) > 1
    # binance's rateLimit is 50 ms per unit of weight and ccxt weighs a page of
    # klines 0.4 (Binance counts it 2 of 6000 a minute): 20 ms between pages.
    assert min(np.diff(pages)) >= 0.4 * 50


def test_hourly_bars(binance: tuple[BinanceFake, str]) -> None:
    _, url = binance
    bars = CcxtSource("binance", Credentials(), url=url).fetch(
        ["ETH/USDT"], "1h", START, HOURLY_END
    )
    pd.testing.assert_frame_equal(bars, _expected("1h", ("ETH/USDT",)), rtol=1e-8)
    assert len(bars) == 31 * 24


def test_a_gap_longer_than_a_page_does_not_end_the_walk(binance: tuple[BinanceFake, str]) -> None:
    fake, url = binance
    fake.page_cap = 20
    daily = fake.bars["1d"]
    outage = (daily["timestamp"] >= "2024-02-01") & (daily["timestamp"] < "2024-04-01")
    fake.bars["1d"] = daily[~outage]
    bars = CcxtSource("binance", Credentials(), url=url).fetch(["BTC/USDT"], "1d", START, END)
    expected = _expected("1d", ("BTC/USDT",))
    keep = (expected["timestamp"] < "2024-02-01") | (expected["timestamp"] >= "2024-04-01")
    pd.testing.assert_frame_equal(bars, expected[keep].reset_index(drop=True), rtol=1e-8)


def test_too_many_requests_is_retried(binance: tuple[BinanceFake, str]) -> None:
    fake, url = binance
    fake.fail(
        json_response(TOO_MANY, 429, {"Retry-After": "1"}),
        when=lambda r: r.path == "/api/v3/klines",
    )
    bars = CcxtSource("binance", Credentials(), url=url, policy=QUICK).fetch(
        ["BTC/USDT"], "1d", START, END
    )
    pd.testing.assert_frame_equal(bars, _expected("1d", ("BTC/USDT",)), rtol=1e-8)
    assert _klines(fake)[0] == _klines(fake)[1]  # the refused page, asked again


def test_a_page_that_keeps_failing_fails_the_fetch(binance: tuple[BinanceFake, str]) -> None:
    fake, url = binance
    fake.page_cap = 50
    second_page = lambda r: r.path == "/api/v3/klines" and int(r.query["startTime"]) > 1704067200000  # noqa: E731
    fake.fail(
        json_response({"code": -1000, "msg": "An unknown error occurred."}, 500),
        when=second_page,
        times=None,
    )
    source = CcxtSource("binance", Credentials(), url=url, policy=QUICK)
    with pytest.raises(
        SourceError,
        match=r"ccxt:binance: BTC/USDT page 2 \(from 2024-02-20T00:00:00\+00:00\) failed after 3 attempts: .*An unknown error",
    ):
        source.fetch(list(PAIRS), "1d", START, END)


def test_unknown_symbols_and_timeframes_are_named(binance: tuple[BinanceFake, str]) -> None:
    _, url = binance
    source = CcxtSource("binance", Credentials(), url=url, policy=QUICK)
    with pytest.raises(SourceError, match="ccxt:binance: unknown symbol DOGE/USDT"):
        source.fetch(["BTC/USDT", "DOGE/USDT"], "1d", START, END)
    with pytest.raises(
        SourceError, match=r"ccxt:binance: no bars for BTC/USDT in \[2030-01-01, 2030-01-05\)"
    ):
        source.fetch(["BTC/USDT"], "1d", dt.date(2030, 1, 1), dt.date(2030, 1, 5))
