"""pytest fixture: a local node running the test namespace's kubetrade Pods.

Import it where it is used (or into a conftest.py)::

    from kubetrade_testing.local_node import local_node

``local_node`` starts a ``LocalNode`` restricted to the test's namespace, with
fast restarts and a short grace cap; pod logs are under ``<tmp_path>/node/logs``.
At teardown it deletes the namespace while the node still runs, so running pods
are stopped and finally deleted instead of staying Terminating, then stops it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from lightkube import ApiError, Client
from lightkube.resources.core_v1 import Namespace, Pod

from kubetrade_dev.local_node import LocalNode

#: Seconds a teardown waits for the namespace's running pods to be stopped.
DRAIN_SECONDS = 15.0


def running_pods(client: Client, namespace: str) -> list[Pod]:
    """Pods of the namespace that are bound to a node and not finished."""
    return [
        pod
        for pod in client.list(Pod, namespace=namespace)
        if pod.spec is not None
        and pod.spec.nodeName
        and not (pod.status and pod.status.phase in ("Succeeded", "Failed"))
    ]


@contextmanager
def running_local_node(
    kubeconfig: Path, workdir: Path, namespace: str, client: Client, **options: Any
) -> Iterator[LocalNode]:
    """A started LocalNode for ``namespace``; the namespace is deleted (and its
    running pods drained) before the node stops."""
    node = LocalNode(kubeconfig, workdir, namespace=namespace, **options)
    node.start()
    try:
        yield node
    finally:
        try:
            client.delete(Namespace, namespace)
        except ApiError as err:
            if err.status.code != 404:
                raise
        deadline = time.monotonic() + DRAIN_SECONDS
        while running_pods(client, namespace) and time.monotonic() < deadline:
            time.sleep(0.3)
        node.stop()


@pytest.fixture
def local_node(
    kubeconfig: Path, namespace: str, lightkube_client: Client, tmp_path: Path
) -> Iterator[LocalNode]:
    """A local node for the test's namespace (restart backoff 0.5 s, grace cap 5 s)."""
    with running_local_node(
        kubeconfig,
        tmp_path / "node",
        namespace,
        lightkube_client,
        restart_backoff=0.5,
        max_grace_seconds=5,
    ) as node:
        yield node
