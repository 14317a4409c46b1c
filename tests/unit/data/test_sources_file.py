"""The file source: CSV or Parquet from a path or any fsspec URI, loosely named columns."""

from __future__ import annotations

import datetime as dt
import gzip
from collections.abc import Callable, Iterator
from pathlib import Path

import fsspec
import numpy as np
import pandas as pd
import pytest

from kubetrade_testing.market_data import bar_rows
from kubetrade_workloads.config import SourceConfig
from kubetrade_workloads.data.sources import SourceError, get_source

START, END = dt.date(2024, 1, 1), dt.date(2025, 1, 1)


@pytest.fixture
def memory() -> Iterator[fsspec.AbstractFileSystem]:
    fs = fsspec.filesystem("memory")
    yield fs
    fs.rm("/", recursive=True)


def _fetch(
    uri: str, symbols: list[str], start: dt.date = START, end: dt.date | None = END
) -> pd.DataFrame:
    source = get_source(SourceConfig(type="file", uri=uri, symbols=symbols))
    return source.fetch(symbols, "1d", start, end)


def _write_csv(path: Path, frame: pd.DataFrame) -> str:
    frame.to_csv(path, index=False)
    return str(path)


def test_yahoo_style_csv_is_renamed_and_adjusted(tmp_path: Path) -> None:
    table = pd.DataFrame(
        {
            "Date": ["2024-01-02", "2024-01-03"],
            "Open": [10.0, 11.0],
            "High": [12.0, 13.0],
            "Low": [9.0, 10.0],
            "Close": [11.0, 12.0],
            "Adj Close": [5.5, 12.0],  # a 2:1 factor on the first day
            "Volume": [100, 200],
        }
    )
    bars = _fetch(_write_csv(tmp_path / "aapl.csv", table), ["AAPL"])
    assert list(bars["symbol"]) == ["AAPL", "AAPL"]
    assert bars["timestamp"].tolist() == [
        pd.Timestamp("2024-01-02", tz="UTC"),
        pd.Timestamp("2024-01-03", tz="UTC"),
    ]
    assert bars[["open", "high", "low", "close"]].iloc[0].tolist() == [5.0, 6.0, 4.5, 5.5]
    assert bars["volume"].dtype == "float64" and bars["close"].iloc[1] == 12.0


def test_parquet_in_memory_keeps_requested_symbols_and_the_window(
    memory: fsspec.AbstractFileSystem,
) -> None:
    frame = pd.concat([bar_rows("AAA", 10), bar_rows("BBB", 10), bar_rows("CCC", 10)])
    with memory.open("/bars.parquet", "wb") as handle:
        frame.to_parquet(handle, index=False)
    bars = _fetch(
        "memory:///bars.parquet", ["CCC", "AAA"], dt.date(2024, 1, 4), dt.date(2024, 1, 8)
    )
    assert sorted(bars["symbol"].unique()) == ["AAA", "CCC"]
    assert bars["timestamp"].min() == pd.Timestamp("2024-01-04", tz="UTC")
    assert bars["timestamp"].max() == pd.Timestamp("2024-01-07", tz="UTC")
    assert bars.equals(bars.sort_values(["timestamp", "symbol"], ignore_index=True))


def test_compressed_csv_with_epoch_milliseconds_and_an_indexed_parquet(tmp_path: Path) -> None:
    frame = bar_rows("X", 3)
    table = frame.assign(
        timestamp=(frame["timestamp"] - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)
    )
    with gzip.open(tmp_path / "x.csv.gz", "wt") as handle:
        table.to_csv(handle, index=False)
    pd.testing.assert_frame_equal(
        _fetch(str(tmp_path / "x.csv.gz"), ["X"]), frame, check_dtype=False
    )
    frame.rename(columns={"timestamp": "Date"}).set_index("Date").to_parquet(tmp_path / "x.pq")
    pd.testing.assert_frame_equal(
        _fetch(f"file://{tmp_path}/x.pq", ["X"]), frame, check_dtype=False
    )


