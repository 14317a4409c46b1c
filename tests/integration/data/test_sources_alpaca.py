"""The alpaca source through alpaca-py against a local Alpaca data API."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from kubetrade_testing.fakes.alpaca import AlpacaFake
from kubetrade_testing.fakes.server import Response, json_response
from kubetrade_testing.market_data import EQUITIES, HOURLY_END, START, truth
from kubetrade_workloads.config import SourceConfig
from kubetrade_workloads.data.sources import Credentials, Source, SourceError, get_source
from kubetrade_workloads.data.sources.alpaca import AlpacaSource
from kubetrade_workloads.data.sources.retry import Retry

CREDS = Credentials({"apiKey": "AKTESTKEY", "apiSecret": "test-secret"})
END = dt.date(2024, 4, 1)
JSON = {"Content-Type": "application/json"}


def _source(url: str, creds: Credentials = CREDS, feed: str | None = None) -> Source:
    return get_source(
        SourceConfig(type="alpaca", symbols=list(EQUITIES), uri=url, feed=feed), creds
    )


def _expected(interval: str, end: dt.date) -> pd.DataFrame:
    frame = truth(
        EQUITIES, interval, START, HOURLY_END if interval == "1h" else dt.date(2024, 7, 1)
    )
    return frame[frame["timestamp"] < pd.Timestamp(end, tz="UTC")].reset_index(drop=True)


def test_daily_bars_arrive_complete_over_many_pages(alpaca: tuple[AlpacaFake, str]) -> None:
    fake, url = alpaca
    fake.split("AAPL", dt.date(2024, 2, 15), 4.0)  # raw prices differ before the split
    bars = _source(url, feed="sip").fetch(list(EQUITIES), "1d", START, END)
    pd.testing.assert_frame_equal(bars, _expected("1d", END))
    pages = [r for r in fake.requests if r.path == "/v2/stocks/bars"]
    assert len(pages) == -(-len(bars) // fake.page_size) > 1
    assert [bool(p.query.get("page_token")) for p in pages] == [False] + [True] * (len(pages) - 1)
    first = pages[0]
    assert (
        first.headers["apca-api-key-id"] == "AKTESTKEY"
        and first.headers["apca-api-secret-key"] == "test-secret"
    )
    assert (
        first.query["adjustment"] == "all"
        and first.query["feed"] == "sip"
        and first.query["timeframe"] == "1Day"
    )
    assert first.query["symbols"] == "AAPL,MSFT" and first.query["start"].startswith(
        "2024-01-01T00:00:00"
    )


def test_hourly_bars_keep_their_clock_labels(alpaca: tuple[AlpacaFake, str]) -> None:
    fake, url = alpaca
    hourly = fake.bars["1h"]
    premarket = hourly.iloc[[0]].assign(timestamp=pd.Timestamp("2024-01-02T13:00:00Z"))  # 08:00 NY
    fake.bars["1h"] = pd.concat([premarket, hourly], ignore_index=True)
    bars = _source(url).fetch(list(EQUITIES), "1h", START, HOURLY_END)
    pd.testing.assert_frame_equal(bars, _expected("1h", HOURLY_END))
    local = bars["timestamp"].dt.tz_convert("America/New_York")
    assert set(local.dt.minute) == {0} and local.dt.hour.min() == 9  # the 08:00 bar is dropped


@pytest.mark.timeout(60)
def test_a_rate_limit_is_waited_out(alpaca: tuple[AlpacaFake, str]) -> None:
    fake, url = alpaca
    fake.fail(
        json_response({"code": 42910000, "message": "rate limit exceeded"}, 429),
        when=lambda r: bool(r.query.get("page_token")),
    )
    bars = _source(url).fetch(list(EQUITIES), "1d", START, END)  # alpaca-py waits 3 s, then retries
    pd.testing.assert_frame_equal(bars, _expected("1d", END))
    assert (
        fake.count("/v2/stocks/bars") == -(-len(bars) // fake.page_size) + 1
    )  # one page asked twice


def test_a_connection_broken_mid_page_is_retried(alpaca: tuple[AlpacaFake, str]) -> None:
    fake, url = alpaca
    # A page whose transfer breaks halfway: Content-Length promises more than arrives.
    broken = Response(200, b'{"bars": {}, "next_page_token": null}' * 8, JSON, cut_after=40)
    fake.fail(broken, when=lambda r: bool(r.query.get("page_token")))
    source = AlpacaSource(CREDS, url=url, retry=Retry(attempts=3, base_delay=0.01))
    bars = source.fetch(list(EQUITIES), "1d", START, END)  # the chunk is asked again
    pd.testing.assert_frame_equal(bars, _expected("1d", END))
    pages = -(-len(bars) // fake.page_size)
    assert fake.count("/v2/stocks/bars") == 2 + pages  # pages 1 and 2 (cut), then all again
    fake.fail(broken, when=lambda r: bool(r.query.get("page_token")), times=None)
    with pytest.raises(SourceError, match="failed after 3 attempts: .*Connection broken"):
        source.fetch(list(EQUITIES), "1d", START, END)


def test_a_failed_page_fails_the_whole_fetch(alpaca: tuple[AlpacaFake, str]) -> None:
    fake, url = alpaca
    fake.fail(
        json_response({"code": 50010000, "message": "internal server error"}, 500),
        when=lambda r: bool(r.query.get("page_token")),
        times=None,
    )
    with pytest.raises(
        SourceError, match="alpaca: bars for AAPL, MSFT failed: HTTP 500: .*internal server error"
    ):
        _source(url).fetch(list(EQUITIES), "1d", START, END)


def test_unknown_symbols_and_bad_keys_are_named(alpaca: tuple[AlpacaFake, str]) -> None:
    _, url = alpaca
    with pytest.raises(SourceError, match="alpaca: no bars for symbol ZZZZ"):
        _source(url).fetch(["AAPL", "ZZZZ"], "1d", START, END)
    wrong = Credentials({"apiKey": "AKTESTKEY", "apiSecret": "wrong"})
    with pytest.raises(SourceError, match="alpaca: bars for AAPL failed: HTTP 401"):
        _source(url, wrong).fetch(["AAPL"], "1d", START, END)
