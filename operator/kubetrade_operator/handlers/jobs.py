"""Job and Deployment changes flow back into the status of the resource that owns them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import kopf

from . import dataset, model, trading_session, training_run
from .indexes import MANAGED, latest

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
