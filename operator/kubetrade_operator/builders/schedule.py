"""When a schedule is due, computed purely, with Kubernetes CronJob's rules.

The operator schedules by itself (no CronJob objects): a timer asks `due` every
few seconds and, when a time is due, requests a run on the resource (the
`kubetrade.io/run-requested-at` annotation). The rules are the CronJob
controller's (pkg/controller/cronjob, `mostRecentScheduleTime`):

- only the most recent missed time runs, however many were missed;
- with `startingDeadlineSeconds`, a time missed by more than that is skipped;
- over 100 missed times (counted since the deadline window, or since the last
  run or creation without one) is reported as TooManyMissedTimes; the most
  recent time still runs, as the CronJob controller has done since 1.21.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# croniter ships no type hints (types-croniter lags its releases); its results
# are narrowed in `_at`.
from croniter import croniter  # type: ignore[import-untyped]
from croniter.croniter import CroniterError  # type: ignore[import-untyped]

from ..api.common import ConcurrencyPolicy, Phase, Schedule
from ..conditions import FALSE, TRUE, Cond
from .job_status import JobOutcome, job_outcome

MAX_MISSED = 100
"""The CronJob controller's bound on missed start times before it complains."""

RUN_REQUESTED_AT = "kubetrade.io/run-requested-at"
"""Annotation: an RFC 3339 UTC time (seconds) at which someone asked for a run."""
RUN_REASON = "kubetrade.io/run-reason"
"""Annotation: why the newest run was requested (`schedule`, `drift`, ...)."""
STAMP_FORMAT = "%Y%m%d%H%M%S"


class ScheduleError(ValueError):
    """A schedule that cannot be followed: an unknown zone, a date that never comes."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Due:
    """What the schedule says at one instant."""

    run_at: dt.datetime | None
    """The scheduled time to run now (the most recent missed one), or None."""
    next_at: dt.datetime
    """The next scheduled time after now."""
    missed: int
    """Scheduled times passed since the last run (capped at MAX_MISSED + 1)."""
    too_late: dt.datetime | None = None
    """A scheduled time skipped because it is past the starting deadline."""

    @property
    def too_many_missed(self) -> bool:
        """Over 100 missed start times, as the CronJob controller reports them."""
        return self.missed > MAX_MISSED


def zone(schedule: Schedule) -> ZoneInfo:
    """The schedule's time zone, or ScheduleError(UnknownTimeZone)."""
    try:
        return ZoneInfo(schedule.time_zone)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ScheduleError(
            "UnknownTimeZone", f"unknown time zone {schedule.time_zone!r}: {err}"
        ) from err


def due(
    schedule: Schedule,
    last_schedule_time: dt.datetime | None,
    created: dt.datetime,
    now: dt.datetime,
) -> Due:
    """The time to run at `now` (if any) and the next time, by CronJob's rules.

    Times are timezone-aware; the cron fields are read in `schedule.timeZone`
    (a time skipped by a daylight-saving jump runs at the jump, one repeated by
    it runs twice: croniter's reading; robfig/cron, behind CronJob, may differ
    at these edges).
    """
    tz = zone(schedule)
    now = now.replace(microsecond=0)
    base = last_schedule_time or created
    earliest = base
    if schedule.starting_deadline_seconds is not None:
        # Times before the deadline window are not looked at (CronJob's clamp).
        earliest = max(base, now - dt.timedelta(seconds=schedule.starting_deadline_seconds))
    try:
        next_at = _at(croniter(schedule.cron, now.astimezone(tz)).get_next(dt.datetime))
        # The newest scheduled time at or before now (get_prev is strict, hence +1 s).
        after_now = (now + dt.timedelta(seconds=1)).astimezone(tz)
        latest = _at(croniter(schedule.cron, after_now).get_prev(dt.datetime))
    except CroniterError as err:
        raise ScheduleError("InvalidSchedule", f"{schedule.cron!r}: {err}") from err
    if latest <= base:
        return Due(None, next_at, 0)
    if latest <= earliest:
        return Due(None, next_at, 0, too_late=latest)
    return Due(latest, next_at, _count(schedule.cron, earliest.astimezone(tz), latest))


