"""Bars as they arrive, and the window of recent bars the strategy reads.

A live feed hands out one `Bar` (every symbol at one timestamp) at a time. The
trader appends it to a `BarBuffer`, which keeps the last bars as arrays and
gives the strategy a `History` ending at the newest bar, so the strategy sees
in live trading exactly what it sees in a backtest.

A model trained on a Dataset also reads that Dataset's feature columns. A
replay of the Dataset carries them on every bar; on feeds of prices only the
buffer makes them from its own recent bars with `LiveFeatures`, the Dataset's
kernels and normalisation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pandas as pd

from ...market.history import FIELDS, FloatArray, History
from ...market.policy import MissingFeaturesError

if TYPE_CHECKING:  # TA-Lib loads only in traders whose model reads features
    from ...data.features.live import LiveFeatures


@dataclass(frozen=True)
class Bar:
    """OHLCV of every symbol at one bar time; NaN where a symbol has no bar."""

    time: dt.datetime
    """The bar's label (its start; daily bars at 00:00 UTC of the session), UTC."""
    values: FloatArray
    """Shape [5, symbols]: open, high, low, close, volume."""
    received: float = 0.0
    """time.perf_counter() when the bar reached the trader: decision latency starts here."""
    features: Mapping[str, FloatArray] = field(default_factory=dict)
    """Feature columns by name, each aligned with the symbols (a Dataset replay's)."""

    def field(self, name: str) -> FloatArray:
        """One of open, high, low, close, volume, aligned with the feed's symbols."""
        row: FloatArray = self.values[FIELDS.index(name)]
        return row


