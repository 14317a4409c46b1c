"""The data workload: build one dataset from its config and publish it.

The full pipeline (cleaning, 50+ features, validation, walk-forward folds and
the network sources) is the data issue's; this is the minimal path the
operator drives end to end: synthetic or file bars, splits, publish.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from ..config import DataJob
from ..config.data import SourceType
from . import publish, splits, synthetic

log = logging.getLogger(__name__)


class DataError(RuntimeError):
    """The data could not be built; the message says which part failed."""


def load_bars(job: DataJob) -> pd.DataFrame:
    """Bars from the configured source."""
    source = job.data.source
    if source.type == SourceType.SYNTHETIC:
        return synthetic.generate(source)
    if source.type == SourceType.FILE and source.uri:
        reader = pd.read_parquet if source.uri.endswith(".parquet") else pd.read_csv
        bars = reader(source.uri)
        bars["timestamp"] = pd.to_datetime(bars["timestamp"], utc=True)
        return bars[bars["symbol"].isin(source.symbols)].reset_index(drop=True)
    raise DataError(f"source.type {source.type!r} is not available in this version")


def run(job: DataJob) -> dict[str, Any]:
    """Build and publish the dataset; return its manifest."""
    bars = load_bars(job)
    if bars.empty:
        raise DataError(f"source returned no bars for symbols {list(job.data.source.symbols)}")
    parts = splits.split_by_ratio(bars, job.data.splits)
    log.info("publishing %d rows in %d splits to %s", len(bars), len(parts), job.output_uri)
    return publish.write_dataset(job.output_uri, parts, {"source": job.data.source.to_wire()})


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
