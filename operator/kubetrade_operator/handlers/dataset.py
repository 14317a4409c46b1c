"""Dataset → ConfigMap + Job; status follows the Job."""

from __future__ import annotations

from typing import Any

import kopf

from ..api import DATASET, GROUP, VERSION, DatasetSpec
from ..builders.common import Owner
from ..builders.dataset import build_dataset_children, job_name
from ..builders.job_status import JobOutcome, bounded_status
from ..builders.schedule import run_for, with_schedule
from ..settings import get_settings
from .indexes import snapshot
from .job_owner import follow_job, going, outdated, parse, reconciling, write_outcome, write_status

KIND = DATASET.kind


@kopf.on.event(GROUP, VERSION, DATASET.plural)
async def dataset_event(*, event: kopf.RawEvent, body: kopf.Body, **kwargs: Any) -> None:
    """Reconcile a Dataset on every change of it."""
    if going(event, body):
        return  # garbage collection removes the ConfigMap and the Job
    await reconcile(snapshot(body), kwargs)


async def reconcile(body: dict[str, Any], indexes: dict[str, Any]) -> None:
    """Make sure the Job of this revision and newest run request exists and the
    status reflects it."""
    async with reconciling(KIND, body) as status:
        if outdated(body, status):
            return  # a newer generation was reconciled meanwhile
        owner = Owner.from_body(KIND, body)
        spec = parse(DatasetSpec, body)
        if isinstance(spec, JobOutcome):
            return await write_outcome(KIND, owner, status, spec)
        run = run_for(body, status)  # the newest run request (a schedule's, say), if any
        name = job_name(owner, spec, run)
        followed = await follow_job(
            KIND,
            owner,
            status,
            name,
            lambda: build_dataset_children(owner, spec, get_settings(), run),
            spec.suspend,
            indexes,
            keep_finished=spec.schedule is not None,
        )
        if followed is None:
            return
        outcome, failure, restarts = followed
        desired = bounded_status(status, owner.generation, name, outcome, failure)
        desired = with_schedule(desired | {"restarts": restarts}, spec.schedule, outcome, run)
        await write_status(KIND, owner, status, desired)
