"""`trading-cli trade --local`: a paper session on this machine, no cluster needed.

It runs the trader pods run (`kubetrade_workloads.trading`), with no Lease
and no owner resource: synthetic bars and the simulated venue by default,
Alpaca or ccxt paper/sandbox with `--broker` and keys in KUBETRADE_API_KEY /
KUBETRADE_API_SECRET. State lives in `--state-dir` (SQLite), so running the
same session again resumes it where it stopped. Ctrl-C stops after the bar
in hand. Real money needs the cluster path: `mode: live` plus `confirmLive`.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:  # the workload package loads only when the command runs
    from kubetrade_workloads.config import TradeJob


# The CLI's twins of the configs' enums (importing the configs costs `--help` 0.3 s);
# a unit test keeps each equal to its config.


class BrokerChoice(StrEnum):
    SIM = "sim"
    ALPACA = "alpaca"
    CCXT = "ccxt"


class FeedChoice(StrEnum):
    SYNTHETIC = "synthetic"
    REPLAY = "replay"
    ALPACA = "alpaca"
    CCXT = "ccxt"


class RiskProfile(StrEnum):
    CONSERVATIVE = "conservative"
    MODERATE = "moderate"
    AGGRESSIVE = "aggressive"


def set_present(target: dict[str, Any], **values: Any) -> dict[str, Any]:
    """`target` with every value that is not None set."""
    target.update({k: v for k, v in values.items() if v is not None})
    return target


def split_symbols(text: str | None) -> tuple[str, ...]:
    """`AAPL, MSFT` as ("AAPL", "MSFT")."""
    return tuple(s.strip() for s in (text or "").split(",") if s.strip())


def trade(
    local: bool = typer.Option(
        False, "--local", help="Run the trader here (required: cluster sessions use `deploy`)."
    ),
    model: str = typer.Option(
        "baseline:ma-crossover?fast=10&slow=30",
        help="A Model folder URI or baseline:<name>[?params].",
    ),
    symbols: str = typer.Option("AAPL,MSFT", help="Comma-separated symbols."),
    broker: BrokerChoice = typer.Option(
        BrokerChoice.SIM, help="Venue: sim, alpaca (paper) or ccxt (sandbox)."
    ),
    exchange: str | None = typer.Option(None, help="ccxt exchange id (with --broker ccxt)."),
    broker_url: str | None = typer.Option(None, help="Override the venue's API endpoint."),
    feed: FeedChoice = typer.Option(FeedChoice.SYNTHETIC, help="Market data source."),
    dataset: str | None = typer.Option(None, help="Dataset URI for --feed replay."),
    interval: str = typer.Option("1d", help="Bar interval: 1m, 5m, 15m, 1h, 1d."),
    bar_seconds: float = typer.Option(0.2, help="Seconds between synthetic/replay bars."),
    bars: int | None = typer.Option(None, help="Stop after this many bars."),
    cash: float = typer.Option(100_000.0, help="Starting cash of the sim venue."),
    risk_profile: RiskProfile = typer.Option(RiskProfile.MODERATE, help="Risk profile template."),
    session: str = typer.Option("local/paper", help="Session id: the same id resumes its state."),
    state_dir: Path = typer.Option(
        Path(".kubetrade/trader"), help="Where the SQLite trade store lives."
    ),
    metrics_port: int = typer.Option(0, help="Serve Prometheus metrics on this port (0: off)."),
) -> None:
    """Trade a paper session locally until stopped (or --bars)."""
    if not local:
        typer.echo(
            "trade needs --local (sessions on a cluster are TradingSessions: `trading-cli deploy`)",
            err=True,
        )
        raise typer.Exit(2)
    from pydantic import ValidationError

    from kubetrade_workloads.trading import job as trader

    trading: dict[str, Any] = {
        "symbols": list(split_symbols(symbols)),
        "broker": set_present({"type": broker.value}, exchange=exchange, url=broker_url),
        "feed": feed.value,
        "interval": interval,
        "barSeconds": bar_seconds,
        "initialCash": cash,
        "risk": {"profile": risk_profile.value},
    }
    try:
        work = _job(model, dataset, session, state_dir, metrics_port, trading)
    except ValidationError as err:
        typer.echo(f"invalid session: {err}", err=True)
        raise typer.Exit(2) from None
    runtime = trader.Runtime(max_bars=bars)
    trader.install_sigterm(runtime.stop)
    outcome = trader.run(work, runtime)
    summary: dict[str, Any] = {"code": outcome.code, "reason": outcome.reason, "bars": outcome.bars}
    if outcome.snapshot is not None:
        summary["status"] = outcome.snapshot.status()
    typer.echo(json.dumps(summary, indent=2))
    if outcome.code:
        raise typer.Exit(outcome.code)


def _job(
    model: str,
    dataset: str | None,
    session: str,
    state_dir: Path,
    metrics_port: int,
    trading: dict[str, Any],
) -> TradeJob:
    from kubetrade_workloads.config import TradeJob

    return TradeJob.model_validate(
        {
            "owner": {
                "apiVersion": "local",
                "kind": "TradingSession",
                "name": session.replace("/", "-"),
                "namespace": "local",
                "uid": "local",
            },
            "modelUri": model,
            "datasetUri": dataset,
            "sessionId": session,
            "stateDir": str(state_dir),
            "lease": False,
            "metricsPort": metrics_port,
            "trading": trading,
        }
    )
