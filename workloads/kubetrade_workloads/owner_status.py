"""Pods report results on their own resource, and only their own fields.

The operator owns phase, conditions and observedGeneration; a workload pod
merge-patches the fields it produces (a Dataset's rows and checksum, a
TrainingRun's progress, a TradingSession's trading state) on the status
subresource of the resource that owns it, through a narrow ServiceAccount.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from .config.jobs import OwnerRef

log = logging.getLogger(__name__)
# The local node (dev tooling) hands pods a kubeconfig; in a cluster the
# ServiceAccount token is mounted and found by lightkube itself.
KUBECONFIG_ENV = "KUBETRADE_KUBECONFIG"


def client(field_manager: str = "kubetrade-workload") -> Any:
    """A new lightkube Client, as pods get one (one per thread: they are not shared)."""
    from lightkube import Client, KubeConfig  # imported here: only pods that report need it

    path = os.environ.get(KUBECONFIG_ENV)
    config = KubeConfig.from_file(path) if path else None
    return Client(config=config, field_manager=field_manager)


def resource(owner: OwnerRef) -> Any:
    """The lightkube resource class of the owner's kind."""
    from lightkube.generic_resource import create_namespaced_resource

    group, version = owner.api_version.split("/")
    return create_namespaced_resource(group, version, owner.kind, owner.kind.lower() + "s")


def report(owner: OwnerRef, fields: Mapping[str, Any], kube: Any = None) -> bool:
    """Merge-patch `fields` into the owner's status (through `kube`, or a client of
    its own); False when there is no cluster.

    A failed report is logged, not raised: the work itself succeeded and its
    artifacts are published; the operator still sees the Job's outcome.
    """
    if owner.api_version == "local":
        return False  # a `trading-cli` run on a laptop has no owner resource
    try:
        from lightkube.types import PatchType

        body = {"status": dict(fields)}
        own = kube is None
        kube = client() if own else kube
        try:
            kube.patch(
                resource(owner).Status,
                owner.name,
                body,
                namespace=owner.namespace,
                patch_type=PatchType.MERGE,
            )
        finally:
            if own:
                kube.close()
    except Exception as err:  # noqa: BLE001 - reporting must never fail the work
        log.warning("could not report status to %s/%s: %s", owner.namespace, owner.name, err)
        return False
    return True
