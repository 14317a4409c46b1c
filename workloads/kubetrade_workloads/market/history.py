"""Bars as aligned arrays: what strategies read, in every mode.

A `History` holds one row per timestamp and one column per symbol (the wide
shape of `bars.wide`), as numpy arrays prepared once. A view up to a bar is a
slice of the same arrays, so handing a strategy "everything up to now" costs
microseconds and can never include a later bar.

Gaps: a symbol missing a bar inside its history has its last price carried
forward with zero volume (the data workload's forward fill does the same).
Before a symbol's first bar it is not tradeable: `tradeable` is False there and
its prices are back-filled only so that arithmetic on a zero position stays
finite.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from . import bars

FloatArray = np.ndarray[tuple[int, ...], np.dtype[np.float64]]
BoolArray = np.ndarray[tuple[int, ...], np.dtype[np.bool_]]
FIELDS = ("open", "high", "low", "close", "volume")
"""The per-symbol price fields of a bar, in the order arrays of bars stack them."""


class HistoryError(ValueError):
    """Bars that cannot be turned into a history; the message names the problem."""


class _Features(Mapping[str, FloatArray]):
    """Feature arrays sliced lazily, so a view does not copy fifty features per bar."""

    def __init__(self, full: Mapping[str, FloatArray], start: int, stop: int) -> None:
        self._full, self._start, self._stop = full, start, stop

    def __getitem__(self, name: str) -> FloatArray:
        return self._full[name][self._start : self._stop]

    def __iter__(self) -> Iterator[str]:
        return iter(self._full)

    def __len__(self) -> int:
        return len(self._full)


class History:
    """OHLCV (and optional feature) arrays of shape [bars, symbols], oldest first."""

    def __init__(
        self,
        times: np.ndarray,
        symbols: Sequence[str],
        fields: Mapping[str, FloatArray],
        tradeable: BoolArray | None = None,
        features: Mapping[str, FloatArray] | None = None,
        *,
        start: int = 0,
        stop: int | None = None,
    ) -> None:
        self._times = np.asarray(times, dtype="datetime64[ns]")
        self.symbols: tuple[str, ...] = tuple(symbols)
        self._fields = {k: np.asarray(fields[k], dtype=np.float64) for k in FIELDS}
        n = len(self._times)
        shape = (n, len(self.symbols))
        for name, arr in self._fields.items():
            if arr.shape != shape:
                raise HistoryError(f"{name} has shape {arr.shape}, expected {shape}")
        self._tradeable = (
            np.ones(shape, dtype=bool) if tradeable is None else np.asarray(tradeable, dtype=bool)
        )
        self._features = dict(features or {})
        self._start = start
        self._stop = n if stop is None else stop

    # -- construction -------------------------------------------------------------

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, symbols: Sequence[str] | None = None) -> History:
        """Build from a canonical long bar frame; extra numeric columns become features.

        Raises HistoryError for an empty frame, unknown symbols or a symbol with no
        price at all.
        """
        if frame.empty:
            raise HistoryError("no bars: the frame is empty")
        conformed = bars.conform(frame)
        extra = [
            c
            for c in frame.columns
            if c not in bars.COLUMNS and pd.api.types.is_numeric_dtype(frame[c])
        ]
        present = sorted(conformed["symbol"].unique().tolist())
        wanted = list(symbols) if symbols is not None else present
        unknown = sorted(set(wanted) - set(present))
        if unknown:
            raise HistoryError(f"symbols not in the bars: {unknown}")
        conformed = conformed[conformed["symbol"].isin(wanted)]
        if conformed.duplicated(["timestamp", "symbol"]).any():
            raise HistoryError("duplicate (timestamp, symbol) rows in the bars")
        index = pd.DatetimeIndex(conformed["timestamp"].drop_duplicates().sort_values())
        wides = {f: _wide(conformed, f, index, wanted) for f in FIELDS}
        has_price = ~np.isnan(wides["close"])
        empty = [s for j, s in enumerate(wanted) if not has_price[:, j].any()]
        if empty:
            raise HistoryError(f"symbols with no prices: {empty}")
        # Tradeable from a symbol's first bar on; gaps after it are carried forward.
        tradeable = np.maximum.accumulate(has_price, axis=0)
        fields = {f: _fill_prices(w) for f, w in wides.items() if f != "volume"}
        fields["volume"] = np.nan_to_num(wides["volume"], nan=0.0)
        features = {}
        if extra:
            with_extra = frame.assign(timestamp=pd.to_datetime(frame["timestamp"], utc=True))
            with_extra = with_extra[with_extra["symbol"].isin(wanted)]
            features = {c: _wide(with_extra, c, index, wanted) for c in extra}
        return cls(
            index.tz_convert("UTC").tz_localize(None).to_numpy(),
            wanted,
            fields,
            tradeable,
            features,
        )

    def frame(self) -> pd.DataFrame:
        """The canonical long bar frame of this view (what `DataFeed.history` returns)."""
        n, k = self.close.shape
        out = pd.DataFrame(
            {
                "timestamp": pd.DatetimeIndex(np.repeat(self.times, k)).tz_localize("UTC"),
                "symbol": np.tile(np.array(self.symbols, dtype=object), n),
            }
        )
        for name in FIELDS:
            out[name] = getattr(self, name).reshape(-1)
        return out

    # -- views -----------------------------------------------------------------

    def upto(self, index: int, lookback: int = 0) -> History:
        """The view ending at bar `index` (inclusive): never a later bar.

        `lookback` > 0 keeps only the last `lookback` bars; 0 keeps all.
        """
        stop = self._start + index + 1
        if index < 0 or stop > self._stop:
            raise IndexError(f"bar {index} outside a history of {len(self)} bars")
        start = max(self._start, stop - lookback) if lookback > 0 else self._start
        return self._view(start, stop)

    def between(self, start: int, stop: int) -> History:
        """Bars [start, stop) of this view."""
        return self._view(self._start + start, self._start + min(stop, len(self)))

    def _view(self, start: int, stop: int) -> History:
        view = History.__new__(History)
        view._times, view.symbols, view._fields = self._times, self.symbols, self._fields
        view._tradeable, view._features = self._tradeable, self._features
        view._start, view._stop = start, stop
        return view

    def __len__(self) -> int:
        return self._stop - self._start

    # -- arrays ----------------------------------------------------------------

    @property
    def times(self) -> np.ndarray:
        """Bar timestamps as datetime64[ns], UTC."""
        return self._times[self._start : self._stop]

    @property
    def now(self) -> pd.Timestamp:
        """The timestamp of the last bar in view."""
        return pd.Timestamp(self._times[self._stop - 1]).tz_localize("UTC")

    @property
    def open(self) -> FloatArray:
        """Opening prices."""
        return self._fields["open"][self._start : self._stop]

    @property
    def high(self) -> FloatArray:
        """High prices."""
        return self._fields["high"][self._start : self._stop]

    @property
    def low(self) -> FloatArray:
        """Low prices."""
        return self._fields["low"][self._start : self._stop]

    @property
    def close(self) -> FloatArray:
        """Closing prices (gaps carried forward)."""
        return self._fields["close"][self._start : self._stop]

    @property
    def volume(self) -> FloatArray:
        """Traded volume (0 in gaps)."""
        return self._fields["volume"][self._start : self._stop]

    @property
    def tradeable(self) -> BoolArray:
        """False before a symbol's first bar."""
        return self._tradeable[self._start : self._stop]

    @property
    def features(self) -> Mapping[str, FloatArray]:
        """Extra per-symbol columns of the dataset (indicators), by name."""
        return _Features(self._features, self._start, self._stop)


def _wide(frame: pd.DataFrame, column: str, index: pd.DatetimeIndex, symbols: list[str]) -> Any:
    table = frame.pivot(index="timestamp", columns="symbol", values=column)
    return table.reindex(index=index, columns=symbols).to_numpy(dtype=np.float64, na_value=np.nan)


def _fill_prices(values: FloatArray) -> FloatArray:
    """Carry prices forward over gaps, then back-fill the bars before a symbol's first."""
    table = pd.DataFrame(values).ffill().bfill()
    return table.to_numpy(dtype=np.float64)
