"""Fetched bars cached in Redis, so re-collecting a dataset does not refetch them.

One entry per symbol, keyed by what decides its bars: the source's identity
(feed, adjustments, endpoint), the symbol, the interval and the day range; the
value is that symbol's bars as Parquet bytes, written with the Dataset's TTL.
The Redis URL comes from `KUBETRADE_REDIS_URL` or the `redisUrl` key of the
Dataset's credentials Secret. A cache never fails a run: when Redis cannot be
reached the bars are fetched from the source, with a warning.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Mapping, Sequence

import pandas as pd
import redis

from ..config.data import CacheConfig
from .sources import Source, finish, resolve_end

log = logging.getLogger(__name__)

PREFIX = "kubetrade:bars:v1"
URL_KEY = "redisUrl"


def cache_key(identity: str, symbol: str, interval: str, start: dt.date, end: dt.date) -> str:
    """The Redis key of one symbol's bars: readable, so `redis-cli --scan` explains itself."""
    return f"{PREFIX}:{identity}:{symbol}:{interval}:{start.isoformat()}:{end.isoformat()}"


class BarCache:
    """Per-symbol bar frames in Redis, written with a TTL."""

    def __init__(self, client: redis.Redis, ttl_seconds: int) -> None:
        self.client = client
        self.ttl_seconds = ttl_seconds

    @classmethod
    def from_url(cls, url: str, ttl_seconds: int) -> BarCache:
        """A cache on the Redis at `url` (redis://, rediss:// or unix://)."""
        client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        return cls(client, ttl_seconds)

    def load(self, keys: Mapping[str, str]) -> dict[str, pd.DataFrame]:
        """The cached frames among `keys` (symbol -> key); a Redis failure is a miss."""
        if not keys:
            return {}
        try:
            values = self.client.mget(list(keys.values()))
        except redis.RedisError as err:
            log.warning("bar cache unavailable, fetching from the source: %s", err)
            return {}
        found = {}
        for symbol, value in zip(keys, values, strict=True):
            if isinstance(value, bytes):
                found[symbol] = pd.read_parquet(io.BytesIO(value))
        return found

    def store(self, key: str, frame: pd.DataFrame) -> None:
        """Write one symbol's bars with the TTL; a Redis failure only warns."""
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False, compression="zstd")
        try:
            self.client.set(key, buffer.getvalue(), ex=self.ttl_seconds)
        except redis.RedisError as err:
            log.warning("bar cache unavailable, not caching %s: %s", key, err)


class CachedSource:
    """A source whose bars are read from the cache first and written after a fetch."""

    def __init__(self, source: Source, cache: BarCache) -> None:
        self.source = source
        self.cache = cache

    @property
    def name(self) -> str:
        """The wrapped source's name."""
        return self.source.name

    @property
    def cache_identity(self) -> str | None:
        """The wrapped source's identity."""
        return self.source.cache_identity

    def fetch(
        self, symbols: Sequence[str], interval: str, start: dt.date, end: dt.date | None
    ) -> pd.DataFrame:
        """Cached symbols from Redis, the others from the source (then cached)."""
        identity = self.source.cache_identity
        if identity is None:
            return self.source.fetch(symbols, interval, start, end)
        # An open end is pinned to today, so the key says which bars it holds.
        stop = resolve_end(end)
        keys = {s: cache_key(identity, s, interval, start, stop) for s in symbols}
        frames = self.cache.load(keys)
        parts = list(frames.values())
        missing = [s for s in symbols if s not in frames]
        log.info("bar cache: %d of %d symbols cached", len(frames), len(symbols))
        if missing:
            fresh = self.source.fetch(missing, interval, start, stop)
            for symbol, part in fresh.groupby("symbol", sort=False):
                self.cache.store(keys[str(symbol)], part.reset_index(drop=True))
            parts.append(fresh)
        merged = pd.concat(parts, ignore_index=True)
        return finish(merged, source=self.name, symbols=symbols, start=start, end=stop)


def cached(source: Source, config: CacheConfig, redis_url: str | None) -> Source:
    """`source` behind the bar cache when the config enables it and it is worth caching."""
    if not config.enabled or source.cache_identity is None:
        return source
    if not redis_url:
        log.warning(
            "cache.enabled is set but no Redis URL is configured (KUBETRADE_REDIS_URL or the "
            "credentials key %r); fetching without the cache",
            URL_KEY,
        )
        return source
    return CachedSource(source, BarCache.from_url(redis_url, config.ttl_seconds))
