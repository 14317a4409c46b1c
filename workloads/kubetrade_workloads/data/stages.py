"""The dataset pipeline in stages a user can run one at a time.

`pipeline.build` runs every step in one go, as a Dataset's pod does. The
command line also offers the steps apart (`trading-cli data preprocess`,
`split`, `validate`), so a user can look at the features before committing to
splits, or re-check a Dataset someone published:

- `preprocess` (`pipeline.preprocess`, the first half of `pipeline.build`):
  bars -> clean -> validate -> features, neither split nor normalised; saved
  here as `features.parquet` plus `preprocess.json` (what the manifest needs
  to know about those steps);
- `finish` (`pipeline.finish`, the second half): that frame -> split ->
  select -> normalise (+ folds);
- `verify`: a published Dataset read back: each file's sha256 and rows
  against its manifest, each symbol's quality against the thresholds.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import fields
from typing import Any

import fsspec
import pandas as pd
import pyarrow.parquet as pq

from .. import storage
from ..config.base import to_camel
from ..config.data import ValidationConfig
from . import publish, validate
from .pipeline import Preprocessed
from .quality import QualityReport

FEATURES_FILE = "features.parquet"
META_FILE = "preprocess.json"


class IntegrityError(ValueError):
    """A published Dataset's files do not match its manifest; the message names the file."""


def save(result: Preprocessed, uri: str) -> None:
    """Write the frame, then its metadata, under the folder `uri`."""
    fs, root = fsspec.core.url_to_fs(storage.resolve(uri))
    fs.makedirs(root, exist_ok=True)
    with fs.open(f"{root}/{FEATURES_FILE}", "wb") as fh:
        result.frame.to_parquet(fh, index=False)
    with fs.open(f"{root}/{META_FILE}", "wb") as fh:
        fh.write(json.dumps(result.meta, indent=2, sort_keys=True).encode())


def load(uri: str) -> Preprocessed:
    """What `save` wrote under `uri`; FileNotFoundError names the file that is missing."""
    fs, root = fsspec.core.url_to_fs(storage.resolve(uri))
    for name in (META_FILE, FEATURES_FILE):
        if not fs.exists(f"{root}/{name}"):
            raise FileNotFoundError(
                f"{uri}: no {name} (write it with `trading-cli data preprocess`)"
            )
    with fs.open(f"{root}/{META_FILE}", "rb") as fh:
        meta = json.loads(fh.read())
    missing = [key for key in ("features", "source", "config") if key not in meta]
    if missing:
        raise IntegrityError(f"{uri}: {META_FILE} lacks {missing}; run data preprocess again")
    with fs.open(f"{root}/{FEATURES_FILE}", "rb") as fh:
        frame = pd.read_parquet(fh)
    return Preprocessed(frame, tuple(meta["features"]), meta)


def _reports(manifest: dict[str, Any], last: dict[str, pd.Timestamp]) -> list[QualityReport]:
    """Quality reports back from the manifest's `qualityBySymbol`: the counts (the
    ratios validation reads derive from them); `last` from the published bars."""
    names = {to_camel(f.name): f.name for f in fields(QualityReport)}
    reports = []
    for symbol, numbers in manifest.get("qualityBySymbol", {}).items():
        counts: dict[str, Any] = {
            names[k]: int(v)
            for k, v in numbers.items()
            if k in names and k not in ("symbol", "last") and isinstance(v, int | float)
        }
        calendar = str(numbers.get("calendar", ""))  # named in a calendar check's message
        reports.append(
            QualityReport(symbol=symbol, last=last.get(symbol), calendar=calendar, **counts)
        )
    return reports


def published(uri: str) -> tuple[dict[str, Any], bytes]:
    """The manifest published at `uri`, parsed and as bytes (what its checksum covers)."""
    fs, root = fsspec.core.url_to_fs(storage.resolve(uri))
    path = f"{root}/{publish.MANIFEST}"
    if not fs.exists(path):
        raise FileNotFoundError(f"{uri}: no {publish.MANIFEST}, so no Dataset is published there")
    with fs.open(path, "rb") as fh:
        body = fh.read()
    try:
        manifest = json.loads(body)
    except ValueError as err:
        raise IntegrityError(f"{uri}: {publish.MANIFEST} is not JSON ({err})") from err
    missing = [k for k in ("splits", "symbols", "rows") if k not in manifest]
    if missing or not isinstance(manifest, dict):
        raise IntegrityError(f"{uri}: {publish.MANIFEST} is not a Dataset manifest: {missing}")
    return manifest, body


def verify(uri: str, thresholds: ValidationConfig | None = None) -> dict[str, Any]:
    """Re-check a published Dataset; raise IntegrityError or ValidationFailed, else a summary.

    Every split file must hash to the manifest's sha256 and hold its rows, and
    every symbol's quality must meet `thresholds` (by default those the Dataset
    was built with). Returns the manifest's checksum, rows and splits.
    """
    fs, root = fsspec.core.url_to_fs(storage.resolve(uri))
    manifest, body = published(uri)
    last: dict[str, pd.Timestamp] = {}
    for name, entry in manifest["splits"].items():
        if not fs.exists(f"{root}/{entry['path']}"):
            raise IntegrityError(f"split {name}: {entry['path']} is missing")
        with fs.open(f"{root}/{entry['path']}", "rb") as fh:
            data = fh.read()
        digest = hashlib.sha256(data).hexdigest()
        if digest != entry["sha256"]:
            raise IntegrityError(
                f"split {name}: {entry['path']} has sha256 {digest[:12]}..., the manifest "
                f"says {entry['sha256'][:12]}...: the file changed after publishing"
            )
        rows = pq.read_metadata(io.BytesIO(data)).num_rows
        if rows != entry["rows"]:
            raise IntegrityError(f"split {name}: {rows} rows, the manifest says {entry['rows']}")
        keys = pd.read_parquet(io.BytesIO(data), columns=["symbol", "timestamp"])
        for symbol, stamp in keys.groupby("symbol")["timestamp"].max().items():
            last[str(symbol)] = max(stamp, last.get(str(symbol), stamp))
    stored = manifest.get("config", {}).get("validation", {})
    config = thresholds or ValidationConfig.model_validate(stored)
    end = manifest.get("source", {}).get("end")
    now = pd.Timestamp(end, tz="UTC") if end else None
    validate.check(_reports(manifest, last), config, manifest["symbols"], now)
    return {
        "uri": uri,
        "checksum": hashlib.sha256(body).hexdigest(),
        "rows": manifest["rows"],
        "symbols": manifest["symbols"],
        "splits": {name: entry["rows"] for name, entry in manifest["splits"].items()},
    }
