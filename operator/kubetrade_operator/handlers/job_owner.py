"""What every resource that runs one Job to completion shares: make this
revision's children once, follow the Job, write status only when it changed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, NamedTuple, TypeVar

import kopf
from pydantic import BaseModel, ValidationError

from .. import kube, metrics
from ..api.common import API_VERSION, Phase
from ..builders.common import Owner
from ..builders.job_status import (
    PENDING,
    JobOutcome,
    bounded_status,
    invalid_spec,
    job_outcome,
    pod_failure,
)
from ..conditions import status_diff
from ..pods import PodsReport, report
from .indexes import job_pods, latest, pod_warnings
from .recent import RECENT


class Followed(NamedTuple):
    """Where this revision's Job stands, the reason it failed (read from its pods
    once), and how often its workload was started again."""

    outcome: JobOutcome
    failure: str | None
    restarts: int


async def follow_job(
    kind: str,
    owner: Owner,
    status: dict[str, Any],
    job_name: str,
    children: Callable[[], list[dict[str, Any]]],
    suspend: bool,
    indexes: dict[str, Any],
    keep_finished: bool = False,
) -> Followed | None:
    """This revision's Job made if missing, its suspension in step; its outcome.

    None when the Job was made earlier and has since gone (TTL after it
    finished): the recorded outcome stands and nothing is re-run. The Job it
    replaces is deleted, unless `keep_finished` and it finished: a schedule's
    history limits decide when finished runs go.
    """
    job = latest(indexes["kubetrade_jobs"], (owner.namespace, job_name))
    if job is None and status.get("jobName") == job_name:
        return None
    if job is None:
        for child in children():
            if await kube.ensure(child):
                metrics.CHILDREN_CREATED.labels(kind, child["kind"]).inc()
        previous = status.get("jobName")
        if previous and previous != job_name:
            old = latest(indexes["kubetrade_jobs"], (owner.namespace, previous))
            if not (keep_finished and _finished(old)):
                await kube.delete_job(owner.namespace, previous)  # the new run replaces the old
        return Followed(PENDING, None, 0)
    if bool(job["spec"].get("suspend")) != suspend:
        await kube.set_job_suspend(owner.namespace, job_name, suspend)
    pods = report(job_pods(indexes, owner.namespace, job_name), warnings=pod_warnings)
    outcome = with_pod_trouble(job_outcome(job), pods)
    failure = None
    if outcome.phase == Phase.FAILED:
        # Read the pods once; later reconciles keep the reason found then.
        if status.get("phase") == Phase.FAILED.value and status.get("jobName") == job_name:
            failure = status.get("message")
        else:
            failure = pod_failure(await kube.job_pods(owner.namespace, job_name))
    # A pod the Job replaced after it failed is a restart of the workload too.
    replaced = int((job.get("status") or {}).get("failed") or 0)
    return Followed(outcome, failure, pods.restarts + replaced)


def _finished(job: dict[str, Any] | None) -> bool:
    return job is not None and job_outcome(job).phase in (Phase.SUCCEEDED, Phase.FAILED)


def with_pod_trouble(outcome: JobOutcome, pods: PodsReport) -> JobOutcome:
    """A Job that is not done yet, with its pod's reason for not running (a missing
    Secret, an image that cannot be pulled, no node that fits) in place of the
    Job's counts, which cannot tell waiting from stuck."""
    if pods.trouble is None or outcome.phase not in (Phase.PENDING, Phase.RUNNING):
        return outcome
    return JobOutcome(Phase.PENDING, pods.trouble.reason, pods.trouble.message, outcome.start_time)


M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], body: dict[str, Any]) -> M | JobOutcome:
    """The typed spec, or a Failed outcome naming the first invalid field."""
    try:
        return model.model_validate(body["spec"])
    except ValidationError as err:
        first = err.errors()[0]
        return invalid_spec(tuple(first["loc"]), first["msg"])


def going(event: kopf.RawEvent, body: kopf.Body) -> bool:
    """True when the resource is deleted or being deleted: garbage collection,
    not a reconcile, removes its children."""
    if event["type"] == "DELETED" or body.metadata.get("deletionTimestamp"):
        RECENT.forget(str(body.metadata.uid))
        return True
    return False


@asynccontextmanager
async def reconciling(kind: str, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
    """The resource's turn to be reconciled, timed and counted; yields its status as
    the event or index shows it, or as we last wrote it when the watch has not
    delivered that write yet."""
    meta = body["metadata"]
    async with RECENT.turn(meta["uid"]):
        with metrics.reconciling(kind):
            yield RECENT.freshest(meta["uid"], meta.get("resourceVersion"), body["status"])


def outdated(body: dict[str, Any], status: dict[str, Any]) -> bool:
    """Whether `body` is older than the generation a reconcile already wrote status for.

    A Job's event reconciles the owner as the index held it when the event came,
    and may wait for the owner's turn behind a reconcile of the next generation.
    Going on with the older spec would write its status (and make its Job again,
    the newer one's just deleted) over the newer one's.
    """
    observed = status.get("observedGeneration")
    return isinstance(observed, int) and int(body["metadata"].get("generation") or 1) < observed


async def write_status(
    kind: str, owner: Owner, current: dict[str, Any], desired: dict[str, Any]
) -> None:
    """Patch the fields of `desired` that differ from `current`, if any."""
    changed = status_diff(current, desired)
    if changed:
        status, version = await kube.patch_status(kind, owner.name, owner.namespace, changed)
        RECENT.remember(owner.uid, version, status)
        if "phase" in changed:
            announce_phase(owner, current.get("phase"), changed["phase"], desired.get("message"))


# Phases a user should look at: a Warning Event, not a Normal one.
TROUBLE = frozenset({Phase.FAILED, Phase.HALTED, Phase.REJECTED})


def announce_phase(owner: Owner, before: str | None, after: str, message: str | None) -> None:
    """A Kubernetes Event per phase change (`kubectl describe`, `kubectl get events`).

    kopf posts it from a background queue, so the reconcile does not wait on it.
    """
    ref = {
        "apiVersion": API_VERSION,
        "kind": owner.kind,
        "metadata": {"name": owner.name, "namespace": owner.namespace, "uid": owner.uid},
    }
    text = f"{before or 'new'} -> {after}" + (f": {message}" if message else "")
    kopf.event(
        ref,  # type: ignore[arg-type]  # kopf reads only the identity
        type="Warning" if after in TROUBLE else "Normal",
        reason=after,
        message=text[:1024],
    )


async def write_outcome(
    kind: str, owner: Owner, status: dict[str, Any], outcome: JobOutcome
) -> None:
    """Status for an outcome reached without a Job (invalid spec, waiting)."""
    desired = bounded_status(status, owner.generation, status.get("jobName") or "", outcome)
    await write_status(kind, owner, status, desired)
