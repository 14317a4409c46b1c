"""The statuses this process wrote last, until the watch catches up with them.

kopf's indexes follow the watch, and the watch lags behind our own writes while
events queue up. A reconcile started by a Job event then reads its owner's
status as it was before our last patch, finds it differs from the desired one
and patches the same status again, which makes one more event to process: at
1000 Datasets in flight that was five status patches per Dataset instead of
one. Remembering what we wrote, with the resourceVersion the API server gave
it, lets a reconcile work from the newer of the two.
"""

from __future__ import annotations

from collections import OrderedDict
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
        self._items[uid] = (version, status)
        self._items.move_to_end(uid)
        while len(self._items) > self.limit:
            self._items.popitem(last=False)

    def forget(self, uid: str) -> None:
        """The object is gone."""
        self._items.pop(uid, None)


RECENT = RecentWrites()
