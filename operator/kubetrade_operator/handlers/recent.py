"""The statuses this process wrote last, until the watch catches up with them.

kopf's indexes follow the watch, and the watch lags behind our own writes while
events queue up. A reconcile started by a Job event then reads its owner's
status as it was before our last patch, finds it differs from the desired one
and patches the same status again, which makes one more event to process: at
1000 Datasets in flight that was five status patches per Dataset instead of
one. Remembering what we wrote, with the resourceVersion the API server gave
it, lets a reconcile work from the newer of the two.

A resource is also reconciled from two places at once: its own events and its
Job's (kopf runs one worker per object, and the Job is another object). Both
would compute the same status from the same stale view and both patch it, so
reconciles of one resource take turns (`turn`), and the second starts from
what the first wrote.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

LIMIT = 20_000
"""Entries kept at most (one per object whose newest status the watch has not
shown yet); the oldest go first."""


def _version(resource_version: str | None) -> int | None:
    # resourceVersions are opaque by contract; the API server's etcd storage
    # makes them increasing integers. Anything else turns the cache off, and
    # reconciles compare with the index as they would without it.
    try:
        return int(resource_version) if resource_version else None
    except ValueError:
        return None


class RecentWrites:
    """Status written per object UID, dropped once the watch delivers it."""

    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self._items: OrderedDict[str, tuple[int, dict[str, Any]]] = OrderedDict()
        self._turns: dict[str, tuple[asyncio.Lock, int]] = {}

    def __len__(self) -> int:
        return len(self._items)

    def freshest(
        self, uid: str, resource_version: str | None, seen: dict[str, Any]
    ) -> dict[str, Any]:
        """The status `seen` at `resource_version`, or the newer one we wrote."""
        mine = self._items.get(uid)
        if mine is None:
            return seen
        version = _version(resource_version)
        if version is None or version >= mine[0]:
            del self._items[uid]  # the watch has caught up (or we cannot tell)
            return seen
        return mine[1]

    def remember(self, uid: str, resource_version: str | None, status: dict[str, Any]) -> None:
        """Record the status the API server answered our patch with."""
        version = _version(resource_version)
        if version is None:
            return
        # A Job event and the resource's own event can reconcile it at once, and
        # their answers can arrive in either order: keep the newer.
        held = self._items.get(uid)
        if held is not None and held[0] >= version:
            return
        self._items[uid] = (version, status)
        self._items.move_to_end(uid)
        while len(self._items) > self.limit:
            self._items.popitem(last=False)

    @asynccontextmanager
    async def turn(self, uid: str) -> AsyncIterator[None]:
        """Hold the object's turn: one reconcile of it at a time in this process."""
        lock, users = self._turns.get(uid, (asyncio.Lock(), 0))
        self._turns[uid] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._turns[uid]
            if users == 1:
                del self._turns[uid]
            else:
                self._turns[uid] = (lock, users - 1)

    def forget(self, uid: str) -> None:
        """The object is gone."""
        self._items.pop(uid, None)


RECENT = RecentWrites()
