"""Publishing a dataset: Parquet per split, then the manifest, atomically.

The manifest is written last and whole (`storage.write_whole`: a rename on a
disk, a single PUT on an object store), so a reader that finds a manifest finds
every file it lists: a failed run never publishes a partial dataset. A manifest left by an earlier attempt at the same
URI is removed first, before any split file is overwritten, so it can never
describe files that have since changed.
"""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

import fsspec
import pandas as pd

from .. import storage

MANIFEST = "manifest.json"
VERSION = 2


def _parquet(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return buf.getvalue()


def _span(frame: pd.DataFrame) -> dict[str, str]:
    return {
        "start": frame["timestamp"].min().isoformat(),
        "end": frame["timestamp"].max().isoformat(),
    }


def write_dataset(
    uri: str, splits: dict[str, pd.DataFrame], extra: dict[str, Any]
) -> dict[str, Any]:
    """Write each split and then the manifest under `uri`; return the manifest.

    The manifest records the schema, rows, symbols, time range and the sha256
    of every file, plus `extra`; `checksum` is the sha256 of the manifest itself.
    """
    if not splits:
        raise ValueError("publish: no splits to write")
    fs, root = fsspec.core.url_to_fs(storage.resolve(uri))
    fs.makedirs(root, exist_ok=True)
    if fs.exists(f"{root}/{MANIFEST}"):
        fs.rm(f"{root}/{MANIFEST}")  # unpublish before touching the files it lists
    files: dict[str, Any] = {}
    for name, frame in splits.items():
        data = _parquet(frame)
        with fs.open(f"{root}/{name}.parquet", "wb") as fh:
            fh.write(data)
        files[name] = {
            "path": f"{name}.parquet",
            "rows": len(frame),
            "sha256": hashlib.sha256(data).hexdigest(),
            **_span(frame),
        }
    whole = [frame for frame in splits.values() if len(frame)]
    any_split = next(iter(splits.values()))
    manifest = {
        "version": VERSION,
        "schema": {col: str(dtype) for col, dtype in any_split.dtypes.items()},
        "rows": sum(f["rows"] for f in files.values()),
        "symbols": sorted(set().union(*(frame["symbol"].unique().tolist() for frame in whole))),
        "timeRange": {
            "start": min(f["start"] for f in files.values()),
            "end": max(f["end"] for f in files.values()),
        },
        "splits": files,
        **extra,
    }
    body = json.dumps(manifest, indent=2, sort_keys=True).encode()
    storage.write_whole(fs, f"{root}/{MANIFEST}", body)
    manifest["checksum"] = hashlib.sha256(body).hexdigest()
    return manifest
