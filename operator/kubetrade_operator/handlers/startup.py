"""Operator start-up and shutdown: kopf settings, the metrics endpoint, the client."""

from __future__ import annotations

import logging
from typing import Any

import kopf

from .. import kube, metrics
from ..settings import get_settings


@kopf.on.startup()
async def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    """Tune kopf for many small objects and start the metrics endpoint."""
    ours = get_settings()
    # Our handlers are level-triggered (on.event) and keep no state in kopf, but
    # any state kopf does keep goes to annotations, never to the schema'd status.
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="kubetrade.io")
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix="kubetrade.io")
    # kopf's own "handler succeeded" Events would double the API writes.
    settings.posting.level = logging.WARNING
    settings.queueing.worker_limit = ours.max_workers
    settings.watching.server_timeout = 300
    settings.networking.request_timeout = 60
    # lightkube's HTTP layer logs every request at INFO: noise, and CPU at scale.
    for name in ("httpx", "httpx2", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    metrics.serve(ours.metrics_port)


@kopf.on.cleanup()
async def close_client(**_: Any) -> None:
    """Release the API connections on shutdown."""
    await kube.close()


@kopf.on.login()
def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
    """In a pod, the ServiceAccount; elsewhere, $KUBECONFIG read as it is now.

    kopf's default login goes through a client library, and the official one
    reads $KUBECONFIG once at import time; ours reads it at start-up and keeps
    the operator image free of that library.
    """
    return kopf.login_with_service_account(**kwargs) or kopf.login_with_kubeconfig(**kwargs)
