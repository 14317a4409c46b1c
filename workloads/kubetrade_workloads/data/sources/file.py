"""Bars from a CSV or Parquet file at a local path or any fsspec URI.

Column names are matched loosely (`Date`, `Datetime`, `time`, `ticker`, `Vol`
...), so files exported by common tools load as they are; a first column with
an empty header (a pandas index written by `to_csv`) holds the timestamps. A
file without a symbol column holds one symbol: the one requested, else the
file's name (`GOOG.csv` is GOOG).

Prices are read as given. An `Adj Close` column is ignored: it folds in every
split and dividend up to the day the file was exported, so using it would
rewrite real prices with events that happened later; splits are found and
adjusted by cleaning, which lists each one.

Timestamps are ISO 8601 strings, epoch numbers or datetimes. Ones with an
offset (and epoch numbers) become UTC. Plain dates (every value at midnight)
are session dates, which have no zone: 00:00 UTC of that date, the label
daily bars get anyway; so are zoned values that are all midnight in their own
zone (a Tokyo daily file's `2024-01-05T00:00+09:00` is the 5th, not 15:00 UTC
on the 4th). A file whose times of day carry no zone hands them
over as written, naive: only the user knows their zone, so cleaning
localises them in `cleaning.timezone` or refuses them, and counts them;
`[start, end)` is cut on their wall-clock dates. A file mixing zoned and
naive values is refused, because the naive ones could mean any zone.
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
    # Corporate actions, as yfinance writes them ("Stock Splits", "Dividends"):
    # cleaning takes them as given (see data/corporate.py).
    "split": ("split", "splits", "stocksplits", "splitratio"),
    "dividend": ("dividend", "dividends"),
}
ACTIONS = ("split", "dividend")
# What pandas names a column whose header cell is empty: an index written by to_csv.
_INDEX_NAMES = ("", "unnamed:0", "index")
_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$", re.IGNORECASE)
# A zoned value at midnight of its own zone: group 1 is its date.
_LOCAL_MIDNIGHT = re.compile(
    r"^(\d{4}-\d{2}-\d{2})(?:[T ]00:00(?::00(?:\.0+)?)?)\s*(?:Z|[+-]\d{2}:?\d{2})$",
    re.IGNORECASE,
)
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
    first = str(frame.columns[0]) if len(frame.columns) else "?"
    if "timestamp" not in renames.values() and _squash(first) in _INDEX_NAMES:
        renames[first] = "timestamp"
    return frame.rename(columns=renames)


def _epoch_unit(values: pd.Series) -> Literal["s", "ms", "us", "ns"]:
    largest = float(np.nanmax(np.abs(values.to_numpy(dtype="float64"))))
    if largest > 1e17:
        return "ns"
    if largest > 1e14:
        return "us"
    return "ms" if largest > 1e11 else "s"


def parse_timestamps(values: pd.Series, origin: str) -> pd.Series:
    """Zoned timestamps as UTC, naive ones as written; mixing the two is an error.

    Zoned values that are all midnight of their own zone are session dates, at
    00:00 UTC of the date written.
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        if len(values) and bool((values.dropna() == values.dropna().dt.normalize()).all()):
            return pd.Series(values.dt.tz_localize(None).dt.tz_localize("UTC"))
        return pd.Series(values.dt.tz_convert("UTC"))
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return values
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
    if len(present) and bool(zoned.all()):
        dates = present.map(lambda v: _session_date(v) if isinstance(v, str) else None)
        if dates.notna().all():
            values = values.map(lambda v: _session_date(v) if isinstance(v, str) else v)
    parsed = pd.to_datetime(values, utc=bool(zoned.any()), errors="coerce", format="ISO8601")
    bad = parsed.isna() & values.notna()
    if bad.any():
        raise SourceError(
            f"{origin}: {int(bad.sum())} timestamps are not ISO 8601, first {values[bad].iloc[0]!r} "
            "(use e.g. 2024-01-02 or 2024-01-02T14:30:00Z)"
        )
    return parsed


def _session_date(value: str) -> str | None:
    """`2024-01-05T00:00+09:00` -> `2024-01-05T00:00Z`; None unless local midnight."""
    match = _LOCAL_MIDNIGHT.match(value.strip())
    return f"{match.group(1)}T00:00:00Z" if match else None


def _numbers(frame: pd.DataFrame, origin: str) -> pd.DataFrame:
    out = frame.copy()
    for column in [*bars.PRICE_COLUMNS, "volume"]:
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
    present = set(frame["symbol"].unique())  # once: per symbol it was O(rows) each
    unknown = [s for s in symbols if s not in present]
    if unknown:
        known = sorted(frame["symbol"].unique())
        raise SourceError(
            f"{origin}: unknown symbol {', '.join(unknown)}; the file has "
            f"{', '.join(known[:10])}{' ...' if len(known) > 10 else ''}"
        )
    frame = frame[frame["symbol"].isin(list(symbols))]
    frame = frame.assign(timestamp=parse_timestamps(frame["timestamp"], origin))
    frame = _numbers(frame, origin)
    return frame[[*bars.COLUMNS, *(c for c in ACTIONS if c in frame.columns)]]


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


def name_symbol(uri: str) -> str:
    """The symbol a file names: its base name without extensions (`data/GOOG.csv.gz` is GOOG)."""
    base = re.split(r"[/\\]", uri.rstrip("/"))[-1]
    base = re.sub(r"\.(gz|bz2|xz|zst|zip)$", "", base, flags=re.IGNORECASE)
    return re.sub(r"\.(csv|txt|parquet|pq)$", "", base, flags=re.IGNORECASE)


def survey(uri: str) -> tuple[list[str], dt.date | None]:
    """The symbols a file holds (its symbol column's values, else the file's name) and
    its first day (None without a timestamp column): what a run defaults to."""
    origin = f"file {uri}"
    frame = normalise_columns(read_table(uri), origin)
    if "symbol" in frame.columns:
        symbols = sorted(frame["symbol"].dropna().astype(str).unique())
    else:
        symbols = [name_symbol(uri)]
    if "timestamp" not in frame.columns or frame["timestamp"].isna().all():
        return symbols, None
    first = parse_timestamps(frame["timestamp"].dropna(), origin).min()
    return symbols, pd.Timestamp(first).date()


def _with_actions(out: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """`out` (canonical bars) with the file's split and dividend columns, if it has them."""
    kept = [c for c in ACTIONS if c in frame.columns]
    if not kept:
        return out
    keys = ["symbol", "timestamp"]
    table = frame[[*keys, *kept]].drop_duplicates(keys, keep="last")
    table = table.assign(timestamp=table["timestamp"].astype(out["timestamp"].dtype))
    return out.merge(table, on=keys, how="left")


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
        stamps = frame["timestamp"]
        naive = pd.api.types.is_datetime64_dtype(stamps.dtype) and stamps.dt.tz is None
        if naive:  # the wall time stands in for UTC while the window is cut, then goes back
            frame = frame.assign(timestamp=stamps.dt.tz_localize("UTC"))
            # Plain dates stay UTC: a session date is the same day in every zone.
            naive = not (stamps.dropna() == stamps.dropna().dt.normalize()).all()
        out = finish(frame, source=self.name, symbols=symbols, start=start, end=end)
        out = _with_actions(out, frame)
        if naive:
            out["timestamp"] = out["timestamp"].dt.tz_localize(None)
        return out
