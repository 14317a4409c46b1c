"""Publishing a dataset: Parquet per split, then the manifest, atomically.

The manifest is written last, through a temporary name and a rename, so a
reader that finds a manifest finds every file it lists: a failed run never
publishes a partial dataset.
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


def write_dataset(
    uri: str, splits: dict[str, pd.DataFrame], extra: dict[str, Any]
) -> dict[str, Any]:
    """Write each split and the manifest under `uri`; return the manifest."""
    fs, root = fsspec.core.url_to_fs(storage.resolve(uri))
    fs.makedirs(root, exist_ok=True)
    files: dict[str, Any] = {}
    for name, frame in splits.items():
        buf = io.BytesIO()
        frame.to_parquet(buf, index=False)
        data = buf.getvalue()
        with fs.open(f"{root}/{name}.parquet", "wb") as fh:
            fh.write(data)
        files[name] = {
            "path": f"{name}.parquet",
            "rows": len(frame),
            "sha256": hashlib.sha256(data).hexdigest(),
            "start": str(frame["timestamp"].min()),
            "end": str(frame["timestamp"].max()),
        }
    any_split = next(iter(splits.values()))
    manifest = {
        "version": 1,
        "schema": {col: str(dtype) for col, dtype in any_split.dtypes.items()},
        "rows": sum(f["rows"] for f in files.values()),
        "symbols": sorted(any_split["symbol"].unique().tolist()),
        "splits": files,
        **extra,
    }
    body = json.dumps(manifest, indent=2, sort_keys=True).encode()
    tmp = f"{root}/.{MANIFEST}.tmp"
    with fs.open(tmp, "wb") as fh:
        fh.write(body)
    fs.mv(tmp, f"{root}/{MANIFEST}")
    manifest["checksum"] = hashlib.sha256(body).hexdigest()
    return manifest