def _at(value: Any) -> dt.datetime:
    # croniter returns the type it was asked for; mypy sees Any.
    if not isinstance(value, dt.datetime):
        raise TypeError(f"croniter returned {type(value).__name__}, not a datetime")
    return value.astimezone(dt.UTC)


def _count(cron: str, after: dt.datetime, latest: dt.datetime) -> int:
    """Scheduled times in (after, latest], counted up to MAX_MISSED + 1."""
    it = croniter(cron, after)
    for count in range(1, MAX_MISSED + 2):
        if _at(it.get_next(dt.datetime)) >= latest:
            return count
    return MAX_MISSED + 1


def rfc3339(value: dt.datetime) -> str:
    """A time as Kubernetes writes it: UTC, seconds, `Z`."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str | None) -> dt.datetime | None:
    """An RFC 3339 time (as in status or an annotation), or None if absent or unreadable."""
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def run_stamp(body: Mapping[str, Any]) -> str | None:
    """The newest run request on a resource as `yyyymmddhhmmss` (UTC), or None.

    It names the run's Job and output, so one request is one run however often
    the operator restarts; an unreadable annotation requests nothing.
    """
    annotations = (body.get("metadata") or {}).get("annotations") or {}
    requested = parse_time(annotations.get(RUN_REQUESTED_AT))
    return requested.astimezone(dt.UTC).strftime(STAMP_FORMAT) if requested else None


def run_for(body: Mapping[str, Any], status: Mapping[str, Any]) -> str | None:
    """The stamp of the run to follow: the newest request's, unless the run the
    status reports answers a newer one. So a request that is removed, or set back
    to an earlier time, starts nothing (it would re-run into a used location)."""
    requested = run_stamp(body)
    answered = parse_time(status.get("runRequestedAt"))
    if answered is None:
        return requested
    current = answered.astimezone(dt.UTC).strftime(STAMP_FORMAT)
    return requested if requested is not None and requested > current else current


def request_annotations(at: dt.datetime, reason: str) -> dict[str, str]:
    """The annotations that request a run at `at` for `reason`."""
    return {RUN_REQUESTED_AT: rfc3339(at), RUN_REASON: reason}


def expired_jobs(
    jobs: Iterable[Mapping[str, Any]], schedule: Schedule, current: str | None
) -> list[str]:
    """Names of finished Jobs beyond the schedule's history limits, oldest first.

    `jobs` are Job manifests of one owner. The run the status reports
    (`current`) counts towards its limit but is never deleted; unfinished Jobs
    are neither counted nor deleted.
    """
    finished: dict[bool, list[tuple[str, str]]] = {True: [], False: []}
    for job in jobs:
        outcome = _finished(job)
        if outcome is not None:
            meta = job["metadata"]
            finished[outcome].append((str(meta.get("creationTimestamp") or ""), str(meta["name"])))
    out: list[tuple[str, str]] = []
    for outcome, limit in (
        (True, schedule.successful_runs_history_limit),
        (False, schedule.failed_runs_history_limit),
    ):
        done = sorted(finished[outcome])
        out += done[: max(len(done) - limit, 0)]
    return [name for _, name in sorted(out) if name != current]


def _finished(job: Mapping[str, Any]) -> bool | None:
    """True: succeeded; False: failed; None: not finished."""
    return {Phase.SUCCEEDED: True, Phase.FAILED: False}.get(job_outcome(job).phase)


def success_time(schedule: Schedule | None, outcome: JobOutcome) -> dict[str, str]:
    """`lastSuccessfulTime` for the status of a scheduled resource whose run succeeded."""
    if schedule is None or outcome.phase != Phase.SUCCEEDED or not outcome.completion_time:
        return {}
    return {"lastSuccessfulTime": outcome.completion_time}


SCHEDULED = "Scheduled"
# Reasons that describe the schedule's state rather than news of a run: a tick
# with nothing due replaces them; news stays until the next request.
_STATE_REASONS = frozenset(
    {SCHEDULED, "Suspended", "UnknownTimeZone", "InvalidSchedule", "ConcurrentRunSkipped"}
)


@dataclass(frozen=True)
class Tick:
    """What one look at a schedule decides."""

    request: dt.datetime | None
    """Request a run for this scheduled time (set the run-request annotation)."""
    fields: dict[str, Any]
    """Status fields to write besides the condition."""
    condition: Cond
    event: tuple[str, str, str] | None = None
    """A Kubernetes Event to post: (type, reason, message)."""


def plan(
    schedule: Schedule,
    status: Mapping[str, Any],
    created: dt.datetime,
    now: dt.datetime,
    active: str | None,
) -> Tick:
    """The tick of a scheduled resource at `now`; `active` names its run still going."""
    if schedule.suspend:
        return Tick(None, {}, Cond(SCHEDULED, FALSE, "Suspended", "spec.schedule.suspend is set"))
    try:
        found = due(schedule, parse_time(status.get("lastScheduleTime")), created, now)
    except ScheduleError as err:
        return Tick(None, {}, Cond(SCHEDULED, FALSE, err.reason, str(err)))
    fields: dict[str, Any] = {"nextScheduleTime": rfc3339(found.next_at)}
    if found.too_late is not None:
        message = (
            f"missed the run scheduled for {rfc3339(found.too_late)} by more than "
            f"startingDeadlineSeconds ({schedule.starting_deadline_seconds})"
        )
        return Tick(None, fields, Cond(SCHEDULED, TRUE, "MissedSchedule", message))
    if found.run_at is None:
        return Tick(None, fields, _waiting(status))
    at = rfc3339(found.run_at)
    if active and schedule.concurrency_policy == ConcurrencyPolicy.FORBID:
        message = f"the run scheduled for {at} waits: run {active} is still active (Forbid)"
        return Tick(None, fields, Cond(SCHEDULED, TRUE, "ConcurrentRunSkipped", message))
    fields["lastScheduleTime"] = at
    replaced = f", replacing active run {active}" if active else ""
    if found.too_many_missed:
        message = (
            f"requested the run scheduled for {at}{replaced} after too many missed start "
            f"times (> {MAX_MISSED}); set or decrease startingDeadlineSeconds or check clock skew"
        )
        cond = Cond(SCHEDULED, FALSE, "TooManyMissedTimes", message)
        return Tick(found.run_at, fields, cond, ("Warning", "TooManyMissedTimes", message))
    message = f"requested the run scheduled for {at}{replaced}"
    cond = Cond(SCHEDULED, TRUE, "RunRequested", message)
    return Tick(found.run_at, fields, cond, ("Normal", "RunRequested", message))


def _waiting(status: Mapping[str, Any]) -> Cond:
    """Nothing due: the news of the last request stays, a stale state does not."""
    for cond in status.get("conditions") or ():
        if cond.get("type") == SCHEDULED and cond.get("reason") not in _STATE_REASONS:
            return Cond(
                SCHEDULED, str(cond["status"]), str(cond["reason"]), cond.get("message", "")
            )
    return Cond(SCHEDULED, TRUE, SCHEDULED, "waiting for the next scheduled time")


def active_run(status: Mapping[str, Any]) -> str | None:
    """The run (Job) a resource's status reports as not finished, if any."""
    phase = status.get("phase")
    job = status.get("jobName")
    running = (Phase.PENDING.value, Phase.RUNNING.value, Phase.SUSPENDED.value)
    return str(job) if job and phase in running else None


def unscheduled(desired: dict[str, Any]) -> dict[str, Any]:
    """`desired` status of a resource whose schedule was removed: no next time and
    no `Scheduled` condition left to suggest a run will come (a `null` deletes the
    field in the merge patch; an absent one stays absent)."""
    conditions = desired.get("conditions") or []
    kept = [c for c in conditions if c.get("type") != SCHEDULED]
    return {**desired, "conditions": kept, "nextScheduleTime": None}


def with_schedule(
    desired: dict[str, Any], schedule: Schedule | None, outcome: JobOutcome, run: str | None
) -> dict[str, Any]:
    """A run's `desired` status with the request it answers (`run`, its stamp) and
    what its schedule adds (`lastSuccessfulTime`), or, with no schedule, with none
    of a removed one's traces."""
    if run is not None:
        requested = dt.datetime.strptime(run, STAMP_FORMAT).replace(tzinfo=dt.UTC)
        desired = desired | {"runRequestedAt": rfc3339(requested)}
    if schedule is None:
        return unscheduled(desired)
    return desired | success_time(schedule, outcome)
