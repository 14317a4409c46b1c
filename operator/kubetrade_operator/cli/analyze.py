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

import datetime as dt
import json
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from .session_view import session_view

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
    input_file: Path | None = typer.Option(
        None, "--input", "-i", help="Returns CSV/Parquet or backtest JSON (unless --live)."
    ),
    metrics: str | None = METRICS,
    var: bool = VAR,
    stress_test: bool = STRESS,
    confidence: float = CONFIDENCE,
    horizon: int = HORIZON,
    periods_per_year: float | None = PERIODS,
    output: Output = OUTPUT,
    live: bool = typer.Option(
        False, "--live", help="A running TradingSession's figures, read from its status."
    ),
    session_id: str | None = typer.Option(
        None, "--session-id", help="The TradingSession to read (with --live)."
    ),
    namespace: str | None = typer.Option(
        None, "--namespace", "-n", help="Its namespace; the kubeconfig context's by default."
    ),
) -> None:
    """Return, volatility, Sharpe, Sortino, Calmar, drawdown, ... against the benchmark.

    With --live --session-id NAME: equity, PnL, drawdown, VaR and exposure of a
    running session, against its risk limits.
    """
    if live or session_id:
        file_only = input_file or metrics or var or stress_test or periods_per_year
        if not (live and session_id) or file_only:
            typer.echo(
                "error: --live needs --session-id NAME and reads the session's status "
                "(--input, --metrics, --var, --stress-test, --periods-per-year are for files)",
                err=True,
            )
            raise typer.Exit(2)
        return _live(session_id, namespace, output)
    if input_file is None:
        typer.echo("error: Missing option '--input' / '-i' (or --live --session-id NAME)", err=True)
        raise typer.Exit(2)
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


# --- --live: a running session's figures, from its status ------------------------------------


def _ratio(part: Any, whole: Any) -> float | None:
    if part is None or not whole:
        return None
    return round(float(part) / float(whole), 6)


def _less(equity: float | None, pnl: float | None) -> float | None:
    return None if equity is None or pnl is None else equity - pnl


def live_performance(obj: dict[str, Any]) -> dict[str, Any]:
    """Performance and risk figures of a TradingSession, from what its trader reports.

    Returns are against the equity the session started with (today's opening
    equity for the day's): equity less the PnL earned since.
    """
    view = session_view(obj, dt.datetime.now(dt.UTC))
    limits = (obj.get("status") or {}).get("effectiveLimits") or {}
    equity, total, day = view["equity"], view["totalPnl"], view["dayPnl"]
    values = [p.get("marketValue") or 0.0 for p in view["positions"]]
    return {
        "session": view["name"],
        "namespace": view["namespace"],
        "phase": view["phase"],
        "tradingState": view["tradingState"],
        "equity": equity,
        "cash": view["cash"],
        "totalPnl": total,
        "totalReturn": _ratio(total, _less(equity, total)),
        "dayPnl": day,
        "dayReturn": _ratio(day, _less(equity, day)),
        "drawdown": view["drawdown"],
        "maxDrawdown": view["maxDrawdown"],
        "var": view["var"],
        "maxVar": view["maxVar"],
        "varConfidence": limits.get("varConfidence"),
        "maxDailyLoss": limits.get("maxDailyLoss"),
        "grossExposure": _ratio(sum(abs(v) for v in values), equity) if values else 0.0,
        "netExposure": _ratio(sum(values), equity) if values else 0.0,
        "positions": len(values),
        "ordersToday": view["ordersToday"],
        "heartbeat": view["heartbeat"],
    }


_LIVE_ROWS = (
    ("Equity", "equity", "{:,.2f}"),
    ("Cash", "cash", "{:,.2f}"),
    ("Total PnL", "totalPnl", "{:+,.2f}"),
    ("Total return", "totalReturn", "{:+.2%}"),
    ("Day PnL", "dayPnl", "{:+,.2f}"),
    ("Day return", "dayReturn", "{:+.2%}"),
    ("Drawdown", "drawdown", "{:.2%}"),
    ("Max drawdown (limit)", "maxDrawdown", "{:.2%}"),
    ("Max daily loss (limit)", "maxDailyLoss", "{:.2%}"),
    ("VaR", "var", "{:.2%}"),
    ("Max VaR (limit)", "maxVar", "{:.2%}"),
    ("Gross exposure", "grossExposure", "{:.2%}"),
    ("Net exposure", "netExposure", "{:+.2%}"),
    ("Positions", "positions", "{}"),
    ("Orders today", "ordersToday", "{}"),
    ("Trading state", "tradingState", "{}"),
    ("Heartbeat", "heartbeat", "{}"),
)


def render_live(figures: dict[str, Any]) -> str:
    """The figures as a titled two-column table, like the file-based report."""
    title = f"Live performance: {figures['namespace']}/{figures['session']} ({figures['phase']})"
    rows = [
        (label, "n/a" if figures[key] is None else fmt.format(figures[key]))
        for label, key, fmt in _LIVE_ROWS
    ]
    width = max(len(label) for label, _ in rows)
    lines = [title, "-" * len(title)] + [f"{label.ljust(width)}  {v}" for label, v in rows]
    return "\n".join(lines) + "\n"


def _live(session_id: str, namespace: str | None, output: Output) -> None:
    from .api_access import cluster
    from .deploy import get_session

    with cluster() as client:
        obj = get_session(client, session_id, namespace or client.namespace)
    figures = live_performance(obj)
    if output == Output.JSON:
        typer.echo(json.dumps(figures, indent=2))
    else:
        typer.echo(render_live(figures), nl=False)
