"""Real files as users have them, through the file source and `trading-cli data
collect` (issue 12): backtesting.py's GOOG.csv (its first header cell is empty:
a pandas index column) and EURUSD.csv (zone-less hourly stamps), and
bokeh-sampledata's stocks.csv.gz (a Ticker column, several symbols, unadjusted
prices with an Adj Close beside them), each read in place from its package.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner, Result

from kubetrade_operator.cli.data import app
from kubetrade_testing import real_bars
from kubetrade_workloads.backtest.benchmark import benchmark_returns
from kubetrade_workloads.backtest.dataset import open_dataset
from kubetrade_workloads.data.sources.file import FileSource
from kubetrade_workloads.market.history import History

runner = CliRunner()


def run(*args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args])


def published(folder: Path) -> dict[str, Any]:
    return dict(json.loads((folder / "manifest.json").read_text()))


def test_the_packaged_files_are_those_whose_provenance_is_recorded() -> None:
    paths = {
        "stocks.csv.gz": real_bars.stocks_path(),
        "GOOG.csv": real_bars.backtesting_path("GOOG.csv"),
        "EURUSD.csv": real_bars.backtesting_path("EURUSD.csv"),
    }
    for name, path in paths.items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == real_bars.SHA256[name], name


def test_googs_csv_with_an_empty_first_header_cell_reads_as_given() -> None:
    path = real_bars.backtesting_path("GOOG.csv")
    assert path.read_text().startswith(",Open,High,Low,Close,Volume")
    bars = FileSource(str(path)).fetch(["GOOG"], "1d", dt.date(2004, 8, 19), None)
    table = pd.read_csv(path, index_col=0)
    assert len(bars) == len(table) == 2148
    assert set(bars["symbol"]) == {"GOOG"}
    first = pd.Timestamp(bars["timestamp"].iloc[0])
    assert first.date() == dt.date(2004, 8, 19)
    for column in ("open", "high", "low", "close", "volume"):
        np.testing.assert_allclose(bars[column], table[column.capitalize()], rtol=1e-12)


def test_the_cli_publishes_googs_csv(tmp_path: Path) -> None:
    path = real_bars.backtesting_path("GOOG.csv")
    result = run(
        "collect", "--source", "file", "--uri", path, "--symbols", "GOOG",
        "--start", "2004-08-19", "--end", "2013-03-02", "--output", tmp_path / "goog",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = published(tmp_path / "goog")
    assert out["symbols"] == ["GOOG"]
    assert out["qualityBySymbol"]["GOOG"]["completeness"] >= 0.99
    assert out["rows"] > 1800  # all but the features' warm-up


def test_a_dataset_manifest_on_the_multi_symbol_stocks_file(tmp_path: Path) -> None:
    """The YAML a user applies, run locally: AAPL, MSFT and GOOG from one file of
    unadjusted prints; the splits come out detected and listed, GOOG's late
    listing passes, and the published AAPL closes move as the real ones did."""
    doc = {
        "apiVersion": "kubetrade.io/v1alpha1",
        "kind": "Dataset",
        "metadata": {"name": "us-stocks"},
        "spec": {
            "source": {
                "type": "file",
                "uri": str(real_bars.stocks_path()),
                "symbols": ["AAPL", "MSFT", "GOOG"],
                "start": "2000-03-01",
                "end": "2013-03-02",
            },
            "storageUri": f"file://{tmp_path}/us-stocks",
        },
    }
    manifest = tmp_path / "dataset.yaml"
    manifest.write_text(yaml.safe_dump(doc))
    result = run("collect", "-f", manifest)
    assert result.exit_code == 0, result.output
    out = published(tmp_path / "us-stocks")
    assert out["symbols"] == ["AAPL", "GOOG", "MSFT"]
    splits = {
        (a["symbol"], a["date"]): a["ratio"]
        for a in out["corporateActions"]
        if a.get("kind") == "split"
    }
    assert splits == pytest.approx(real_bars.SPLITS)
    frames = [pd.read_parquet(tmp_path / "us-stocks" / s["path"]) for s in out["splits"].values()]
    aapl = pd.concat(frames).query("symbol == 'AAPL'").set_index("timestamp")["close"]
    real = real_bars.split_adjusted_close("AAPL").reindex(aapl.index)
    np.testing.assert_allclose(aapl / real, 1.0, rtol=1e-9)
    # The backtester's own buy-and-hold benchmark on the published Dataset is the market's.
    history = History.from_frame(open_dataset(str(tmp_path / "us-stocks")).bars(), ["AAPL"])
    growth = np.prod(1 + benchmark_returns(history, "buy_and_hold"))
    first, last = (pd.Timestamp(t, tz="UTC") for t in history.times[[0, -1]])
    real = real_bars.split_adjusted_close("AAPL")
    assert growth == pytest.approx(real[last] / real[first], rel=1e-9)
    checked = run("validate", tmp_path / "us-stocks")  # the published files, re-checked
    assert checked.exit_code == 0, checked.output


def test_zone_less_hourly_fx_needs_a_time_zone_then_lands_on_24_5(tmp_path: Path) -> None:
    path = real_bars.backtesting_path("EURUSD.csv")
    args = (
        "collect", "--source", "file", "--uri", path, "--symbols", "EURUSD", "--interval", "1h",
        "--start", "2017-04-19", "--end", "2018-02-08",
    )  # fmt: skip
    refused = run(*args, "--output", tmp_path / "refused")
    assert refused.exit_code != 0
    line = refused.stderr.strip()
    assert "\n" not in line and line.startswith("error: ") and "cleaning.timezone" in line
    assert not (tmp_path / "refused" / "manifest.json").exists()
    done = run(*args, "--timezone", "UTC", "--output", tmp_path / "fx")
    assert done.exit_code == 0, done.output
    out = published(tmp_path / "fx")
    assert out["calendars"] == {"EURUSD": "24/5"}
    quality = out["qualityBySymbol"]["EURUSD"]
    assert quality["naiveTimestamps"] == 5000 and quality["offCalendar"] <= 25
