"""Bars from a CSV or Parquet file at a local path or any fsspec URI.

Column names are matched loosely (`Date`, `Adj Close`, `ticker`, `Vol` ...),
so files exported by common tools load as they are. An adjusted close, when
present, scales open, high, low and close the way Yahoo's adjustment does.
Timestamps are ISO 8601 strings, epoch numbers or datetimes; ones without an
offset are read as UTC, and a file mixing both is refused, because the naive
ones could mean any zone.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Sequence
from typing import Literal

import fsspec
import numpy as np
import pandas as pd

from ... import storage
from ...market import bars
from .base import SourceError, finish, parse_interval

# Canonical column -> accepted spellings, compared without case, spaces, '_' or '-'.
ALIASES: dict[str, tuple[str, ...]] = {
    "timestamp": ("timestamp", "date", "datetime", "time", "ts", "opentime", "t"),
    "symbol": ("symbol", "ticker", "sym", "asset", "instrument", "pair"),
    "open": ("open", "o"),
    "high": ("high", "h"),
    "low": ("low", "l"),
    "close": ("close", "c"),
    "volume": ("volume", "vol", "v"),
    "adj_close": ("adjclose", "adjustedclose"),
}
_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$", re.IGNORECASE)
_PARQUET = (".parquet", ".pq")


def _squash(name: object) -> str:
    return re.sub(r"[\s_\-]", "", str(name)).lower()


def normalise_columns(frame: pd.DataFrame, origin: str) -> pd.DataFrame:
    """Rename recognised columns to canonical names; error if two claim one name."""
    if frame.index.name is not None or isinstance(frame.index, pd.MultiIndex):
        frame = frame.reset_index()  # Parquet written from an indexed frame
    lookup = {alias: canon for canon, names in ALIASES.items() for alias in names}
    renames: dict[str, str] = {}
    for column in frame.columns:
        canon = lookup.get(_squash(column))
        if canon is None:
            continue
        if canon in renames.values():
            first = next(k for k, v in renames.items() if v == canon)
            raise SourceError(
                f"{origin}: columns {first!r} and {column!r} both look like {canon!r}"
            )
        renames[str(column)] = canon
    return frame.rename(columns=renames)


def _epoch_unit(values: pd.Series) -> Literal["s", "ms", "us", "ns"]:
    largest = float(np.nanmax(np.abs(values.to_numpy(dtype="float64"))))
    if largest > 1e17:
        return "ns"
    if largest > 1e14:
        return "us"
    return "ms" if largest > 1e11 else "s"


def parse_timestamps(values: pd.Series, origin: str) -> pd.Series:
    """Timestamps as UTC; naive values are UTC, mixing naive and zoned is an error."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return pd.Series(values.dt.tz_convert("UTC"))
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return pd.Series(values.dt.tz_localize("UTC"))
    if pd.api.types.is_numeric_dtype(values.dtype):
        return pd.to_datetime(pd.Series(values), unit=_epoch_unit(values), utc=True)
    present = values.dropna()
    zoned = present.map(
        lambda v: (
            bool(_OFFSET.search(v.strip()))
            if isinstance(v, str)
            else getattr(v, "tzinfo", None) is not None
        )
    )
    if 0 < int(zoned.sum()) < len(present):
        naive = present[~zoned.astype(bool)].iloc[0]
        raise SourceError(
            f"{origin}: mixed time zones: {int(zoned.sum())} timestamps carry a UTC offset and "
            f"{int((~zoned.astype(bool)).sum())} do not (first without: {naive!r}); "
            "write all of them in UTC or with an offset"
        )
    parsed = pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601")
    bad = parsed.isna() & values.notna()
    if bad.any():
        raise SourceError(
            f"{origin}: {int(bad.sum())} timestamps are not ISO 8601, first {values[bad].iloc[0]!r} "
            "(use e.g. 2024-01-02 or 2024-01-02T14:30:00Z)"
        )
    return parsed


def _numbers(frame: pd.DataFrame, origin: str) -> pd.DataFrame:
    out = frame.copy()
    for column in [*bars.PRICE_COLUMNS, "volume", "adj_close"]:
        if column not in out.columns:
            continue
        numeric = pd.to_numeric(out[column], errors="coerce")
        junk = numeric.isna() & out[column].notna()
        if junk.any():
            row = junk.to_numpy().nonzero()[0][0]
            raise SourceError(
                f"{origin}: {int(junk.sum())} values in {column!r} are not numbers, first "
                f"{out[column].iat[row]!r} ({out['symbol'].iat[row]} at {out['timestamp'].iat[row]})"
            )
        out[column] = numeric.astype("float64")
    return out


def to_bars(frame: pd.DataFrame, symbols: Sequence[str], origin: str) -> pd.DataFrame:
    """A loosely named table to the canonical columns, for the requested symbols."""
    frame = normalise_columns(frame, origin)
    if "symbol" not in frame.columns:
        if len(symbols) != 1:
            raise SourceError(
                f"{origin}: no symbol column, so the file holds one symbol, but "
                f"{len(symbols)} were requested ({', '.join(symbols)})"
            )
        frame = frame.assign(symbol=symbols[0])
    missing = [c for c in bars.COLUMNS if c not in frame.columns]
    if missing:
        raise SourceError(
            f"{origin}: missing columns {missing}; found {[str(c) for c in frame.columns]}"
        )
    frame = frame.assign(symbol=frame["symbol"].astype(str))
    unknown = [s for s in symbols if s not in set(frame["symbol"])]
    if unknown:
        known = sorted(frame["symbol"].unique())
        raise SourceError(
            f"{origin}: unknown symbol {', '.join(unknown)}; the file has "
            f"{', '.join(known[:10])}{' ...' if len(known) > 10 else ''}"
        )
    frame = frame[frame["symbol"].isin(list(symbols))]
    frame = frame.assign(timestamp=parse_timestamps(frame["timestamp"], origin))
    frame = _numbers(frame, origin)
    if "adj_close" in frame.columns:
        # Adjusted close / close is the split-and-dividend factor of each bar.
        factor = frame["adj_close"] / frame["close"]
        for column in bars.PRICE_COLUMNS:
            frame[column] = frame[column] * factor
    return frame[list(bars.COLUMNS)]


def read_table(uri: str) -> pd.DataFrame:
    """A CSV or Parquet file (optionally compressed) as a frame."""
    target = storage.resolve(uri)
    plain = re.sub(r"\.(gz|bz2|xz|zst|zip)$", "", target.lower())
    try:
        with fsspec.open(target, "rb", compression="infer") as handle:
            data = handle.read()
    except (OSError, ValueError) as err:
        raise SourceError(f"file: cannot read {uri}: {err}") from err
    parquet = plain.endswith(_PARQUET) or data[:4] == b"PAR1"
    try:
        if parquet:
            return pd.read_parquet(io.BytesIO(data))
        return pd.read_csv(io.BytesIO(data))
    except (ValueError, OSError, pd.errors.ParserError) as err:
        kind = "Parquet" if parquet else "CSV"
        raise SourceError(f"file: {uri} is not a readable {kind} file: {err}") from err


class FileSource:
    """Bars from a file the user provides; nothing is cached (it may change in place)."""

    cache_identity = None

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.name = f"file {uri}"

    def fetch(
        self, symbols: Sequence[str], interval: str, start: dt.date, end: dt.date | None
    ) -> pd.DataFrame:
        """Bars of `symbols` in [start, end) from the file; its bar size is taken as given."""
        parse_interval(interval)
        frame = to_bars(read_table(self.uri), symbols, self.name)
        return finish(frame, source=self.name, symbols=symbols, start=start, end=end)
