"""`trading-cli data ...`: build a dataset locally, exactly as the Dataset's pod would."""

from __future__ import annotations

import json
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
    uri: str | None = typer.Option(None, help="Input file or URI for the file source."),
    output: Path = typer.Option(
        Path("datasets/local"), help="Where to publish (folder or fsspec URI)."
    ),
    seed: int = typer.Option(42, help="Seed of the synthetic source."),
) -> None:
    """Build and publish a dataset on this machine."""
    from kubetrade_workloads.config import DataConfig, DataJob, OwnerRef
    from kubetrade_workloads.data import job

    source_cfg = {
        "type": source,
        "symbols": symbols.split(","),
        "interval": interval,
        "start": start,
        "seed": seed,
    }
    if end:
        source_cfg["end"] = end
    if uri:
        source_cfg["uri"] = uri
    out = output if "://" in str(output) else f"file://{output.resolve()}"
    work = DataJob(
        owner=OwnerRef(
            api_version="local", kind="Dataset", name="local", namespace="local", uid="local"
        ),
        output_uri=str(out),
        data=DataConfig.model_validate({"source": source_cfg}),
    )
    manifest = job.run(work)
    typer.echo(
        json.dumps(
            {"rows": manifest["rows"], "symbols": manifest["symbols"], "output": str(out)}, indent=2
        )
    )
