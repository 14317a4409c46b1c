"""The session's drift watch, applied: the `Drifted` condition, a Warning Event
when it turns True, and the retrain request on the Model's TrainingRun."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

import kopf

from .. import kube
from ..api import TRAINING_RUN, TradingSessionSpec
from ..builders.drift import DRIFTED, drift_verdict
from ..conditions import TRUE, find, merge

log = logging.getLogger(__name__)


async def watch_drift(
    body: dict[str, Any],
    spec: TradingSessionSpec,
    status: Mapping[str, Any],
    model: Mapping[str, Any],
    desired: Mapping[str, Any],
) -> dict[str, Any]:
    """Status fields to add to `desired`: its conditions with `Drifted`, and the
    retrain request made now, if one was due."""
    run = ((model.get("spec") or {}).get("trainingRunRef") or {}).get("name")
    cond, request = drift_verdict(spec, status, training_run=run, now=dt.datetime.now(dt.UTC))
    generation = int(desired.get("observedGeneration") or 0)
    out: dict[str, Any] = {"conditions": merge(desired.get("conditions"), [cond], generation)}
    before = find(status.get("conditions"), DRIFTED)
    event_body = kopf.Body(body)  # type: ignore[arg-type]  # a snapshot is a raw body
    if cond.status == TRUE and (before is None or before.get("status") != TRUE):
        kopf.warn(event_body, reason=cond.reason, message=cond.message)
    if request is not None:
        namespace = body["metadata"]["namespace"]
        await kube.annotate(
            TRAINING_RUN.kind, request.training_run, namespace, request.annotations()
        )
        log.info("asked TrainingRun %s/%s for a run: %s", namespace, run, request.reason)
        kopf.warn(
            event_body,
            reason="RetrainRequested",
            message=f"TrainingRun {run}: {request.reason}",
        )
        out["lastRetrainRequest"] = request.record()
    return out
