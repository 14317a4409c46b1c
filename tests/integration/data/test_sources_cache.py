"""The Redis bar cache against a real redis-server: re-collecting does not refetch."""

from __future__ import annotations

import datetime as dt
import logging

import pandas as pd
import pytest
import redis

from kubetrade_testing.fakes.alpaca import AlpacaFake
from kubetrade_testing.market_data import EQUITIES, START
from kubetrade_workloads.config import DataConfig, DataJob, OwnerRef, SourceConfig
from kubetrade_workloads.config.data import CacheConfig
from kubetrade_workloads.data import job
from kubetrade_workloads.data.cache import PREFIX, CachedSource, cached
from kubetrade_workloads.data.sources import Credentials, get_source

CREDS = Credentials({"apiKey": "AKTESTKEY", "apiSecret": "test-secret"})
END = dt.date(2024, 3, 1)
ON = CacheConfig(enabled=True, ttl_seconds=600)


def _cached_alpaca(url: str, redis_url: str | None) -> CachedSource:
    source = cached(get_source(SourceConfig(type="alpaca", uri=url), CREDS), ON, redis_url)
    assert isinstance(source, CachedSource)
    return source


def test_the_second_fetch_is_served_from_redis_with_a_ttl(
    alpaca: tuple[AlpacaFake, str], redis_url: str
) -> None:
    fake, url = alpaca
    first = _cached_alpaca(url, redis_url).fetch(list(EQUITIES), "1d", START, END)
    fetched = fake.count("/v2/stocks/bars")
    assert fetched >= 1
    again = _cached_alpaca(url, redis_url).fetch(list(EQUITIES), "1d", START, END)
    assert fake.count("/v2/stocks/bars") == fetched  # nothing asked of the service
    pd.testing.assert_frame_equal(again, first)
    client = redis.Redis.from_url(redis_url)
    keys = sorted(k.decode() for k in client.scan_iter(f"{PREFIX}:*"))
    identity = "alpaca|feed=default|adjustment=all|" + url
    assert keys == [f"{PREFIX}:{identity}:{s}:1d:2024-01-01:2024-03-01" for s in sorted(EQUITIES)]
    assert all(0 < client.ttl(k) <= 600 for k in keys)


def test_only_missing_symbols_are_fetched(alpaca: tuple[AlpacaFake, str], redis_url: str) -> None:
    fake, url = alpaca
    _cached_alpaca(url, redis_url).fetch(["AAPL"], "1d", START, END)
    both = _cached_alpaca(url, redis_url).fetch(["AAPL", "MSFT"], "1d", START, END)
    asked = [
        r.query["symbols"]
        for r in fake.requests
        if r.path == "/v2/stocks/bars" and not r.query.get("page_token")
    ]
    assert asked == ["AAPL", "MSFT"]
    assert set(both["symbol"]) == {"AAPL", "MSFT"}
    assert both.equals(both.sort_values(["timestamp", "symbol"], ignore_index=True))
    other_range = _cached_alpaca(url, redis_url).fetch(["AAPL"], "1d", START, dt.date(2024, 2, 1))
    assert other_range["timestamp"].max() < pd.Timestamp("2024-02-01", tz="UTC")  # its own key


def test_an_unreachable_redis_only_costs_the_cache(
    alpaca: tuple[AlpacaFake, str], caplog: pytest.LogCaptureFixture
) -> None:
    fake, url = alpaca
    with caplog.at_level(logging.WARNING, logger="kubetrade_workloads.data.cache"):
        bars = _cached_alpaca(url, "redis://127.0.0.1:1/0").fetch(["AAPL"], "1d", START, END)
    assert not bars.empty and fake.count("/v2/stocks/bars") >= 1
    assert "bar cache unavailable" in caplog.text


def test_nothing_is_cached_unless_enabled_and_worth_it(
    alpaca: tuple[AlpacaFake, str], redis_url: str
) -> None:
    _, url = alpaca
    alpaca_source = get_source(SourceConfig(type="alpaca", uri=url), CREDS)
    assert cached(alpaca_source, CacheConfig(), redis_url) is alpaca_source
    assert cached(alpaca_source, ON, None) is alpaca_source
    synthetic = get_source(SourceConfig())
    assert cached(synthetic, ON, redis_url) is synthetic  # generating beats a round trip


def test_the_data_job_recollects_from_the_cache(
    alpaca: tuple[AlpacaFake, str], redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, url = alpaca
    monkeypatch.setenv("KUBETRADE_API_KEY", "AKTESTKEY")
    monkeypatch.setenv("KUBETRADE_API_SECRET", "test-secret")
    monkeypatch.setenv("KUBETRADE_REDIS_URL", redis_url)
    monkeypatch.setenv("KUBETRADE_CREDENTIALS_DIR", "/nonexistent")
    source = {
        "type": "alpaca",
        "uri": url,
        "symbols": list(EQUITIES),
        "start": "2024-01-01",
        "end": "2024-03-01",
    }
    work = DataJob(
        owner=OwnerRef(api_version="v1", kind="Dataset", name="d", namespace="n", uid="u"),
        output_uri="memory:///unused",
        data=DataConfig.model_validate(
            {"source": source, "cache": {"enabled": True, "ttlSeconds": 60}}
        ),
    )
    first = job.load_bars(work)
    fetched = fake.count("/v2/stocks/bars")
    pd.testing.assert_frame_equal(job.load_bars(work), first)
    assert fake.count("/v2/stocks/bars") == fetched
