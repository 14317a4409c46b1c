"""The ccxt source through ccxt's `binance` against a local Binance spot API."""

from __future__ import annotations

import datetime as dt

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


def test_pages_are_walked_by_since_within_the_rate_limit(binance: tuple[BinanceFake, str]) -> None:
    fake, url = binance
    fake.page_cap = 50  # Binance allows 1000 a page; fewer makes many pages
    source = get_source(
        SourceConfig(type="ccxt", exchange="binance", symbols=list(PAIRS), uri=url), Credentials()
    )
    bars = source.fetch(list(PAIRS), "1d", START, END)
    pd.testing.assert_frame_equal(bars, _expected("1d"), rtol=1e-8)
    btc = [q for q in _klines(fake) if q["symbol"] == "BTCUSDT"]
    starts = [int(q["startTime"]) for q in btc]
    assert len(btc) >= 182 // 50 and starts == sorted(starts) and starts[0] == 1704067200000
    assert all(q["interval"] == "1d" for q in btc)
    times = [r.at for r in fake.requests if r.path == "/api/v3/klines"]
    assert min(np.diff(times)) >= 0.9 * 50 / 1000  # binance's rateLimit is 50 ms


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
