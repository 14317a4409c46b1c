"""Fan the trader's snapshots out without slowing the trading loop.

The loop hands each snapshot to `Publisher.offer` and moves on; a background
thread keeps only the newest and passes it to each sink: the Redis cache at
once, the TradingSession status at most every `status_every` seconds (the
API server is not a time-series database). A failing sink is logged, never
raised into the loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from .. import owner_status
from ..config.jobs import OwnerRef
from .snapshot import Snapshot

log = logging.getLogger(__name__)
Sink = Callable[[Snapshot], None]


class Publisher:
    """Latest-wins delivery of snapshots to sinks, on one thread."""

    def __init__(
        self, sinks: list[Sink], *, status: Sink | None = None, status_every: float = 2.0
    ) -> None:
        self._sinks = sinks
        self._status = status
        self._every = status_every
        self._latest: Snapshot | None = None
        self._pending_status: Snapshot | None = None
        self._last_status = 0.0
        self._wake = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._loop, name="publisher", daemon=True)
        self._thread.start()

    def offer(self, snapshot: Snapshot) -> None:
        """Hand over a snapshot; returns at once."""
        with self._wake:
            self._latest = snapshot
            self._wake.notify()

    def _loop(self) -> None:
        while True:
            with self._wake:
                while self._latest is None and not self._stop and not self._status_due():
                    self._wake.wait(timeout=self._wait())
                snapshot, self._latest = self._latest, None
                stopping = self._stop
            if snapshot is not None:
                for sink in self._sinks:
                    self._deliver(sink, snapshot)
                self._pending_status = snapshot
            if self._pending_status is not None and (self._status_due() or stopping):
                if self._status is not None:
                    self._deliver(self._status, self._pending_status)
                self._pending_status, self._last_status = None, time.monotonic()
            if stopping:
                return

    def _status_due(self) -> bool:
        return (
            self._pending_status is not None and time.monotonic() - self._last_status >= self._every
        )

    def _wait(self) -> float | None:
        if self._pending_status is None:
            return None
        return max(self._every - (time.monotonic() - self._last_status), 0.01)

    @staticmethod
    def _deliver(sink: Sink, snapshot: Snapshot) -> None:
        try:
            sink(snapshot)
        except Exception as err:  # noqa: BLE001 - publishing must never stop trading
            log.warning("publishing a snapshot failed: %s", err)

    def close(self) -> None:
        """Deliver what is pending (the status too), then stop."""
        with self._wake:
            self._stop = True
            self._wake.notify()
        self._thread.join(timeout=10)


def status_sink(owner: OwnerRef) -> Sink:
    """Merge-patch the snapshot into the owner TradingSession's status, through one
    client kept for the publisher's thread (a report every 2 s need not reconnect)."""
    kube: Any = None

    def report(snapshot: Snapshot) -> None:
        nonlocal kube
        if kube is None:
            kube = owner_status.client()
        owner_status.report(owner, snapshot.status(), kube)

    return report
