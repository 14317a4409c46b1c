"""The admin kubeconfig of the local control plane.

Certificates are embedded (``*-data`` fields) rather than referenced by path:
kopf's fallback kubeconfig loader and some tools only read embedded data, and
the file stays valid when copied elsewhere.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import yaml

from kubetrade_dev.certs import Pki

CONTEXT = "kubetrade-local"
USER = "kubetrade-admin"


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode("ascii")


def render(server: str, pki: Pki, *, context: str = CONTEXT) -> dict[str, Any]:
    """The kubeconfig as a dict, for the admin client certificate of ``pki``."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [
            {
                "name": context,
                "cluster": {"server": server, "certificate-authority-data": _b64(pki.ca_cert)},
            }
        ],
        "users": [
            {
                "name": USER,
                "user": {
                    "client-certificate-data": _b64(pki.admin_cert),
                    "client-key-data": _b64(pki.admin_key),
                },
            }
        ],
        "contexts": [{"name": context, "context": {"cluster": context, "user": USER}}],
        "current-context": context,
    }


def write(path: Path, server: str, pki: Pki, *, context: str = CONTEXT) -> Path:
    """Write the admin kubeconfig (mode 0600: it holds a private key) and return its path."""
    text = yaml.safe_dump(render(server, pki, context=context), sort_keys=False)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    # Atomic, so a reader never sees a half-written file.
    tmp.replace(path)
    return path


def server_of(path: Path) -> str:
    """The API server URL of the current context of a kubeconfig."""
    config = yaml.safe_load(path.read_text())
    contexts = {c["name"]: c["context"] for c in config["contexts"]}
    clusters = {c["name"]: c["cluster"] for c in config["clusters"]}
    cluster_name = contexts[config["current-context"]]["cluster"]
    return str(clusters[cluster_name]["server"])
