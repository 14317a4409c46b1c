"""The one module that talks to the Kubernetes API outside kopf.

It creates children idempotently (an existing child with the same
deterministic name counts as made), patches the status of our own resources,
and reads the pods of a failed Job for the reason it failed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import httpx2
from lightkube import AsyncClient, KubeConfig, codecs
from lightkube.config.client_adapter import verify_cluster
from lightkube.config.kubeconfig import SingleConfig
from lightkube.core.exceptions import ApiError
from lightkube.core.exceptions import ConfigError as ApiConfigError
from lightkube.generic_resource import create_namespaced_resource
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import ConfigMap, Event, Pod
from lightkube.types import CascadeType, PatchType

from .api import GROUP, KINDS, VERSION
from .pods import Trouble
from .settings import get_settings

log = logging.getLogger(__name__)
FIELD_MANAGER = "kubetrade-operator"

# Generic lightkube resources for our kinds, so dicts become typed requests.
RESOURCES = {k.kind: create_namespaced_resource(GROUP, VERSION, k.kind, k.plural) for k in KINDS}

_client: AsyncClient | None = None


REQUEST_TIMEOUT_SECONDS = 60.0
"""Ours and kopf's: an API server under load answers slowly, and kopf does not retry
an event handler that raised."""


def client() -> AsyncClient:
    """The shared client, built lazily from the kubeconfig or in-cluster config."""
    global _client  # noqa: PLW0603 - one connection pool for the whole process
    if _client is None:
        config = KubeConfig.from_env().get()
        _client = AsyncClient(
            config,
            field_manager=FIELD_MANAGER,
            timeout=httpx2.Timeout(REQUEST_TIMEOUT_SECONDS),
            transport=_transport(config, get_settings().max_workers),
        )
    return _client


def _transport(config: SingleConfig | None, connections: int) -> httpx2.AsyncHTTPTransport:
    """A pool that keeps one connection per concurrent worker alive.

    httpx keeps 20 by default: with 100 workers writing at once, connections
    were closed and re-opened (a TLS handshake each, on both sides) hundreds of
    times per thousand resources.
    """
    if config is None or config.user is None:
        raise ApiConfigError("the kubeconfig names no context with a cluster and a user")
    verify = verify_cluster(config.cluster, config.user, config.abs_file)
    limits = httpx2.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx2.AsyncHTTPTransport(verify=verify, limits=limits)


RETRYABLE = frozenset({429, 500, 502, 503, 504})
T = TypeVar("T")


async def retrying(call: Callable[[], Awaitable[T]], attempts: int = 4) -> T:
    """`call()`, again after a transient failure (timeout, 429, 5xx), with backoff."""
    for attempt in range(attempts):
        try:
            return await call()
        except ApiError as err:
            if err.status.code not in RETRYABLE or attempt == attempts - 1:
                raise
        except httpx2.TransportError:
            if attempt == attempts - 1:
                raise
        await asyncio.sleep(0.5 * 2**attempt)
    raise AssertionError("unreachable")


async def close() -> None:
    """Close the shared client's connections."""
    global _client  # noqa: PLW0603
    if _client is not None:
        await _client.close()
        _client = None


async def ensure(manifest: Mapping[str, Any]) -> bool:
    """Create `manifest` unless an object of that name exists; True if it was created.

    Children are never updated in place: a Job's pod template is immutable, and
    a new generation of the owner gets children with new names.
    """
    try:
        await retrying(lambda: client().create(codecs.from_dict(dict(manifest))))
    except ApiError as err:
        if err.status.code == 409:
            return False
        raise
    return True


async def apply(manifest: Mapping[str, Any]) -> None:
    """Server-side apply one of our resources (create or update the fields we own)."""
    obj = codecs.from_dict(dict(manifest))
    await retrying(lambda: client().apply(obj, field_manager=FIELD_MANAGER, force=True))


async def patch_status(
    kind: str, name: str, namespace: str, status: Mapping[str, Any]
) -> tuple[dict[str, Any], str | None]:
    """Merge-patch the status subresource of one of our resources.

    Returns the whole status the API server now holds and its resourceVersion.
    """
    res = RESOURCES[kind]
    patched = await retrying(
        lambda: client().patch(
            res.Status,
            name,
            {"status": dict(status)},
            namespace=namespace,
            patch_type=PatchType.MERGE,
        )
    )
    meta = patched.metadata
    status = patched.status if isinstance(patched.status, dict) else {}
    return status, meta.resourceVersion if meta else None


async def delete_job(namespace: str, name: str) -> None:
    """Delete a Job and, in the background, its pods; a missing Job is fine."""
    try:
        await retrying(
            lambda: client().delete(Job, name, namespace=namespace, cascade=CascadeType.BACKGROUND)
        )
    except ApiError as err:
        if err.status.code != 404:
            raise


async def jobs_labelled(namespace: str, labels: Mapping[str, str]) -> list[dict[str, Any]]:
    """The Jobs in `namespace` carrying all of `labels`, as plain dicts."""
    return [
        job.to_dict() async for job in client().list(Job, namespace=namespace, labels=dict(labels))
    ]


async def delete_run(namespace: str, name: str) -> None:
    """Delete a finished run: its Job (with its pods) and the ConfigMap of the same name."""
    await delete_job(namespace, name)
    try:
        await retrying(lambda: client().delete(ConfigMap, name, namespace=namespace))
    except ApiError as err:
        if err.status.code != 404:
            raise


async def annotate(kind: str, name: str, namespace: str, annotations: Mapping[str, str]) -> None:
    """Merge-patch annotations onto one of our resources (a run request, say)."""
    await retrying(
        lambda: client().patch(
            RESOURCES[kind],
            name,
            {"metadata": {"annotations": dict(annotations)}},
            namespace=namespace,
            patch_type=PatchType.MERGE,
        )
    )


async def set_job_suspend(namespace: str, name: str, suspend: bool) -> None:
    """Suspend or resume a Job (the Job controller stops or starts its pods)."""
    await retrying(
        lambda: client().patch(
            Job,
            name,
            {"spec": {"suspend": suspend}},
            namespace=namespace,
            patch_type=PatchType.MERGE,
        )
    )


async def pod_warning(namespace: str, uid: str) -> Trouble | None:
    """The newest Warning Event about a pod, as its reason and message."""
    fields: dict[str, Any] = {"involvedObject.uid": uid, "type": "Warning"}
    events = [e async for e in client().list(Event, namespace=namespace, fields=fields)]
    if not events:
        return None

    def when(event: Event) -> str:
        created = event.metadata.creationTimestamp if event.metadata else None
        stamp = event.lastTimestamp or event.eventTime or created
        return stamp.isoformat() if stamp is not None else ""

    newest = max(events, key=when)
    return Trouble(str(newest.reason or "Warning"), str(newest.message or "").strip())


async def job_pods(namespace: str, job_name: str) -> list[dict[str, Any]]:
    """The pods a Job made, as plain dicts (newest last)."""
    pods = [
        p.to_dict()
        async for p in client().list(Pod, namespace=namespace, labels={"job-name": job_name})
    ]
    return sorted(pods, key=lambda p: p.get("metadata", {}).get("creationTimestamp", ""))
