"""`trading-cli data ...`: build a dataset locally, exactly as the Dataset's pod would.

    trading-cli data collect -f dataset.yaml --output datasets/demo
    trading-cli data collect --source file --uri GOOG.csv --period 5y --set cleaning.fillLimit=3
    trading-cli data collect --source yahoo --symbols AAPL --raw --output bars/aapl
    trading-cli data preprocess bars/aapl --output features/aapl
    trading-cli data split features/aapl --splits 0.8,0.1,0.1 --output datasets/aapl
    trading-cli data validate datasets/aapl

Every data error prints one line, `error: <what>; <how to fix>`, and exits 1
(2 for a usage error); see `data_errors`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import typer

from . import data_stages
from .data_config import config, merge, read_manifest
from .data_errors import one_line_errors
from .data_options import (
    ADJUSTMENT,
    CALENDAR,
    EMBARGO,
    END,
    FEATURES,
    FILE,
    FILL_LIMIT,
    INTERVAL,
    MIN_COMPLETENESS,
    OUTLIER_ACTION,
    PERIOD,
    RAW_BARS,
    RAW_SOURCE,
    SETS,
    SPLITS,
    START,
    SYMBOLS,
    TIMEZONE,
    cleaning,
    echo,
    file_defaults,
    option,
    published_summary,
    ratios,
    uri_of,
    window,
)

app = typer.Typer(
    help="Collect, clean and publish market data on this machine, as a Dataset's pod does. "
    "Run the whole pipeline with `collect`, or its stages: `collect --raw`, `preprocess`, "
    "`split`, then `validate` a published Dataset.",
    no_args_is_help=True,
)


@app.command()
def collect(
    file: Path | None = FILE,
    symbols: str | None = SYMBOLS,
    source: str | None = typer.Option(
        None,
        help="source.type: synthetic (default), file, yahoo, alpaca or ccxt.",
        rich_help_panel="Source",
    ),
    interval: str | None = INTERVAL,
    start: str | None = START,
    end: str | None = END,
    period: str | None = PERIOD,
    uri: str | None = option(
        "Source", "source.uri: the file (path or fsspec URI); an API endpoint for alpaca or ccxt."
    ),
    output: str | None = typer.Option(
        None,
        help="Where to publish, folder or fsspec URI (default: spec.storageUri, else datasets/local).",
    ),
    seed: int | None = option("Source", "source.seed of the synthetic source (default 42)."),
    exchange: str | None = option("Source", "source.exchange: ccxt id, e.g. binance."),
    feed: str | None = option("Source", "source.feed of Alpaca: iex, sip or otc."),
    calendar: str | None = CALENDAR,
    timezone: str | None = TIMEZONE,
    adjustment: str | None = ADJUSTMENT,
    fill_limit: int | None = FILL_LIMIT,
    outlier_action: str | None = OUTLIER_ACTION,
    min_completeness: float | None = MIN_COMPLETENESS,
    features: str | None = FEATURES,
    splits: str | None = SPLITS,
    embargo: int | None = EMBARGO,
    set_: list[str] = SETS,
    raw: bool = typer.Option(
        False,
        "--raw",
        help=f"Write the source's bars ({RAW_BARS}) and stop: the input of `data preprocess`.",
    ),
    credentials_dir: Path | None = typer.Option(
        None,
        help="Folder with one file per key (apiKey, apiSecret, ...), as a mounted Secret; "
        "default: KUBETRADE_API_KEY / KUBETRADE_API_SECRET from the environment.",
    ),
    cache: bool | None = typer.Option(
        None, "--cache/--no-cache", help="cache.enabled: keep fetched bars in Redis."
    ),
    cache_ttl: int | None = typer.Option(None, help="cache.ttlSeconds (default 86400)."),
    redis_url: str | None = typer.Option(
        None, help="Redis for the bar cache; default: KUBETRADE_REDIS_URL."
    ),
) -> None:
    """Build and publish a Dataset on this machine, from a manifest, flags or both.

    Flags override the manifest (-f) and --set overrides both.
    """
    from kubetrade_workloads.config import DataJob, OwnerRef
    from kubetrade_workloads.data import job

    with one_line_errors():
        manifest = read_manifest(file)
        flags = {
            "source.type": source,
            "source.symbols": symbols,
            "source.interval": interval,
            "source.uri": uri,
            "source.seed": seed,
            "source.exchange": exchange,
            "source.feed": feed,
            **window(start, end, period, manifest.data, set_),
            **cleaning(calendar=calendar, timezone=timezone, adjustment=adjustment),
            **cleaning(fillLimit=fill_limit, outlierAction=outlier_action),
            "validation.minCompleteness": min_completeness,
            "features.groups": features,
            **ratios(splits),
            "splits.embargo": embargo,
            "cache.enabled": cache,
            "cache.ttlSeconds": cache_ttl,
        }
        tree = merge(manifest.data, flags, set_)
        file_defaults(tree)
        data = config(tree)
        # The workload reads these where a pod finds its mounted Secret and settings.
        if credentials_dir:
            os.environ["KUBETRADE_CREDENTIALS_DIR"] = str(credentials_dir.resolve())
        if redis_url:
            os.environ["KUBETRADE_REDIS_URL"] = redis_url
        out = uri_of(output or manifest.storage_uri or "datasets/local")
        owner = OwnerRef(
            api_version="local", kind="Dataset", name="local", namespace="local", uid="local"
        )
        work = DataJob(owner=owner, output_uri=out, data=data)
        if raw:
            echo(_write_raw(job.load_bars(work), data.source.to_wire(), out))
            return
        published = job.run(work)
    echo(published_summary(published, out))


def _write_raw(bars: Any, source: dict[str, Any], out: str) -> dict[str, Any]:
    import fsspec

    from kubetrade_workloads import storage

    fs, root = fsspec.core.url_to_fs(storage.resolve(out))
    fs.makedirs(root, exist_ok=True)
    with fs.open(f"{root}/{RAW_BARS}", "wb") as fh:
        bars.to_parquet(fh, index=False)
    with fs.open(f"{root}/{RAW_SOURCE}", "w") as fh:
        fh.write(json.dumps(source, indent=2))
    symbols = sorted(bars["symbol"].unique().tolist())
    return {"rows": len(bars), "symbols": symbols, "output": f"{out.rstrip('/')}/{RAW_BARS}"}


# The stages, listed in --help after `collect` in the order they run.
app.command()(data_stages.preprocess)
app.command()(data_stages.split)
app.command()(data_stages.validate)
