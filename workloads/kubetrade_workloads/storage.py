"""Artifact locations: fsspec URIs, with the pod's artifact volume resolved.

Pods see their artifact volume at ARTIFACTS_DIR. Where the volume is mounted
elsewhere (the local node maps volumes to host folders), the pod's
`KUBETRADE_ARTIFACTS_DIR` says where, and `file://` URIs under the canonical
path are resolved through it, so configs stay the same on every cluster.
"""

from __future__ import annotations

import os

ARTIFACTS_DIR = "/var/lib/kubetrade/artifacts"
ENV = "KUBETRADE_ARTIFACTS_DIR"


def resolve(uri: str) -> str:
    """The URI to open from this process."""
    mounted = os.environ.get(ENV)
    prefix = f"file://{ARTIFACTS_DIR}"
    if mounted and mounted != ARTIFACTS_DIR and uri.startswith(prefix):
        return f"file://{mounted.rstrip('/')}{uri[len(prefix) :]}"
    return uri
