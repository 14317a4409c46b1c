"""Artifact locations: fsspec URIs, with the pod's artifact volume resolved.

Pods see their artifact volume at ARTIFACTS_DIR. Where the volume is mounted
elsewhere (the local node maps volumes to host folders), the pod's
`KUBETRADE_ARTIFACTS_DIR` says where, and `file://` URIs under the canonical
path are resolved through it, so configs stay the same on every cluster.

Object stores (`s3://`) have no rename: fsspec's `mv` there is a copy and a
delete per object, not atomic for a folder and twice the traffic for a file.
`write_whole` is how a single file is published on either kind of store.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

ARTIFACTS_DIR = "/var/lib/kubetrade/artifacts"
ENV = "KUBETRADE_ARTIFACTS_DIR"


def resolve(uri: str) -> str:
    """The URI to open from this process."""
    mounted = os.environ.get(ENV)
    prefix = f"file://{ARTIFACTS_DIR}"
    if mounted and mounted != ARTIFACTS_DIR and uri.startswith(prefix):
        return f"file://{mounted.rstrip('/')}{uri[len(prefix) :]}"
    return uri


def renames(fs: Any) -> bool:
    """Whether `fs` renames in place (a local or mounted disk), rather than copying."""
    protocols = (fs.protocol,) if isinstance(fs.protocol, str) else tuple(fs.protocol)
    return "file" in protocols or "local" in protocols


def write_whole(fs: Any, path: str, data: bytes) -> None:
    """Write `path` so that a reader sees the old file or the new one, never a part.

    On a disk, through a temporary name and a rename. On an object store a PUT is
    already all-or-nothing, so the object is written in place.
    """
    if not renames(fs):
        with fs.open(path, "wb") as fh:
            fh.write(data)
        return
    tmp = f"{path}.tmp-{uuid.uuid4().hex[:8]}"
    with fs.open(tmp, "wb") as fh:
        fh.write(data)
    fs.mv(tmp, path)
