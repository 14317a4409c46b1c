"""Reading the API for the local node: ConfigMaps and Secrets for pods, and
decoders built ahead of the node's threads."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

import httpx2
import msgspec
from lightkube import ApiError, Client
from lightkube.core.decoders import decode_list, decode_watch_event
from lightkube.models.meta_v1 import Status
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition
from lightkube.resources.apps_v1 import Deployment, ReplicaSet
from lightkube.resources.batch_v1 import Job
from lightkube.resources.coordination_v1 import Lease
from lightkube.resources.core_v1 import (
    ConfigMap,
    Event,
    Namespace,
    Node,
    NodeStatus,
    Pod,
    PodBinding,
    PodStatus,
    Secret,
)

from kubetrade_dev.pod_env import MissingReference, decode_config_map, decode_secret


def build_decoders() -> None:
    """Build msgspec's decoders for every model our threads read (node, tests, operator).

    msgspec (0.22) builds a model's decoder on first use, and two threads doing
    that at once for overlapping lightkube models can crash the interpreter
    (seen here: a segfault while a test created a Job as the node listed Pods).
    Building them on the calling thread, before any thread starts, avoids it.
    """
    kinds = (
        Pod, PodStatus, PodBinding, ConfigMap, Secret, Node, NodeStatus, Lease, Status,
        Job, Namespace, Deployment, ReplicaSet, CustomResourceDefinition, Event,
    )  # fmt: skip
    for kind in kinds:
        with contextlib.suppress(msgspec.ValidationError):
            msgspec.json.decode(b"{}", type=kind)
        decode_list(b'{"items": []}', kind)
    decode_watch_event(b'{"type": "ADDED", "object": {}}')


class ApiObjects:
    """ConfigMaps and Secrets read through the API (the pod's ObjectSource)."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def config_map(self, namespace: str, name: str) -> Mapping[str, bytes] | None:
        """Data and binaryData of a ConfigMap; None when it does not exist."""
        cm = self._get(ConfigMap, namespace, name)
        return None if cm is None else decode_config_map(cm.data, cm.binaryData)

    def secret(self, namespace: str, name: str) -> Mapping[str, bytes] | None:
        """Decoded data of a Secret; None when it does not exist."""
        secret = self._get(Secret, namespace, name)
        return None if secret is None else decode_secret(secret.data)

    def _get(self, kind: type[ConfigMap] | type[Secret], namespace: str, name: str) -> Any:
        try:
            return self._client.get(kind, name, namespace=namespace)
        except ApiError as err:
            if err.status.code == 404:
                return None
            # Treated like a missing object: the pod waits and the read is retried.
            raise MissingReference(f"reading {kind.__name__} {name!r}: {err}") from err
        except httpx2.HTTPError as err:
            raise MissingReference(f"reading {kind.__name__} {name!r}: {err}") from err
