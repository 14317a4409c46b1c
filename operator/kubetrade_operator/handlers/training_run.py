"""TrainingRun: waits for its Dataset; training Jobs arrive with the training issue."""

from __future__ import annotations

from typing import Any

import kopf

from ..api import GROUP, TRAINING_RUN, VERSION
from .indexes import latest, snapshot
from .pending import write_waiting


@kopf.on.event(GROUP, VERSION, TRAINING_RUN.plural)
async def training_run_event(*, event: kopf.RawEvent, body: kopf.Body, **kwargs: Any) -> None:
    """Write conditions and observedGeneration; say what the run waits for."""
    if event["type"] == "DELETED":
        return
    ref = body.spec.get("datasetRef", {}).get("name", "")
    ds = latest(kwargs["datasets"], (str(body.metadata.namespace), ref))
    if ds is None:
        reason, message = "DatasetNotFound", f"Dataset {ref!r} does not exist"
    elif ds["status"].get("phase") != "Succeeded":
        reason, message = "WaitingForDataset", f"Dataset {ref!r} has not succeeded yet"
    else:
        reason, message = (
            "TrainerNotAvailable",
            "this operator version does not run training Jobs yet",
        )
    await write_waiting(TRAINING_RUN.kind, snapshot(body), ("Succeeded", "Failed"), reason, message)
