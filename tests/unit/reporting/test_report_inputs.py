"""Report inputs: return series files and the backtest's JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kubetrade_testing.reports import returns_frame, write_backtest, write_returns
from kubetrade_workloads.reporting.inputs import InputError, infer_periods, load


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_returns_files(tmp_path: Path, suffix: str) -> None:
    data = load(write_returns(tmp_path / f"r{suffix}"))
    expected = returns_frame()
    assert np.allclose(data.returns.to_numpy(), expected["returns"].to_numpy())
    assert data.benchmark is not None and len(data.benchmark) == len(expected)
    assert data.periods_per_year == 252.0
    assert str(data.returns.index.tz) == "UTC"


def test_an_equity_column_becomes_returns(tmp_path: Path) -> None:
    path = tmp_path / "equity.csv"
    pd.DataFrame(
        {"timestamp": ["2024-01-02", "2024-01-03", "2024-01-04"], "equity": [100.0, 110.0, 99.0]}
    ).to_csv(path, index=False)
    data = load(path, periods=12, title="Mine")
    assert data.returns.tolist() == pytest.approx([0.0, 0.1, -0.1])
    assert (data.periods_per_year, data.title, data.benchmark) == (12, "Mine", None)


def test_the_backtest_json(tmp_path: Path) -> None:
    doc = write_backtest(tmp_path / "bt.json")
    data = load(tmp_path / "bt.json")
    equity = np.array(doc["series"]["equity"])  # type: ignore[index]
    assert data.returns.iloc[0] == pytest.approx(equity[0] / 100_000.0 - 1.0)
    assert data.returns.iloc[-1] == pytest.approx(equity[-1] / equity[-2] - 1.0)
    assert data.benchmark is not None and data.periods_per_year == 252.0
    assert data.folds is not None and list(data.folds["fold"]) == ["fold-1", "fold-2"]
    assert "max_drawdown" in data.folds.columns  # camelCase from the engine, snake here
    assert data.metrics is not None and data.metrics["sharpe"] == doc["metrics"]["sharpe"]  # type: ignore[index]
    assert data.details["mode"] == doc["mode"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.csv", "time,returns\n2024-01-01,0.1\n", "timestamp"),
        ("b.csv", "timestamp,pnl\n2024-01-01,0.1\n", "returns or an equity"),
        ("c.csv", "timestamp,returns\n", "empty"),
        ("d.csv", "timestamp,returns\n2024-01-01,inf\n", "infinite"),
        ("e.txt", "", "expected .csv"),
        ("f.json", json.dumps({"metrics": {}}), "series"),
    ],
)
def test_bad_inputs_say_what_is_wrong(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        load(path)


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load(tmp_path / "nope.csv")


@pytest.mark.parametrize(
    ("freq", "periods", "expected"),
    [
        ("B", 30, 252.0),
        ("D", 30, 365.0),
        ("h", 200, 365.0 * 24),
        ("min", 300, 365.0 * 1440),
    ],
)
def test_bars_per_year_are_inferred(freq: str, periods: int, expected: float) -> None:
    # Starting on a Saturday: weekend bars mean a market that never closes (crypto).
    start = "2024-01-01" if freq == "B" else "2024-01-06"
    index = pd.date_range(start, periods=periods, freq=freq, tz="UTC")
    assert infer_periods(index) == expected


def test_intraday_equities_use_trading_hours() -> None:
    days = pd.bdate_range("2024-01-02", periods=5, tz="UTC")
    index = pd.DatetimeIndex(
        [
            d + pd.Timedelta(hours=14, minutes=30) + pd.Timedelta(minutes=m)
            for d in days
            for m in range(390)
        ]
    )
    assert infer_periods(index) == 252.0 * 390
