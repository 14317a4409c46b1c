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
from kubetrade_workloads.data.sources.file import name_symbol, survey

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


def test_yahoo_style_csv_is_renamed_and_its_prices_read_as_given(tmp_path: Path) -> None:
    table = pd.DataFrame(
        {
            "Date": ["2024-01-02", "2024-01-03"],
            "Open": [10.0, 11.0],
            "High": [12.0, 13.0],
            "Low": [9.0, 10.0],
            "Close": [11.0, 12.0],
            "Adj Close": [5.5, 12.0],  # a 2:1 factor on the first day: not applied
            "Volume": [100, 200],
        }
    )
    bars = _fetch(_write_csv(tmp_path / "aapl.csv", table), ["AAPL"])
    assert list(bars["symbol"]) == ["AAPL", "AAPL"]
    assert bars["timestamp"].tolist() == [
        pd.Timestamp("2024-01-02", tz="UTC"),
        pd.Timestamp("2024-01-03", tz="UTC"),
    ]
    assert bars[["open", "high", "low", "close"]].iloc[0].tolist() == [10.0, 12.0, 9.0, 11.0]
    assert bars["volume"].dtype == "float64" and bars["close"].iloc[1] == 12.0


# Layouts as tools write them: (file name, CSV text, symbols asked for, symbols expected).
_INDEX_CSV = """,Open,High,Low,Close,Volume
2024-01-02T00:00:00Z,100,104.06,95.96,100.34,22351900
2024-01-03T00:00:00Z,101.01,109.08,100.5,108.31,11428600
"""
_TICKER_CSV = """Ticker,Date,Open,High,Low,Close,Volume,Adj Close
AAPL,2024-01-02,118.56,132.06,118.5,130.31,9616100,4.18
MSFT,2024-01-02,30.0,31.0,29.0,30.5,1000,20.0
AAPL,2024-01-03,127.0,127.94,120.69,122.0,2779100,3.91
MSFT,2024-01-03,30.5,31.5,30.0,31.0,2000,20.3
"""
_LOWER_TIME_CSV = """time,SYMBOL,open,HIGH,low,Close,vol
2024-01-02T14:30:00Z,BTC-USD,1,2,0.5,1.5,10
2024-01-03T14:30:00Z,BTC-USD,1.5,2,1,1.8,12
"""
_DATETIME_CSV = """Datetime,Open,High,Low,Close,Volume
2024-01-02 00:00:00+00:00,1,2,0.5,1.5,10
2024-01-03 00:00:00+00:00,1.5,2,1,1.8,12
"""


@pytest.mark.parametrize(
    ("name", "text", "asked", "expected"),
    [
        ("GOOG.csv", _INDEX_CSV, ["GOOG"], ["GOOG"]),  # first header cell empty
        ("prices.csv", _INDEX_CSV, ["XYZ"], ["XYZ"]),  # no symbol column: the flag's
        ("stocks.csv", _TICKER_CSV, ["AAPL", "MSFT"], ["AAPL", "MSFT"]),
        ("stocks.csv", _TICKER_CSV, ["MSFT"], ["MSFT"]),
        ("btc.csv", _LOWER_TIME_CSV, ["BTC-USD"], ["BTC-USD"]),
        ("spy.csv", _DATETIME_CSV, ["SPY"], ["SPY"]),
    ],
)
def test_common_csv_layouts_read_as_given(
    tmp_path: Path, name: str, text: str, asked: list[str], expected: list[str]
) -> None:
    path = tmp_path / name
    path.write_text(text)
    bars = _fetch(str(path), asked)
    assert sorted(bars["symbol"].unique()) == expected
    assert str(bars["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert sorted(set(bars["timestamp"].dt.strftime("%Y-%m-%d"))) == ["2024-01-02", "2024-01-03"]
    assert (bars["high"] >= bars["low"]).all() and bars["close"].notna().all()
    assert len(bars) == 2 * len(expected)


def test_the_first_header_cell_empty_holds_the_dates_and_prices_stay(tmp_path: Path) -> None:
    path = tmp_path / "GOOG.csv"
    path.write_text(_INDEX_CSV)
    bars = _fetch(str(path), ["GOOG"])
    assert bars["timestamp"].tolist() == [
        pd.Timestamp("2024-01-02", tz="UTC"),
        pd.Timestamp("2024-01-03", tz="UTC"),
    ]
    assert bars["close"].tolist() == [100.34, 108.31]


def test_symbols_come_from_the_symbol_column_else_the_file_name(tmp_path: Path) -> None:
    (tmp_path / "GOOG.csv.gz").write_bytes(gzip.compress(_INDEX_CSV.encode()))
    (tmp_path / "stocks.csv").write_text(_TICKER_CSV)
    assert survey(str(tmp_path / "GOOG.csv.gz")) == (["GOOG"], dt.date(2024, 1, 2))
    assert survey(f"file://{tmp_path}/stocks.csv") == (["AAPL", "MSFT"], dt.date(2024, 1, 2))
    assert name_symbol("s3://bucket/fx/EURUSD.parquet") == "EURUSD"


def test_timestamps_without_a_zone_are_handed_over_as_written(tmp_path: Path) -> None:
    # Only the user knows their zone: cleaning localises them (cleaning.timezone) or refuses.
    path = tmp_path / "EURUSD.csv"
    path.write_text(
        ",Open,High,Low,Close,Volume\n"
        "2023-12-31 23:00:00,1.1,1.2,1.0,1.1,5\n"
        "2024-01-01 09:00:00,1.0716,1.0722,1.07083,1.07219,1413\n"
        "2024-01-01 10:00:00,1.07214,1.07296,1.07214,1.0726,1241\n"
    )
    bars = _fetch(str(path), ["EURUSD"])
    assert bars["timestamp"].dt.tz is None
    # The window is cut on the wall-clock dates as written.
    assert bars["timestamp"].tolist() == [
        pd.Timestamp("2024-01-01 09:00"),
        pd.Timestamp("2024-01-01 10:00"),
    ]


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


def test_midnight_in_its_own_zone_is_the_date_written(tmp_path: Path) -> None:
    # A Tokyo daily file: converted to UTC, each bar would land on the day before.
    table = pd.DataFrame(
        {
            "timestamp": ["2024-03-04T00:00:00+09:00", "2024-03-05T00:00+09:00"],
            "symbol": "7203.T",
            "open": 1.0,
            "high": 1.0,
            "low": 1.0,
            "close": 1.0,
            "volume": 1.0,
        }
    )
    bars = _fetch(_write_csv(tmp_path / "tokyo.csv", table), ["7203.T"])
    assert bars["timestamp"].tolist() == [
        pd.Timestamp("2024-03-04", tz="UTC"),
        pd.Timestamp("2024-03-05", tz="UTC"),
    ]
    stamps = pd.to_datetime(table["timestamp"], format="ISO8601")
    aware = table.assign(timestamp=stamps.dt.tz_convert("Asia/Tokyo"))
    path = tmp_path / "tokyo.parquet"
    aware.to_parquet(path)
    assert _fetch(str(path), ["7203.T"])["timestamp"].tolist() == bars["timestamp"].tolist()


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
