"""`trading-cli analyze ...` and `trading-cli report ...` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kubetrade_operator.cli.main import app
from kubetrade_testing.reports import write_backtest, write_returns

runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("inputs")
    backtest = folder / "bt.json"
    write_backtest(backtest)
    return write_returns(folder / "returns.csv", bars=300), backtest


def test_analyze_performance_with_chosen_metrics(files: tuple[Path, Path]) -> None:
    returns, _ = files
    args = ["analyze", "performance", "-i", str(returns), "--metrics", "sharpe,sortino,calmar"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[2].split() == ["Metric", "Strategy", "Benchmark"]
    assert [line.split(" ratio")[0] for line in lines[3:6]] == ["Sharpe", "Sortino", "Calmar"]
    assert "Value at risk" not in result.output


def test_analyze_risk_with_stress_tests(files: tuple[Path, Path]) -> None:
    returns, _ = files
    args = ["analyze", "risk", "-i", str(returns), "--confidence", "0.99", "--stress-test"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    for title in ("Value at risk", "Kupiec", "Worst 5-bar windows", "Synthetic shocks"):
        assert title in result.output
    assert "99.0% confidence" in result.output and "Performance" not in result.output


def test_analyze_backtest_as_json(files: tuple[Path, Path]) -> None:
    _, backtest = files
    args = ["analyze", "backtest", "-i", str(backtest), "--var", "--stress-test"]
    result = runner.invoke(app, [*args, "--metrics", "sharpe,turnover", "--output", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert set(doc["performance"]) == {"sharpe", "turnover"}
    assert [f["fold"] for f in doc["folds"]] == ["fold-1", "fold-2"]
    assert {"risk", "stress"} <= set(doc)


def test_analyze_rejects_unknown_metrics_and_bad_files(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    returns, _ = files
    result = runner.invoke(app, ["analyze", "performance", "-i", str(returns), "--metrics", "x"])
    assert result.exit_code == 2 and "unknown metrics ['x']" in result.output
    missing = runner.invoke(app, ["analyze", "risk", "-i", str(tmp_path / "none.csv")])
    assert missing.exit_code == 2 and "no such file" in missing.output


@pytest.mark.parametrize(("suffix", "magic"), [(".html", b"<!DOCTYPE html>"), (".pdf", b"%PDF-")])
def test_report_writes_the_format_of_the_suffix(
    files: tuple[Path, Path], tmp_path: Path, suffix: str, magic: bytes
) -> None:
    _, backtest = files
    out = tmp_path / f"report{suffix}"
    args = ["report", "-i", str(backtest), "--out", str(out), "--no-charts", "--title", "T"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(magic)


def test_report_format_flag_wins_and_charts_are_embedded(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    returns, _ = files
    out = tmp_path / "report.out"
    args = ["report", "--format", "html", "--include-charts", "-i", str(returns), "-o", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert out.read_text().count("data:image/png;base64,") == 5
