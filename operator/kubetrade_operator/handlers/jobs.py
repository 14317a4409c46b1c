"""Job changes flow back into the status of the resource that owns the Job."""

from __future__ import annotations

from typing import Any

import kopf

from . import dataset
from .indexes import MANAGED, latest


@kopf.on.event("batch", "v1", "jobs", labels={**MANAGED, "kubetrade.io/dataset": kopf.PRESENT})
async def dataset_job_event(
    *, event: kopf.RawEvent, namespace: str | None, body: kopf.Body, **kwargs: Any
) -> None:
    """Recompute the owning Dataset's status from its Job."""
    if event["type"] == "DELETED":
        return
    owner = next(
        (o for o in body.metadata.get("ownerReferences", []) if o.get("kind") == "Dataset"), None
    )
    if owner is None:
        return
    parent = latest(kwargs["datasets"], (str(namespace), owner["name"]))
    if parent is not None:
        await dataset.reconcile(parent, kwargs["kubetrade_jobs"])
