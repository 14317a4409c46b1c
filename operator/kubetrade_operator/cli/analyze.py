"""`trading-cli analyze performance|risk|backtest`: numbers from a returns file
or a backtest result, in the terminal or as JSON.

    trading-cli analyze performance --input returns.csv --metrics sharpe,sortino,calmar
    trading-cli analyze risk --input returns.csv --confidence 0.99 --horizon 10 --stress-test
    trading-cli analyze backtest --input result.json --var --stress-test

The input is a CSV/Parquet return series (timestamp, returns or equity,
optional benchmark) or the JSON `trading-cli backtest --out` writes; see
`kubetrade_workloads.reporting.inputs`.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

app = typer.Typer(help="Performance, risk and backtest analysis of a return series.")


class Output(StrEnum):
    TABLE = "table"
    JSON = "json"


INPUT = typer.Option(..., "--input", "-i", help="Returns CSV/Parquet or backtest JSON.")
METRICS = typer.Option(None, help="Comma-separated metrics, e.g. sharpe,sortino,calmar.")
VAR = typer.Option(False, "--var", help="Add VaR/ES by every method and the Kupiec test.")
STRESS = typer.Option(False, "--stress-test", help="Add worst windows and synthetic shocks.")
CONFIDENCE = typer.Option(0.95, min=0.8, max=0.999, help="VaR confidence.")
HORIZON = typer.Option(1, min=1, help="VaR horizon in bars.")
PERIODS = typer.Option(None, help="Bars per year (inferred from the input when omitted).")
OUTPUT = typer.Option(Output.TABLE, help="table or json.")


@app.command()
def performance(
    input_file: Path = INPUT,
    metrics: str | None = METRICS,
    var: bool = VAR,
    stress_test: bool = STRESS,
    confidence: float = CONFIDENCE,
    horizon: int = HORIZON,
    periods_per_year: float | None = PERIODS,
    output: Output = OUTPUT,
) -> None:
    """Return, volatility, Sharpe, Sortino, Calmar, drawdown, ... against the benchmark."""
    sections = ["performance"] + (["var"] if var else []) + (["stress"] if stress_test else [])
    _run(input_file, sections, metrics, confidence, horizon, periods_per_year, output)


@app.command()
def risk(
    input_file: Path = INPUT,
    metrics: str | None = METRICS,
    var: bool = VAR,
    stress_test: bool = STRESS,
    confidence: float = CONFIDENCE,
    horizon: int = HORIZON,
    periods_per_year: float | None = PERIODS,
    output: Output = OUTPUT,
) -> None:
    """VaR and expected shortfall by every method, the Kupiec backtest, stress tests."""
    sections = (["performance"] if metrics else []) + ["var"]
    sections += ["stress"] if stress_test else []
    _run(input_file, sections, metrics, confidence, horizon, periods_per_year, output)


@app.command()
def backtest(
    input_file: Path = INPUT,
    metrics: str | None = METRICS,
    var: bool = VAR,
    stress_test: bool = STRESS,
    confidence: float = CONFIDENCE,
    horizon: int = HORIZON,
    periods_per_year: float | None = PERIODS,
    output: Output = OUTPUT,
) -> None:
    """A backtest's performance and walk-forward folds (with --var, --stress-test: risk)."""
    sections = ["performance", "folds"] + (["var"] if var else [])
    sections += ["stress"] if stress_test else []
    _run(input_file, sections, metrics, confidence, horizon, periods_per_year, output)


def _run(
    path: Path,
    sections: list[str],
    metrics: str | None,
    confidence: float,
    horizon: int,
    periods: float | None,
    output: Output,
) -> None:
    from kubetrade_workloads.reporting import tables
    from kubetrade_workloads.reporting.analysis import analyze
    from kubetrade_workloads.reporting.inputs import load
    from kubetrade_workloads.reporting.text import render_text

    try:
        names = tables.metric_names(metrics)
        data = load(path, periods=periods)
        result = analyze(data, confidence=confidence, horizon=horizon)
    except ValueError as err:  # input problems name themselves
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from err
    if output == Output.JSON:
        typer.echo(json.dumps(_json(result.to_dict(), data, sections, names), indent=2))
        return
    chosen: list[tables.Table | None] = []
    if "performance" in sections:
        chosen.append(tables.performance(result, names))
    if "folds" in sections:
        chosen.append(tables.folds(data.folds))
    if "var" in sections:
        chosen += [tables.var_table(result), tables.kupiec_table(result)]
    if "stress" in sections:
        chosen += [tables.stress_windows(result), tables.scenarios(result)]
    typer.echo(render_text([t for t in chosen if t is not None]), nl=False)


def _json(full: dict[str, Any], data: Any, sections: list[str], names: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"input": data.source, "periodsPerYear": data.periods_per_year}
    if "performance" in sections:
        out["performance"] = {k: full["performance"][k] for k in names}
        if full["benchmark"] is not None:
            out["benchmark"] = {k: full["benchmark"][k] for k in names}
    if "folds" in sections and data.folds is not None:
        out["folds"] = json.loads(data.folds.to_json(orient="records"))
    if "var" in sections:
        out["risk"] = full["risk"]
    if "stress" in sections:
        out["stress"] = full["stress"]
    return out
