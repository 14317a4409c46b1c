"""The live snapshot and heartbeat in Redis, when a Redis URL is configured.

Keys, per session: `kubetrade:trader:<session>:snapshot` (the status JSON,
plus session, bar time and why the state is not ACTIVE) and
`kubetrade:trader:<session>:heartbeat` (ISO time), both expiring after `ttl`
seconds so a dead trader's snapshot does not linger; every snapshot is also
published on the channel `kubetrade:trader:<session>:updates`.
"""

from __future__ import annotations

import json
import logging

import redis

from .snapshot import Snapshot, iso_utc

log = logging.getLogger(__name__)
REDIS_URL_ENV = "KUBETRADE_REDIS_URL"


def prefix(session_id: str) -> str:
    """The key prefix of one session."""
    return f"kubetrade:trader:{session_id}"


class RedisCache:
    """Writes snapshots and heartbeats; errors are logged, not raised."""

    def __init__(self, url: str, session_id: str, *, ttl: int = 60) -> None:
        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._prefix = prefix(session_id)
        self._ttl = ttl

    def __call__(self, snapshot: Snapshot) -> None:
        """Store `snapshot` and its heartbeat; publish it."""
        body = json.dumps(snapshot.cache(), separators=(",", ":"))
        beat = iso_utc(snapshot.heartbeat)
        try:
            pipe = self._redis.pipeline(transaction=False)
            pipe.set(f"{self._prefix}:snapshot", body, ex=self._ttl)
            pipe.set(f"{self._prefix}:heartbeat", beat, ex=self._ttl)
            pipe.publish(f"{self._prefix}:updates", body)
            pipe.execute()
        except redis.RedisError as err:
            log.warning("redis snapshot failed: %s", err)

    def close(self) -> None:
        """Close the connection pool."""
        self._redis.close()
