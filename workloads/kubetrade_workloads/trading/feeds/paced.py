"""Feeds over bars known in advance: the synthetic stream and a Dataset's replay.

Bars are handed out on a wall-clock beat (`bar_seconds` apart), so a paper
session on synthetic data runs like a live one, only faster. After a restart
the stream resumes with the first bar after the last one the trader finished.
"""

from __future__ import annotations

import datetime as dt
import time

import numpy as np

from ...market.history import History
from .base import Bar, bars_of


class PacedFeed:
    """Hands out the bars of a History one by one, `bar_seconds` apart."""

    def __init__(self, history: History, bar_seconds: float) -> None:
        self.symbols = history.symbols
        self.features = tuple(history.features)
        self.history = history
        self.bar_seconds = bar_seconds
        self._cursor = 0
        self._due = time.monotonic()

    def start(self, after: dt.datetime | None, warmup: int) -> list[Bar]:
        """Resume after `after`, or after the first `warmup` bars; return the bars before."""
        if after is None:
            first = min(warmup, len(self.history) - 1)
        else:
            stamp = np.datetime64(after.astimezone(dt.UTC).replace(tzinfo=None), "ns")
            first = int(np.searchsorted(self.history.times, stamp, side="right"))
        self._cursor = first
        self._due = time.monotonic()
        return [bars_of(self.history, i, 0.0) for i in range(max(0, first - warmup), first)]

    def next(self, timeout: float) -> Bar | None:
        """The next bar once its beat comes, or None after `timeout` seconds."""
        if self.exhausted:
            time.sleep(min(timeout, 0.05))
            return None
        wait = self._due - time.monotonic()
        if wait > timeout:
            time.sleep(timeout)
            return None
        if wait > 0:
            time.sleep(wait)
        bar = bars_of(self.history, self._cursor, time.perf_counter())
        self._cursor += 1
        self._due = max(self._due + self.bar_seconds, time.monotonic() - self.bar_seconds)
        return bar

    @property
    def exhausted(self) -> bool:
        """True after the last bar."""
        return self._cursor >= len(self.history)

    def close(self) -> None:
        """Nothing to release."""
