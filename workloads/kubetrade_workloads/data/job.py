"""The data workload: build one dataset from its config and publish it.

load_bars -> pipeline.build (clean, validate, features, split, select,
normalise, folds) -> publish. Any failure raises before the manifest is
written, so a failed Job leaves no dataset behind; its message, one line,
becomes the Dataset's Failed reason.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from ..config import DataJob
from . import cache, pipeline, publish, sources

log = logging.getLogger(__name__)


class DataError(RuntimeError):
    """The data could not be built; the message says which part failed."""


def load_bars(job: DataJob) -> pd.DataFrame:
    """Bars from the configured source, through the Redis bar cache when enabled.

    Credentials come from the Secret mounted at /etc/kubetrade/credentials (or
    the environment); a source failure becomes a DataError naming the source
    and the symbol.
    """
    config = job.data.source
    try:
        credentials = sources.load_credentials()
        source = sources.get_source(config, credentials)
        source = cache.cached(source, job.data.cache, credentials.get(cache.URL_KEY))
        return source.fetch(config.symbols, config.interval, config.start, config.end)
    except sources.SourceError as err:
        raise DataError(str(err)) from err


def run(job: DataJob) -> dict[str, Any]:
    """Build and publish the dataset; return its manifest (with its `checksum`)."""
    bars = load_bars(job)
    if bars.empty:
        raise DataError(f"source returned no bars for symbols {list(job.data.source.symbols)}")
    dataset = pipeline.build(bars, job.data)
    rows = sum(len(part) for part in dataset.splits.values())
    log.info("publishing %d rows in %d splits to %s", rows, len(dataset.splits), job.output_uri)
    return publish.write_dataset(job.output_uri, dataset.splits, dataset.manifest)


def summary(job: DataJob, manifest: dict[str, Any]) -> dict[str, Any]:
    """The Dataset status fields the data pod reports from its manifest."""
    out: dict[str, Any] = {
        "rows": int(manifest["rows"]),
        "symbols": list(manifest["symbols"]),
        "manifestUri": job.output_uri.rstrip("/") + "/manifest.json",
        "checksum": manifest["checksum"],
    }
    if "features" in manifest:
        out["features"] = len(manifest["features"])
    quality = manifest.get("quality")
    if isinstance(quality, dict):
        out["quality"] = {k: float(v) for k, v in quality.items() if isinstance(v, int | float)}
    return out
