"""Schedules: a timer per scheduled Dataset or TrainingRun requests its runs.

The operator is the scheduler (no CronJob objects): every few seconds the
timer asks the pure `plan` whether a scheduled time is due and, if so, sets
the run-request annotation to that time; the kind's own handler then makes
the Job named after it. The annotation goes first and the status after, so an
operator that stops between the two finds the same time due again and sets
the same annotation: one scheduled time is one Job, however often it restarts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import kopf
from pydantic import ValidationError

from .. import kube
from ..api import DATASET, GROUP, TRAINING_RUN, VERSION
from ..api.common import API_VERSION, Schedule
from ..builders import dataset as dataset_builder
from ..builders import training_run as training_builder
from ..builders.common import Owner, shorten
from ..builders.schedule import (
    Tick,
    active_run,
    expired_jobs,
    parse_time,
    plan,
    request_annotations,
)
from ..conditions import merge
from .indexes import snapshot
from .job_owner import reconciling, write_status

EVERY = 5.0
"""Seconds between looks at a schedule: cron's resolution is a minute, so a run
starts at most this late, and a look that finds nothing due costs no API call."""

# The Job component each kind's runs carry (its `app.kubernetes.io/component`).
COMPONENTS = {
    DATASET.kind: dataset_builder.COMPONENT,
    TRAINING_RUN.kind: training_builder.COMPONENT,
}


def utc_now() -> dt.datetime:
    """The current time."""
    return dt.datetime.now(dt.UTC)


clock: Callable[[], dt.datetime] = utc_now
"""What the timers read the time from; tests set their own."""

# Per resource UID, the run and phase whose finished Jobs were last pruned: a
# listing of Jobs happens when that changes, not on every look.
_pruned: dict[str, tuple[str | None, str | None]] = {}


@kopf.timer(GROUP, VERSION, DATASET.plural, field="spec.schedule", interval=EVERY)
async def dataset_schedule(*, body: kopf.Body, **_: Any) -> None:
    """Request a Dataset refresh when its schedule is due."""
    await tick(DATASET.kind, body)


@kopf.timer(GROUP, VERSION, TRAINING_RUN.plural, field="spec.schedule", interval=EVERY)
async def training_run_schedule(*, body: kopf.Body, **_: Any) -> None:
    """Request a TrainingRun retrain when its schedule is due."""
    await tick(TRAINING_RUN.kind, body)


async def tick(kind: str, body: kopf.Body) -> None:
    """One look at a resource's schedule: request the due run, write what was decided."""
    if body.metadata.get("deletionTimestamp"):
        return
    try:
        schedule = Schedule.model_validate(body.spec.get("schedule"))
    except ValidationError:
        return  # the kind's own handler reports the invalid spec
    created = parse_time(body.metadata.get("creationTimestamp")) or clock()
    owner = Owner.from_body(kind, body)
    now = clock()
    if _still_quiet(owner.uid, schedule, dict(body.status), now):
        return
    async with reconciling(kind, snapshot(body)) as status:
        decided = plan(schedule, status, created, now, active_run(status))
        _remember_quiet(owner.uid, schedule, status, decided)
        if decided.request is not None:
            await kube.annotate(
                kind, owner.name, owner.namespace, request_annotations(decided.request, "schedule")
            )
        desired = dict(decided.fields)
        desired["conditions"] = merge(
            status.get("conditions"), [decided.condition], owner.generation
        )
        await write_status(kind, owner, status, desired)
        announce(owner, decided)
        await prune(kind, owner, schedule, status)


# Per resource UID, a look that found nothing due: (schedule, lastScheduleTime, the
# next time). Until that time nothing falls due (croniter costs about a
# millisecond a look), so a look is one comparison; an edit of the schedule, a
# new request or a run that moves on (prune's key) makes it look again.
_quiet: dict[str, tuple[Schedule, str | None, dt.datetime]] = {}


def _still_quiet(uid: str, schedule: Schedule, status: dict[str, Any], now: dt.datetime) -> bool:
    quiet = _quiet.get(uid)
    if quiet is None or quiet[:2] != (schedule, status.get("lastScheduleTime")):
        return False
    return now < quiet[2] and _pruned.get(uid) == (status.get("jobName"), status.get("phase"))


def _remember_quiet(uid: str, schedule: Schedule, status: dict[str, Any], decided: Tick) -> None:
    # A Forbid skip waits on the active run, not on the clock: look again each time.
    next_at = parse_time(decided.fields.get("nextScheduleTime"))
    if decided.request is None and next_at and decided.condition.reason != "ConcurrentRunSkipped":
        _quiet[uid] = (schedule, status.get("lastScheduleTime"), next_at)
    else:
        _quiet.pop(uid, None)


def announce(owner: Owner, decided: Tick) -> None:
    """Post the tick's Event, if it has one (kopf sends it in the background)."""
    if decided.event is None:
        return
    type_, reason, message = decided.event
    ref = {
        "apiVersion": API_VERSION,
        "kind": owner.kind,
        "metadata": {"name": owner.name, "namespace": owner.namespace, "uid": owner.uid},
    }
    kopf.event(ref, type=type_, reason=reason, message=message[:1024])  # type: ignore[arg-type]


async def prune(kind: str, owner: Owner, schedule: Schedule, status: dict[str, Any]) -> None:
    """Delete the owner's finished runs beyond the schedule's history limits."""
    seen = (status.get("jobName"), status.get("phase"))
    if _pruned.get(owner.uid) == seen:
        return
    labels = {
        f"kubetrade.io/{kind.lower()}": shorten(owner.name),
        "app.kubernetes.io/component": COMPONENTS[kind],
    }
    jobs = [
        job
        for job in await kube.jobs_labelled(owner.namespace, labels)
        if any(ref.get("uid") == owner.uid for ref in job["metadata"].get("ownerReferences") or ())
    ]
    for name in expired_jobs(jobs, schedule, status.get("jobName")):
        await kube.delete_run(owner.namespace, name)
    _pruned[owner.uid] = seen
