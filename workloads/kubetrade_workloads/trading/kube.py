"""The trader's one door to the Kubernetes API: a lightkube client, as pods get one.

The local node (dev tooling) hands pods a kubeconfig in KUBETRADE_KUBECONFIG;
in a cluster the ServiceAccount token is mounted and found by lightkube.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .. import owner_status


def client() -> Any:
    """A new lightkube Client (one per thread: they are not shared)."""
    return owner_status.client("kubetrade-trader")


def micro_time(value: dt.datetime) -> str:
    """A MicroTime as the API server parses it: always six fraction digits."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
