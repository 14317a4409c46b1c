"""Dataset → ConfigMap + Job; status follows the Job."""

from __future__ import annotations

from typing import Any

import kopf
from pydantic import ValidationError

from .. import kube, metrics
from ..api import DATASET, GROUP, VERSION, DatasetSpec
from ..api.common import Phase
from ..builders.common import Owner
from ..builders.dataset import build_dataset_children, job_name
from ..builders.job_status import JobOutcome, bounded_status, job_outcome, pod_failure
from ..conditions import status_diff
from ..settings import get_settings
from .indexes import latest, snapshot

KIND = DATASET.kind
PENDING = JobOutcome(Phase.PENDING, "JobCreated", "waiting for the workload's pod to start")


@kopf.on.event(GROUP, VERSION, DATASET.plural)
async def dataset_event(*, event: kopf.RawEvent, body: kopf.Body, **kwargs: Any) -> None:
    """Reconcile a Dataset on every change of it."""
    if event["type"] == "DELETED" or body.metadata.get("deletionTimestamp"):
        return  # garbage collection removes the ConfigMap and the Job
    await reconcile(snapshot(body), kwargs["kubetrade_jobs"])


async def reconcile(body: dict[str, Any], jobs: kopf.Index[Any, Any]) -> None:
    """Make sure this revision's Job exists and the status reflects it."""
    with metrics.reconciling(KIND):
        owner = Owner.from_body(KIND, body)
        status = body["status"]
        try:
            spec = DatasetSpec.model_validate(body["spec"])
        except ValidationError as err:
            await _write(owner, status, _invalid(owner, status, err))
            return
        name = job_name(owner, spec)
        job = latest(jobs, (owner.namespace, name))
        if job is None and status.get("jobName") == name:
            return  # made earlier and since removed (TTL): the recorded outcome stands
        if job is None:
            for child in build_dataset_children(owner, spec, get_settings()):
                if await kube.ensure(child):
                    metrics.CHILDREN_CREATED.labels(KIND, child["kind"]).inc()
            await _drop_previous(owner, status, name)
            outcome = PENDING
        else:
            if bool(job["spec"].get("suspend")) != spec.suspend:
                await kube.set_job_suspend(owner.namespace, name, spec.suspend)
            outcome = job_outcome(job)
        failure = None
        if outcome.phase == Phase.FAILED and status.get("phase") != Phase.FAILED.value:
            failure = pod_failure(await kube.job_pods(owner.namespace, name))
        await _write(
            owner, status, bounded_status(status, owner.generation, name, outcome, failure)
        )


async def _drop_previous(owner: Owner, status: dict[str, Any], current: str) -> None:
    """A new revision replaces the previous one's Job."""
    previous = status.get("jobName")
    if previous and previous != current:
        await kube.delete_job(owner.namespace, previous)


def _invalid(owner: Owner, status: dict[str, Any], err: ValidationError) -> dict[str, Any]:
    """A spec the API server let through but our model rejects (an older CRD)."""
    first = err.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    outcome = JobOutcome(Phase.FAILED, "InvalidSpec", f"spec.{where}: {first['msg']}")
    return bounded_status(status, owner.generation, status.get("jobName") or "", outcome)


async def _write(owner: Owner, current: dict[str, Any], desired: dict[str, Any]) -> None:
    changed = status_diff(current, desired)
    if changed:
        await kube.patch_status(KIND, owner.name, owner.namespace, changed)
