"""`trading-cli data ...`: build a dataset locally, exactly as the Dataset's pod would."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer

app = typer.Typer(help="Collect, clean and publish market data.", no_args_is_help=True)


@app.command()
def collect(
    symbols: str = typer.Option("SYN-A,SYN-B,SYN-C", help="Comma-separated symbols."),
    source: str = typer.Option("synthetic", help="synthetic, file, yahoo, alpaca or ccxt."),
    interval: str = typer.Option("1d", help="Bar interval: 1m, 5m, 15m, 1h or 1d."),
    start: str = typer.Option("2020-01-01", help="First day (YYYY-MM-DD)."),
    end: str | None = typer.Option(None, help="Day after the last (YYYY-MM-DD)."),
    uri: str | None = typer.Option(
        None, help="The file (path or fsspec URI) for `file`; an API endpoint for alpaca or ccxt."
    ),
    output: Path = typer.Option(
        Path("datasets/local"), help="Where to publish (folder or fsspec URI)."
    ),
    seed: int = typer.Option(42, help="Seed of the synthetic source."),
    exchange: str | None = typer.Option(None, help="ccxt exchange id, e.g. binance or kraken."),
    feed: str | None = typer.Option(None, help="Alpaca feed: iex, sip or otc."),
    credentials_dir: Path | None = typer.Option(
        None,
        help="Folder with one file per key (apiKey, apiSecret, ...), as a mounted Secret; "
        "default: KUBETRADE_API_KEY / KUBETRADE_API_SECRET from the environment.",
    ),
    cache: bool = typer.Option(False, help="Cache fetched bars in Redis (see --redis-url)."),
    cache_ttl: int = typer.Option(86400, help="Seconds cached bars are kept."),
    redis_url: str | None = typer.Option(
        None, help="Redis for the bar cache; default: KUBETRADE_REDIS_URL."
    ),
) -> None:
    """Build and publish a dataset on this machine."""
    from kubetrade_workloads.config import DataConfig, DataJob, OwnerRef
    from kubetrade_workloads.data import job

    source_cfg: dict[str, object] = {
        "type": source,
        "symbols": symbols.split(","),
        "interval": interval,
        "start": start,
        "seed": seed,
    }
    optional = {"end": end, "uri": uri, "exchange": exchange, "feed": feed}
    source_cfg |= {key: value for key, value in optional.items() if value}
    # The workload reads these where a pod finds its mounted Secret and settings.
    if credentials_dir:
        os.environ["KUBETRADE_CREDENTIALS_DIR"] = str(credentials_dir.resolve())
    if redis_url:
        os.environ["KUBETRADE_REDIS_URL"] = redis_url
    out = output if "://" in str(output) else f"file://{output.resolve()}"
    work = DataJob(
        owner=OwnerRef(
            api_version="local", kind="Dataset", name="local", namespace="local", uid="local"
        ),
        output_uri=str(out),
        data=DataConfig.model_validate(
            {"source": source_cfg, "cache": {"enabled": cache, "ttlSeconds": cache_ttl}}
        ),
    )
    manifest = job.run(work)
    typer.echo(
        json.dumps(
            {"rows": manifest["rows"], "symbols": manifest["symbols"], "output": str(out)}, indent=2
        )
    )
