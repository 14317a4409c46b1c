"""Job, Deployment and pod changes flow back into the status of the resource that owns them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx2
import kopf
from lightkube import ApiError

from .. import kube
from ..builders.common import shorten
from ..pods import Trouble, creating, pod_trouble, restarts
from . import dataset, model, trading_session, training_run
from .indexes import MANAGED, latest, pod_warnings

logger = logging.getLogger(__name__)
# Owner kind → (the index holding it, its reconcile function).
OWNERS: dict[str, tuple[str, Callable[[dict[str, Any], dict[str, Any]], Awaitable[None]]]] = {
    "Dataset": ("datasets", dataset.reconcile),
    "TrainingRun": ("trainingruns", training_run.reconcile),
    "Model": ("models", model.reconcile),
    "TradingSession": ("tradingsessions", trading_session.reconcile),
}


@kopf.on.event("batch", "v1", "jobs", labels=MANAGED)
@kopf.on.event("apps", "v1", "deployments", labels=MANAGED)
async def child_event(
    *, event: kopf.RawEvent, namespace: str | None, body: kopf.Body, **kwargs: Any
) -> None:
    """Recompute the owning resource's status from its Job or Deployment."""
    if event["type"] == "DELETED":
        return
    for ref in body.metadata.get("ownerReferences", []):
        owner = OWNERS.get(ref.get("kind"))
        if owner is None:
            continue
        index, reconcile = owner
        parent = latest(kwargs[index], (str(namespace), ref["name"]))
        if parent is not None:
            await reconcile(parent, kwargs)


# What each pod last told its owner: (trouble, restarts, start of the current run
# once it restarted). Pod events are many (every probe, every IP); only a change
# of this reconciles the owner, and a healthy pod never does (its Job or
# Deployment changes when it starts).
Seen = tuple[Trouble | None, int, str | None]
HEALTHY: Seen = (None, 0, None)
_seen: dict[str, Seen] = {}


def pod_news(status: dict[str, Any]) -> Seen:
    """The part of a pod's status its owner's status is made from."""
    pod = {"status": status}
    count = restarts(pod)
    started = None
    if count:
        running = [
            ((c.get("state") or {}).get("running") or {}).get("startedAt")
            for c in status.get("containerStatuses") or ()
        ]
        started = max((str(t) for t in running if t), default=None)
    return pod_trouble(pod), count, started


@kopf.on.event("v1", "pods", labels=MANAGED)
async def pod_event(
    *, event: kopf.RawEvent, namespace: str | None, uid: str | None, body: kopf.Body, **kwargs: Any
) -> None:
    """Recompute the owner's status when its pod starts or stops being in trouble."""
    key = str(uid)
    follow_warnings(key, str(namespace), body, kwargs, gone=event["type"] == "DELETED")
    if event["type"] == "DELETED":
        _seen.pop(key, None)
        return
    news = pod_news(dict(body.status))
    if _seen.get(key, HEALTHY) == news:
        return
    _seen[key] = news
    await reconcile_owners(dict(body.metadata.labels), str(namespace), kwargs)


# Pods stuck creating: why (a Secret volume that cannot be mounted, a sandbox that
# cannot start) is only in their Warning Events, and such a pod changes no more,
# so no pod event would tell. One task per such pod asks for them until it leaves
# that state. (A kopf timer would put a finalizer on every pod of ours.)
WARNINGS_AFTER = 10.0
WARNINGS_EVERY = 15.0
_asking: dict[str, asyncio.Task[None]] = {}


def follow_warnings(
    uid: str, namespace: str, body: kopf.Body, indexes: dict[str, Any], *, gone: bool = False
) -> None:
    """Start asking for a pod's Warning Events when it is stuck creating; stop after."""
    if not gone and creating(body):
        if uid not in _asking:
            labels = dict(body.metadata.labels)
            task = asyncio.create_task(_ask_warnings(uid, namespace, labels, indexes))
            _asking[uid] = task
        return
    if uid in _asking:
        _asking.pop(uid).cancel()
    pod_warnings.pop(uid, None)


async def _ask_warnings(
    uid: str, namespace: str, labels: dict[str, str], indexes: dict[str, Any]
) -> None:
    await asyncio.sleep(WARNINGS_AFTER)
    while True:
        try:
            warning = await kube.pod_warning(namespace, uid)
            if warning is not None and pod_warnings.get(uid) != warning:
                pod_warnings[uid] = warning
                await reconcile_owners(labels, namespace, indexes)
        except (ApiError, httpx2.TransportError) as err:
            logger.warning("Warning Events of pod %s: %s", uid, err)
        await asyncio.sleep(WARNINGS_EVERY)


async def reconcile_owners(labels: dict[str, str], namespace: str, indexes: dict[str, Any]) -> None:
    """Reconcile the resource a pod of ours belongs to (by its `kubetrade.io/<kind>` label)."""
    for kind, (index, reconcile) in OWNERS.items():
        label = labels.get(f"kubetrade.io/{kind.lower()}")
        parent = labelled_owner(indexes[index], namespace, label) if label else None
        if parent is not None:
            await reconcile(parent, indexes)


def labelled_owner(
    index: kopf.Index[tuple[str, str], dict[str, Any]], namespace: str, label: str
) -> dict[str, Any] | None:
    """The owner whose `kubetrade.io/<kind>` label value is `label`.

    The label is the owner's name cut to 63 characters (`shorten`), so a longer
    name is found by comparing each owner's shortened name in the namespace.
    """
    found = latest(index, (namespace, label))
    if found is not None:
        return found
    for ns, name in list(index):
        if ns == namespace and name != label and shorten(name) == label:
            return latest(index, (ns, name))
    return None
