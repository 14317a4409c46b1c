"""The file a workload pod reads at /etc/kubetrade/config.json.

Each carries the owner it reports to and where to publish, next to the typed
config of the work itself.
"""

from __future__ import annotations

from .base import Frozen
from .data import DataConfig


class OwnerRef(Frozen):
    """The custom resource a pod reports its progress and results to."""

    api_version: str
    kind: str
    name: str
    namespace: str
    uid: str


class DataJob(Frozen):
    owner: OwnerRef
    output_uri: str
    data: DataConfig