def test_offsets_in_different_zones_are_converted(tmp_path: Path) -> None:
    table = pd.DataFrame(
        {
            "timestamp": [
                "2024-03-01T09:30:00-05:00",
                "2024-03-01T14:31:00Z",
                "2024-03-01T15:32:00+01:00",
            ],
            "symbol": "S",
            "open": 1.0,
            "high": 1.0,
            "low": 1.0,
            "close": 1.0,
            "volume": 1.0,
        }
    )
    bars = _fetch(_write_csv(tmp_path / "zones.csv", table), ["S"])
    assert bars["timestamp"].dt.strftime("%H:%M").tolist() == ["14:30", "14:31", "14:32"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.drop(columns=["volume"]), r"missing columns \['volume'\]"),
        (
            lambda t: t.assign(timestamp=["2024-01-02T00:00:00Z", "2024-01-03", "2024-01-04"]),
            "mixed time zones",
        ),
        (
            lambda t: t.assign(timestamp=["yesterday", "2024-01-03", "2024-01-04"]),
            "not ISO 8601, first 'yesterday'",
        ),
        (
            lambda t: t.assign(close=["1.5", "n/a?", "2"]),
            "values in 'close' are not numbers, first 'n/a\\?' \\(AAA at",
        ),
        (
            lambda t: t.assign(high=[1.0, np.inf, 2.0]),
            "infinite values, first in high of AAA at 2024-01-03",
        ),
        (lambda t: t.rename(columns={"open": "Open Price"}), r"missing columns \['open'\]"),
        (
            lambda t: t.assign(close_px=1.0).rename(columns={"close_px": "Close"}),
            "columns 'close' and 'Close' both look like 'close'",
        ),
    ],
)
def test_malformed_files_fail_with_a_message_naming_the_problem(
    tmp_path: Path, change: Callable[[pd.DataFrame], pd.DataFrame], message: str
) -> None:
    table = change(bar_rows("AAA", 3).astype({"timestamp": str}))
    with pytest.raises(SourceError, match=message):
        _fetch(_write_csv(tmp_path / "bad.csv", table), ["AAA"])


def test_symbols_and_emptiness_fail_clearly(tmp_path: Path) -> None:
    uri = _write_csv(tmp_path / "two.csv", pd.concat([bar_rows("AAA"), bar_rows("BBB")]))
    with pytest.raises(SourceError, match="unknown symbol ZZZ; the file has AAA, BBB"):
        _fetch(uri, ["AAA", "ZZZ"])
    with pytest.raises(SourceError, match=r"no bars for symbol AAA in \[2030-01-01, 2030-02-01\)"):
        _fetch(uri, ["AAA"], dt.date(2030, 1, 1), dt.date(2030, 2, 1))
    single = _write_csv(tmp_path / "one.csv", bar_rows().drop(columns=["symbol"]))
    with pytest.raises(
        SourceError, match="no symbol column, so the file holds one symbol, but 2 were requested"
    ):
        _fetch(single, ["AAA", "BBB"])
    with pytest.raises(SourceError, match="cannot read .*missing.csv"):
        _fetch(str(tmp_path / "missing.csv"), ["AAA"])
    nan_only = _write_csv(tmp_path / "nan.csv", bar_rows().assign(close=np.nan))
    with pytest.raises(SourceError, match="no bars for symbol AAA"):
        _fetch(nan_only, ["AAA"])


def test_repairable_defects_pass_to_cleaning_but_conflicts_do_not(tmp_path: Path) -> None:
    frame = bar_rows("AAA", 4)
    messy = pd.concat(
        [frame.iloc[[2, 0, 1]], frame.iloc[[1]], frame.iloc[[3]].assign(close=np.nan)]
    )
    bars = _fetch(_write_csv(tmp_path / "messy.csv", messy), ["AAA"])
    assert bars["timestamp"].is_monotonic_increasing  # sorted
    assert bars.duplicated().sum() == 1  # an exact repeat: cleaning drops and counts it
    assert bars["close"].isna().sum() == 1  # a gap: cleaning fills and counts it
    clash = pd.concat([frame, frame.iloc[[1]].assign(close=999.0)])
    with pytest.raises(
        SourceError, match="2 conflicting bars share a timestamp, first AAA at 2024-01-03"
    ):
        _fetch(_write_csv(tmp_path / "clash.csv", clash), ["AAA"])