class LiveFeed(Protocol):
    """Market data for the trader, one bar at a time."""

    symbols: tuple[str, ...]
    features: tuple[str, ...]
    """Feature columns every bar carries (none on feeds of prices only)."""

    def start(self, after: dt.datetime | None, warmup: int) -> list[Bar]:
        """Position the stream: the next bar is the first one after `after` (after the
        warm-up when None). Return up to `warmup` bars before it, oldest first."""
        ...

    def next(self, timeout: float) -> Bar | None:
        """The next complete bar, or None if none arrives within `timeout` seconds."""
        ...

    @property
    def exhausted(self) -> bool:
        """True once a finite feed (replay) has handed out its last bar."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def bars_of(history: History, index: int, received: float) -> Bar:
    """Bar `index` of a history."""
    values = np.stack([getattr(history, f)[index] for f in FIELDS])
    stamp = pd.Timestamp(history.times[index]).tz_localize("UTC").to_pydatetime()
    features = {name: column[index] for name, column in history.features.items()}
    return Bar(stamp, values, received, features)


@dataclass
class BarBuffer:
    """The last `capacity` bars as arrays; `window` is a History view over them.

    With `features`, each bar keeps those columns too: the ones the bar carries,
    or else rows `maker` makes from the bars before it.
    """

    symbols: tuple[str, ...]
    capacity: int = 512
    features: tuple[str, ...] = ()
    maker: LiveFeatures | None = None
    _times: np.ndarray = field(init=False)
    _values: np.ndarray = field(init=False)
    _features: np.ndarray = field(init=False)
    _seen: np.ndarray = field(init=False)
    _size: int = 0
    _pending: int = 0
    """The newest bars whose features are still to be made."""

    def __post_init__(self) -> None:
        if self.maker is not None and self.maker.names != self.features:
            raise ValueError("the feature maker must make exactly the buffer's features")
        if self.maker is not None and self.capacity < self.maker.span:
            raise ValueError(f"a buffer that makes features keeps >= {self.maker.span} bars")
        # Twice the capacity, so shifting back happens once every `capacity` bars.
        n, k = 2 * self.capacity, len(self.symbols)
        self._times = np.zeros(n, dtype="datetime64[ns]")
        self._values = np.zeros((len(FIELDS), n, k))
        self._features = np.full((len(self.features), n, k), np.nan)
        self._seen = np.zeros((n, k), dtype=bool)

    def __len__(self) -> int:
        return self._size

    def extend(self, bars: Sequence[Bar]) -> None:
        """Append `bars` (the warm-up), oldest first."""
        for bar in bars:
            self._push(bar)
        self._make()

    def append(self, bar: Bar) -> None:
        """Add a bar; a symbol without one keeps its last prices with zero volume."""
        self._push(bar)
        self._make()

    def _push(self, bar: Bar) -> None:
        """Store the bar and the features it carries; count it pending if it lacks some."""
        if self._size == len(self._times):
            keep = self.capacity
            self._times[:keep] = self._times[self._size - keep : self._size]
            self._values[:, :keep] = self._values[:, self._size - keep : self._size]
            self._features[:, :keep] = self._features[:, self._size - keep : self._size]
            self._seen[:keep] = self._seen[self._size - keep : self._size]
            self._size = keep
        i = self._size
        values = bar.values
        present = ~np.isnan(values[FIELDS.index("close")])
        if i > 0:
            carried = self._values[:, i - 1].copy()
            carried[FIELDS.index("volume")] = 0.0
            values = np.where(present, values, carried)
            self._seen[i] = self._seen[i - 1] | present
        else:
            values = np.nan_to_num(values, nan=0.0)
            self._seen[i] = present
        self._times[i] = np.datetime64(bar.time.replace(tzinfo=None), "ns")
        self._values[:, i] = values
        self._size += 1
        missing = [name for name in self.features if name not in bar.features]
        if not missing:
            for j, name in enumerate(self.features):
                self._features[j, i] = bar.features[name]
        elif self.maker is None:
            raise MissingFeaturesError(missing)
        else:
            self._pending += 1

    def _make(self) -> None:
        """Make the features of the pending bars from the bars up to each of them."""
        count, self._pending = min(self._pending, self._size), 0
        if count == 0 or self.maker is None:
            return
        made = self.maker.latest(self.window(count + self.maker.span), count)
        self._features[:, self._size - count : self._size] = made

    def refeatured(
        self, features: tuple[str, ...], maker: LiveFeatures | None, capacity: int
    ) -> BarBuffer:
        """The same bars in a buffer keeping `features` (another model's): copied where
        this buffer holds them, all made again by `maker` when there is one."""
        out = BarBuffer(self.symbols, max(capacity, self.capacity), features, maker)
        n = self._size
        out._times[:n] = self._times[:n]
        out._values[:, :n] = self._values[:, :n]
        out._seen[:n] = self._seen[:n]
        out._size = n
        for j, name in enumerate(features):
            if name in self.features:
                out._features[j, :n] = self._features[self.features.index(name), :n]
        if maker is not None:
            out._pending = n
            out._make()
        return out

    def window(self, lookback: int = 0) -> History:
        """The last `lookback` bars (all kept bars when 0), newest last."""
        stop = self._size
        start = max(0, stop - lookback) if lookback > 0 else max(0, stop - self.capacity)
        fields = {f: self._values[j, start:stop] for j, f in enumerate(FIELDS)}
        features = {n: self._features[j, start:stop] for j, n in enumerate(self.features)}
        return History(
            self._times[start:stop], self.symbols, fields, self._seen[start:stop], features
        )

    def last(self, name: str = "close") -> FloatArray:
        """The newest bar's `name` per symbol (carried forward where missing)."""
        row: FloatArray = self._values[FIELDS.index(name), self._size - 1]
        return row

    def tradeable(self) -> np.ndarray:
        """Symbols that have had a bar."""
        out: np.ndarray = self._seen[self._size - 1]
        return out


def aligned(frame: pd.DataFrame, symbols: Sequence[str]) -> History:
    """A canonical bar frame as a History over exactly `symbols`."""
    return History.from_frame(frame, symbols=list(symbols))
