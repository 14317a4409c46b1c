"""Live bars from a market-data API, polled: Alpaca's bars or a ccxt exchange's OHLCV.

Each poll asks the data workload's source (the same client code that builds
Datasets) for the bars since the newest one seen; a bar is handed out once it
is complete (its interval has ended on the clock). A failed poll is logged and
retried on the next beat: a data outage delays decisions, it does not stop the
trader.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import deque

import numpy as np
import pandas as pd

from ...data.sources import calendar
from ...data.sources.base import Source, SourceError
from ...market.history import FIELDS, History
from ...market.ports import Clock
from .base import Bar, aligned

log = logging.getLogger(__name__)
STEP: dict[str, dt.timedelta] = {
    interval: dt.timedelta(minutes=m) for interval, m in calendar.MINUTES.items()
}


class WallClock:
    """The system clock, in UTC (implements `Clock`)."""

    def now(self) -> dt.datetime:
        """Now, timezone-aware UTC."""
        return dt.datetime.now(dt.UTC)


class PollingFeed:
    """Bars of `symbols` from `source`, polled every `poll_seconds`."""

    def __init__(
        self,
        source: Source,
        symbols: tuple[str, ...],
        interval: str,
        *,
        clock: Clock | None = None,
        poll_seconds: float = 5.0,
    ) -> None:
        self.symbols = symbols
        self.features: tuple[str, ...] = ()  # prices only: a model's features are made live
        self.interval = interval
        self._source = source
        self._clock = clock or WallClock()
        self._poll = poll_seconds
        self._step = STEP[interval]
        self._queue: deque[Bar] = deque()
        self._last: dt.datetime | None = None
        self._next_poll = 0.0

    def _fetch(self, since: dt.datetime) -> History | None:
        now = self._clock.now()
        try:
            frame = self._source.fetch(
                list(self.symbols), self.interval, since.date(), now.date() + dt.timedelta(days=1)
            )
        except SourceError as err:
            log.warning("market data poll failed, retrying next beat: %s", err)
            return None
        # Only complete bars: a bar whose interval has not ended may still change.
        done = frame[frame["timestamp"] + self._step <= pd.Timestamp(now)]
        done = done[done["symbol"].isin(self.symbols)]
        if done.empty:
            return None
        present = set(done["symbol"].astype(str))
        return aligned(done, [s for s in self.symbols if s in present])

    def start(self, after: dt.datetime | None, warmup: int) -> list[Bar]:
        """Warm up on the bars before now (or up to `after`), queue the ones after `after`."""
        now = self._clock.now()
        since = (after or now) - self._step * max(warmup, 1) * 2 - dt.timedelta(days=7)
        history = self._fetch(since)
        self._next_poll = time.monotonic() + self._poll
        if history is None:
            self._last = after
            return []
        stamps = pd.DatetimeIndex(history.times).tz_localize("UTC")
        cut = (
            len(stamps) if after is None else int(stamps.searchsorted(pd.Timestamp(after), "right"))
        )
        self._queue.extend(self._bars(history, cut, len(history)))
        self._last = stamps[-1].to_pydatetime()  # queued or warm-up, the newest bar seen
        return self._bars(history, max(0, cut - warmup), cut)

    def _bars(self, history: History, start: int, stop: int) -> list[Bar]:
        index = {s: j for j, s in enumerate(history.symbols)}
        out = []
        for i in range(start, stop):
            values = np.full((len(FIELDS), len(self.symbols)), np.nan)
            for j, symbol in enumerate(self.symbols):
                if symbol in index and history.tradeable[i, index[symbol]]:
                    values[:, j] = [getattr(history, f)[i, index[symbol]] for f in FIELDS]
            stamp = pd.Timestamp(history.times[i]).tz_localize("UTC").to_pydatetime()
            out.append(Bar(stamp, values))
        return out

    def next(self, timeout: float) -> Bar | None:
        """The next complete bar, polling when the beat comes; None after `timeout`."""
        deadline = time.monotonic() + timeout
        while not self._queue:
            if time.monotonic() >= self._next_poll:
                self._next_poll = time.monotonic() + self._poll
                self._poll_once()
                if self._queue:
                    break
            now = time.monotonic()
            if now >= deadline:
                return None
            time.sleep(max(min(self._next_poll, deadline) - now, 0.0))
        bar = self._queue.popleft()
        return Bar(bar.time, bar.values, time.perf_counter())

    def _poll_once(self) -> None:
        since = self._last or (self._clock.now() - self._step * 3)
        history = self._fetch(since)
        if history is None:
            return
        stamps = pd.DatetimeIndex(history.times).tz_localize("UTC")
        first = (
            0 if self._last is None else int(stamps.searchsorted(pd.Timestamp(self._last), "right"))
        )
        fresh = self._bars(history, first, len(history))
        if fresh:
            self._queue.extend(fresh)
            self._last = fresh[-1].time

    @property
    def exhausted(self) -> bool:
        """A live feed never ends."""
        return False

    def close(self) -> None:
        """Nothing to release."""
