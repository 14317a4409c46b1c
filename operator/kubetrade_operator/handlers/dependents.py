"""A resource that waits on another is reconciled again when that one changes:
runs and models when their Dataset does, models when their TrainingRun does,
sessions when their Model does."""

from __future__ import annotations

from typing import Any

import kopf

from ..api import DATASET, GROUP, MODEL, TRAINING_RUN, VERSION
from . import model, trading_session, training_run


@kopf.on.event(GROUP, VERSION, DATASET.plural)
async def dataset_dependents(
    *, event: kopf.RawEvent, namespace: str | None, name: str, **kwargs: Any
) -> None:
    """TrainingRuns and Models waiting for this Dataset."""
    if event["type"] == "DELETED":
        return
    key = (str(namespace), name)
    for run in list(kwargs["trainingruns_by_dataset"].get(key, ())):
        await training_run.reconcile(run, kwargs)
    for mdl in list(kwargs["models_by_dataset"].get(key, ())):
        await model.reconcile(mdl, kwargs)


@kopf.on.event(GROUP, VERSION, TRAINING_RUN.plural)
async def training_run_dependents(
    *, event: kopf.RawEvent, namespace: str | None, name: str, **kwargs: Any
) -> None:
    """Models waiting for this TrainingRun to publish their policy (one already
    evaluating waits no more: the run's progress reports need not wake it)."""
    if event["type"] == "DELETED":
        return
    for mdl in list(kwargs["models_by_trainingrun"].get((str(namespace), name), ())):
        if not (mdl.get("status") or {}).get("jobName"):
            await model.reconcile(mdl, kwargs)


@kopf.on.event(GROUP, VERSION, MODEL.plural)
async def model_dependents(
    *, event: kopf.RawEvent, namespace: str | None, name: str, **kwargs: Any
) -> None:
    """TradingSessions trading this Model."""
    if event["type"] == "DELETED":
        return
    for session in list(kwargs["sessions_by_model"].get((str(namespace), name), ())):
        await trading_session.reconcile(session, kwargs)
