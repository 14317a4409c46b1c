"""Model: evaluation Jobs arrive with the training issue; until then it waits."""

from __future__ import annotations

from typing import Any

import kopf

from ..api import GROUP, MODEL, VERSION
from .indexes import snapshot
from .pending import write_waiting


@kopf.on.event(GROUP, VERSION, MODEL.plural)
async def model_event(*, event: kopf.RawEvent, body: kopf.Body, **_: Any) -> None:
    """Write conditions and observedGeneration."""
    if event["type"] == "DELETED":
        return
    await write_waiting(
        MODEL.kind,
        snapshot(body),
        ("Ready", "Evaluated"),
        "EvaluationNotAvailable",
        "this operator version does not evaluate models yet",
    )
