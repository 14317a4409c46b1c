"""TrainingRun → training Job once its Dataset succeeded; on success, its Model."""

from __future__ import annotations

from typing import Any

import kopf

from .. import kube
from ..api import GROUP, TRAINING_RUN, VERSION, TrainingRunSpec
from ..api.common import Phase
from ..builders.common import Owner
from ..builders.dataset import manifest_uri
from ..builders.job_status import JobOutcome, bounded_status, dataset_blocker
from ..builders.schedule import run_for, with_schedule
from ..builders.training_run import (
    build_model,
    build_training_children,
    job_name,
    model_name,
    new_run_reset,
    published_by,
)
from ..settings import get_settings
from .indexes import latest, snapshot
from .job_owner import follow_job, going, outdated, parse, reconciling, write_outcome, write_status

KIND = TRAINING_RUN.kind


@kopf.on.event(GROUP, VERSION, TRAINING_RUN.plural)
async def training_run_event(*, event: kopf.RawEvent, body: kopf.Body, **kwargs: Any) -> None:
    """Reconcile a TrainingRun on every change of it."""
    if going(event, body):
        return  # garbage collection removes the Job, which stops training
    await reconcile(snapshot(body), kwargs)


async def reconcile(body: dict[str, Any], indexes: dict[str, Any]) -> None:
    """Wait for the Dataset, run this revision's Job, publish the Model."""
    async with reconciling(KIND, body) as status:
        if outdated(body, status):
            return  # a newer generation was reconciled meanwhile
        owner = Owner.from_body(KIND, body)
        spec = parse(TrainingRunSpec, body)
        if isinstance(spec, JobOutcome):
            return await write_outcome(KIND, owner, status, spec)
        dataset = latest(indexes["datasets"], (owner.namespace, spec.dataset_ref.name))
        blocked = dataset_blocker(dataset, spec.dataset_ref.name)
        run = run_for(body, status)  # the newest run request (a schedule's, say), if any
        name = job_name(owner, spec, run)
        if blocked is not None or dataset is None:
            if not status.get("jobName"):  # a run already started keeps going
                return await write_outcome(
                    KIND, owner, status, blocked or JobOutcome(Phase.PENDING, "", "")
                )
            if dataset is None or (run and status.get("jobName") != name):
                # A requested retrain waits for the Dataset's refresh to succeed,
                # so it trains on the newest version (its event wakes us).
                return
        settings = get_settings()
        followed = await follow_job(
            KIND,
            owner,
            status,
            name,
            lambda: build_training_children(
                owner, spec, manifest_uri(dataset, settings), settings, run
            ),
            spec.suspend,
            indexes,
            keep_finished=spec.schedule is not None,
        )
        if followed is None:
            return
        outcome, failure, restarts = followed
        desired = bounded_status(status, owner.generation, name, outcome, failure)
        desired |= {"restarts": restarts} | new_run_reset(status, name)
        desired = with_schedule(desired, spec.schedule, outcome, run)
        if outcome.phase == Phase.SUCCEEDED:
            # Each revision's Job publishes its own policy: after a spec edit the
            # Model must move to the new one (it once stayed on the first).
            model = latest(indexes["models"], (owner.namespace, model_name(owner, spec)))
            if published_by(model) != name:
                checksum = (dataset.get("status") or {}).get("checksum")
                await kube.apply(build_model(owner, spec, settings, checksum, run))
            desired["modelName"] = model_name(owner, spec)
        await write_status(KIND, owner, status, desired)
