"""Operator start-up and shutdown: kopf settings, the metrics endpoint, the client."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import kopf

from .. import kube, metrics
from ..settings import get_settings


class NoDiffBase(kopf.DiffBaseStorage):
    """No diff-base at all: the operator has no change handlers to diff for.

    kopf builds a deep copy of every event's body (its "essence") to detect
    changes, which was a sixth of the operator's CPU under load; with on.event
    handlers only, nothing reads it.
    """

    def build(
        self, *, body: kopf.Body, extra_fields: Iterable[Any] | None = None
    ) -> kopf.BodyEssence:
        return kopf.BodyEssence()

    def fetch(self, *, body: kopf.Body) -> kopf.BodyEssence | None:
        return None

    def store(self, *, body: kopf.Body, patch: kopf.Patch, essence: kopf.BodyEssence) -> None:
        return None


@kopf.on.startup()
async def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    """Tune kopf for many small objects and start the metrics endpoint."""
    ours = get_settings()
    # Our handlers are level-triggered (on.event) and keep no state in kopf, but
    # any state kopf does keep goes to annotations, never to the schema'd status.
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="kubetrade.io")
    settings.persistence.diffbase_storage = NoDiffBase()
    # kopf's own "handler succeeded" Events would double the API writes.
    settings.posting.level = logging.WARNING
    settings.queueing.worker_limit = ours.max_workers
    settings.queueing.idle_timeout = ours.worker_idle_seconds
    settings.watching.server_timeout = 300
    settings.networking.request_timeout = kube.REQUEST_TIMEOUT_SECONDS
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
