"""The contract every market-data source keeps, and the checks that enforce it.

A source returns the canonical bar frame (`market.bars`): UTC timestamps, the
requested symbols only, float columns, sorted. Structural failures end the
fetch with a `SourceError` that names the source and the symbol, so a Dataset
fails with a reason a user can act on and never publishes a partial frame:
no bars at all, a symbol with no bars (unknown, delisted or outside the
range), a page that failed, infinite values, conflicting duplicate bars.
Value defects a cleaner can repair and count (missing values, exact duplicate
rows, impossible bars, outliers) pass through to cleaning untouched.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from ...config.data import Interval
from ...market import bars


class SourceError(RuntimeError):
    """Bars could not be fetched; the message names the source and the symbol."""


@runtime_checkable
class Source(Protocol):
    """Where bars come from: one `fetch` returning the canonical frame."""

    @property
    def name(self) -> str:
        """Short name used in messages, e.g. `alpaca` or `ccxt:binance`."""
        ...

    @property
    def cache_identity(self) -> str | None:
        """What the bars depend on besides (symbol, interval, start, end), such as
        the feed and the adjustments; None for sources not worth caching."""
        ...

    def fetch(
        self, symbols: Sequence[str], interval: str, start: dt.date, end: dt.date | None
    ) -> pd.DataFrame:
        """Bars of `symbols` with open time in [start, end) UTC; `end=None` means today."""
        ...


def parse_interval(value: str) -> Interval:
    """The interval as an enum member, with a clear error for anything else."""
    try:
        return Interval(value)
    except ValueError:
        allowed = ", ".join(i.value for i in Interval)
        raise SourceError(f"unknown interval {value!r}; use one of {allowed}") from None


def resolve_end(end: dt.date | None) -> dt.date:
    """The exclusive end day; an open end means 'up to and including today (UTC)'."""
    return end if end is not None else dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)


def utc_bounds(start: dt.date, end: dt.date | None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """[start, end) as UTC midnights."""
    return pd.Timestamp(start, tz="UTC"), pd.Timestamp(resolve_end(end), tz="UTC")


def daily_stamp(stamps: pd.Series, tz: str) -> pd.Series:
    """Daily bar times as 00:00 UTC of their session date in the venue's time zone.

    Vendors stamp a daily bar at local midnight (Alpaca), at the open (Yahoo)
    or at 00:00 UTC (crypto exchanges); one convention keeps a day's bars from
    different sources on the same row.
    """
    local = pd.to_datetime(stamps, utc=True).dt.tz_convert(tz)
    return local.dt.tz_localize(None).dt.normalize().dt.tz_localize("UTC")


def finish(
    frame: pd.DataFrame,
    *,
    source: str,
    symbols: Sequence[str],
    start: dt.date,
    end: dt.date | None,
) -> pd.DataFrame:
    """Conform `frame` to the canonical bars, keep [start, end), check the contract.

    Raises SourceError naming the source and the symbol for every structural
    failure listed in this module's docstring.
    """
    span = f"[{start}, {resolve_end(end)})"
    if frame.empty:
        raise SourceError(f"{source}: no bars for {', '.join(symbols)} in {span}")
    try:
        out = bars.conform(frame)
    except (bars.BarsError, ValueError, TypeError) as err:
        raise SourceError(f"{source}: malformed bars: {err}") from err
    out["timestamp"] = out["timestamp"].astype("datetime64[ns, UTC]")
    lo, hi = utc_bounds(start, end)
    out = out[(out["timestamp"] >= lo) & (out["timestamp"] < hi)]
    out = out[out["symbol"].isin(list(symbols))].reset_index(drop=True)
    _check_symbols(out, source, symbols, span)
    _check_finite(out, source)
    _check_duplicates(out, source)
    return out


def _check_symbols(frame: pd.DataFrame, source: str, symbols: Sequence[str], span: str) -> None:
    usable = frame.loc[frame["close"].notna(), "symbol"].unique()
    missing = [s for s in symbols if s not in set(usable)]
    if missing:
        raise SourceError(
            f"{source}: no bars for symbol {', '.join(missing)} in {span} "
            "(unknown symbol, or no trading in that range)"
        )


def _check_finite(frame: pd.DataFrame, source: str) -> None:
    values = frame[list(bars.PRICE_COLUMNS) + ["volume"]].to_numpy()
    bad = np.isinf(values)
    if bad.any():
        row, col = (int(i[0]) for i in np.nonzero(bad))
        column = ([*bars.PRICE_COLUMNS, "volume"])[col]
        raise SourceError(
            f"{source}: {int(bad.sum())} infinite values, first in {column} of "
            f"{frame['symbol'].iat[row]} at {frame['timestamp'].iat[row]}"
        )


def _check_duplicates(frame: pd.DataFrame, source: str) -> None:
    # Identical repeats are a defect cleaning repairs and counts; two different
    # bars for one (symbol, time) leave no way to tell which one is right.
    keys = ["symbol", "timestamp"]
    distinct = frame.drop_duplicates()
    clash = distinct.duplicated(keys, keep=False)
    if clash.any():
        first = distinct[clash].iloc[0]
        raise SourceError(
            f"{source}: {int(clash.sum())} conflicting bars share a timestamp, first "
            f"{first['symbol']} at {first['timestamp']}"
        )
