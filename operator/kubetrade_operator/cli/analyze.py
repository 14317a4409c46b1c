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
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from .session_view import session_view

if TYPE_CHECKING:
    from kubetrade_workloads.reporting.inputs import ReportData

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
        None,
        "--session-id",
        help="The TradingSession (with --live), or a session's id in a trade store "
        "(NAMESPACE/NAME; local/paper for trade --local).",
    ),
    namespace: str | None = typer.Option(
        None, "--namespace", "-n", help="Its namespace; the kubeconfig context's by default."
    ),
    days: float | None = typer.Option(
        None,
        "--days",
        help="Only the last N days of the series (of the file, or of the session's equity "
        "in the trade store); must be above 0.",
    ),
    store_url: str | None = typer.Option(
        None,
        "--store-url",
        envvar="KUBETRADE_STORE_URL",
        help="Trade store to read a session's equity curve from (sqlite:///... or "
        "postgresql+psycopg://...), with --session-id.",
    ),
    state_dir: Path | None = typer.Option(
        None,
        "--state-dir",
        help="The folder of a local SQLite trade store (`trade --local` uses .kubetrade/trader).",
    ),
) -> None:
    """Return, volatility, Sharpe, Sortino, Calmar, drawdown, ... against the benchmark.

    The series is a file (--input), or a session's equity curve in a trade store
    (--session-id ID with --store-url or --state-dir; a cluster session with --live).
    --days N keeps its last N days. With --live --session-id NAME alone: equity, PnL,
    drawdown, VaR and exposure of a running session, against its risk limits.
    """
    if days is not None and not days > 0:
        _usage("--days must be above 0 (the number of days of the window)")
    store = _store_url(store_url, state_dir)
    if live and store is None and days is None:
        file_only = input_file or metrics or var or stress_test or periods_per_year
        if not session_id or file_only:
            _usage(
                "--live needs --session-id NAME and reads the session's status "
                "(--input, --metrics, --var, --stress-test, --periods-per-year are for "
                "files and trade stores)"
            )
        return _live(session_id, namespace, output)
    sections = ["performance"] + (["var"] if var else []) + (["stress"] if stress_test else [])
    options = (sections, metrics, confidence, horizon, periods_per_year, output, days)
    if live or store is not None or session_id:
        if input_file is not None:
            _usage("--input is a file; a session's series comes from its trade store")
        _run(_store_data(*_session_store(live, session_id, namespace, store)), *options)
        return
    if input_file is None:
        _usage(
            "Missing option '--input' / '-i' (or --session-id with --store-url, "
            "or --live --session-id NAME)"
        )
    _run(_file_data(input_file, periods_per_year), *options)


def _usage(why: str) -> NoReturn:
    typer.echo(f"error: {why}", err=True)
    raise typer.Exit(2)


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


def _file_data(path: Path, periods: float | None) -> Callable[[], ReportData]:
    def read() -> ReportData:
        from kubetrade_workloads.reporting.inputs import load

        return load(path, periods=periods)

    return read


def _run(
    source: Path | Callable[[], ReportData],
    sections: list[str],
    metrics: str | None,
    confidence: float,
    horizon: int,
    periods: float | None,
    output: Output,
    days: float | None = None,
) -> None:
    from dataclasses import replace

    from kubetrade_workloads.reporting import tables
    from kubetrade_workloads.reporting.analysis import analyze
    from kubetrade_workloads.reporting.text import render_text
    from kubetrade_workloads.reporting.window import last_days

    read = _file_data(source, periods) if isinstance(source, Path) else source
    try:
        names = tables.metric_names(metrics)
        data = read()
        if periods is not None:
            data = replace(data, periods_per_year=periods)
        if days is not None:
            data = last_days(data, days)
        result = analyze(data, confidence=confidence, horizon=horizon)
    except ValueError as err:  # input problems name themselves
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from err
    if output == Output.JSON:
        typer.echo(json.dumps(_json(result.to_dict(), data, sections, names), indent=2))
        return
    if "window" in data.details:
        typer.echo(f"{data.source}: {data.details['window']} ({len(data.returns)} bars)")
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
    if "window" in data.details:
        out["window"] = data.details["window"]
        out["bars"] = len(data.returns)
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


# --- a session's equity curve from a trade store ---------------------------------------------


def _session_store(
    live: bool, session_id: str | None, namespace: str | None, store: str | None
) -> tuple[str, str]:
    """The store and the id in it of the session asked for, or a usage error."""
    if not session_id:
        _usage(f"{'--live needs' if live else '--store-url and --state-dir need'} --session-id")
    if store is None and not live:
        _usage(
            "--session-id reads a session: a cluster one with --live, or one in a "
            "trade store with --store-url URL or --state-dir DIR"
        )
    if store is None:
        _usage(
            "--live --days N reads the session's equity curve from its trade store: give "
            "--store-url URL (the URL in its spec.store.urlSecretRef Secret; a SQLite "
            "store inside the trader's pod cannot be read from here)"
        )
    return store, _cluster_store_id(session_id, namespace) if live else session_id


def _store_url(url: str | None, state_dir: Path | None) -> str | None:
    if url and state_dir:
        _usage("give --store-url or --state-dir, not both")
    if state_dir is None:
        return url
    from kubetrade_workloads.trading.store.database import SQLITE_FILE

    path = state_dir / SQLITE_FILE
    if not path.is_file():
        _usage(f"--state-dir: no trade store at {path}")
    return f"sqlite:///{path}"


def _cluster_store_id(name: str, namespace: str | None) -> str:
    """The id a cluster session's trader files it under (after checking it exists)."""
    from .api_access import cluster
    from .deploy import get_session

    with cluster() as client:
        ns = namespace or client.namespace
        get_session(client, name, ns)
    return f"{ns}/{name}"


def _store_data(url: str, session_id: str) -> Callable[[], ReportData]:
    def read() -> ReportData:
        import pandas as pd

        from kubetrade_workloads.reporting.inputs import from_frame

        curve = session_equity(url, session_id)
        frame = pd.DataFrame(curve, columns=["timestamp", "equity"])
        return from_frame(frame, source=f"trade store session {session_id}")

    return read


def session_equity(url: str, session_id: str) -> list[tuple[dt.datetime, float]]:
    """A session's equity curve, oldest first; a ValueError naming the sessions the
    store holds when it has none for this one. The store is only read, never migrated."""
    import sqlalchemy as sa

    from kubetrade_workloads.trading.store.history import TradeHistory
    from kubetrade_workloads.trading.store.schema import EquityRow

    try:
        parsed = sa.engine.make_url(url)
        if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
            # SQLAlchemy would create an empty file there and report no tables.
            raise ValueError(f"--store-url: no SQLite trade store at {parsed.database!r}")
        engine = sa.create_engine(url)
    except (sa.exc.ArgumentError, ImportError) as err:
        raise ValueError(f"--store-url: cannot use {url!r}: {err}") from err
    try:
        curve = TradeHistory(engine).equity_curve(session_id)
        if curve:
            return curve
        with engine.connect() as conn:
            found = conn.execute(sa.select(EquityRow.session_id).distinct()).scalars().all()
    except sa.exc.SQLAlchemyError as err:
        raise ValueError(f"cannot read the trade store: {err.__class__.__name__}: {err}") from err
    finally:
        engine.dispose()
    held = ", ".join(sorted(found)) or "none"
    raise ValueError(f"no equity curve for session {session_id!r} in the store (it holds: {held})")
