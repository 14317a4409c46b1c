"""When a schedule is due, by CronJob's rules: against croniter's own iteration,
across daylight-saving changes, with a starting deadline, after many missed times."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from kubetrade_operator.api.common import Phase, Schedule
from kubetrade_operator.builders.job_status import JobOutcome
from kubetrade_operator.builders.schedule import (
    MAX_MISSED,
    RUN_REASON,
    RUN_REQUESTED_AT,
    Due,
    active_run,
    due,
    expired_jobs,
    plan,
    request_annotations,
    run_for,
    run_stamp,
    unscheduled,
    with_schedule,
)
from kubetrade_operator.conditions import status_diff

UTC = dt.UTC


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def sched(cron: str, **fields: object) -> Schedule:
    return Schedule.model_validate({"cron": cron, **fields})


def due_at(schedule: Schedule, last: str, now: str, created: str = "2026-12-01T00:00:00") -> Due:
    """`due` on times written as text (UTC)."""
    return due(schedule, at(last), at(created), at(now))


# --- the API's cron pattern -------------------------------------------------------


@pytest.mark.parametrize(
    "cron",
    [
        "*/1 * * * *",
        "0 2 * * 1-5",
        "30 1 * * MON,fri",
        "0 0 1 jan *",
        "0,15,30,45 */2 1-15/2 * 0",
        "0 9 ? * 7",
        "@hourly",
        "@daily",
        "@weekly",
        "@monthly",
        "@yearly",
    ],
)
def test_cron_the_api_accepts_croniter_reads(cron: str) -> None:
    assert croniter.is_valid(sched(cron).cron)


@pytest.mark.parametrize(
    "cron",
    [
        "* * * *",  # four fields
        "* * * * * *",  # six: seconds are not cron's
        "60 * * * *",
        "* 24 * * *",
        "0 0 32 * *",
        "0 0 0 * *",
        "0 0 * 13 *",
        "0 0 * * 8",
        "*/0 * * * *",
        "@every 1h",
        "TZ=UTC 0 0 * * *",
        "daily",
        "",
    ],
)
def test_cron_the_api_rejects(cron: str) -> None:
    with pytest.raises(ValidationError) as err:
        sched(cron)
    assert err.value.errors()[0]["loc"] == ("cron",)


@pytest.mark.parametrize("zone", ["Europe/Paris", "America/Argentina/Buenos_Aires", "Etc/GMT+5"])
def test_time_zone_pattern_accepts_iana_names(zone: str) -> None:
    assert sched("@daily", timeZone=zone).time_zone == zone


def test_time_zone_pattern_rejects_what_is_no_zone_name() -> None:
    for zone in ("Europe/", "../etc/passwd", "UTC 1", "+05:00"):
        with pytest.raises(ValidationError):
            sched("@daily", timeZone=zone)


def test_schedule_defaults_are_cronjobs() -> None:
    wire = sched("@daily").to_wire()
    assert wire == {
        "cron": "@daily",
        "timeZone": "UTC",
        "concurrencyPolicy": "Forbid",
        "successfulRunsHistoryLimit": 3,
        "failedRunsHistoryLimit": 1,
        "suspend": False,
    }
    with pytest.raises(ValidationError):
        sched("@daily", concurrencyPolicy="Allow")


# --- due, against croniter's own iteration ----------------------------------------

CRONS = ["*/1 * * * *", "*/7 * * * *", "0 * * * *", "15,45 */3 * * *", "0 9 * * 1-5", "@daily"]
ZONES = ["UTC", "Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]


def _oracle(
    schedule: Schedule, last: dt.datetime | None, created: dt.datetime, now: dt.datetime
) -> tuple[dt.datetime | None, int]:
    """Walk croniter forward from the earliest time that counts, one time at a time."""
    earliest = last or created
    if schedule.starting_deadline_seconds is not None:
        earliest = max(earliest, now - dt.timedelta(seconds=schedule.starting_deadline_seconds))
    it = croniter(schedule.cron, earliest.astimezone(ZoneInfo(schedule.time_zone)))
    times: list[dt.datetime] = []
    while len(times) <= MAX_MISSED:
        t = it.get_next(dt.datetime).astimezone(UTC)
        if t > now:
            break
        times.append(t)
    if len(times) <= MAX_MISSED:
        return (times[-1] if times else None), len(times)
    # Past the cap: the most recent time still runs.
    while (t := it.get_next(dt.datetime).astimezone(UTC)) <= now:
        times.append(t)
    return times[-1], MAX_MISSED + 1


@settings(max_examples=300, deadline=None)
@given(
    cron=st.sampled_from(CRONS),
    zone=st.sampled_from(ZONES),
    created=st.datetimes(dt.datetime(2025, 1, 1), dt.datetime(2027, 12, 1)),
    since_created=st.integers(0, 3 * 86400),
    since_last=st.none() | st.integers(0, 86400),
    deadline=st.none() | st.integers(0, 7200),
)
def test_due_runs_the_most_recent_time_croniter_lists(
    cron: str,
    zone: str,
    created: dt.datetime,
    since_created: int,
    since_last: int | None,
    deadline: int | None,
) -> None:
    created = created.replace(tzinfo=UTC, microsecond=0)
    now = created + dt.timedelta(seconds=since_created)
    last = None if since_last is None else max(created, now - dt.timedelta(seconds=since_last))
    schedule = sched(cron, timeZone=zone, startingDeadlineSeconds=deadline)

    found = due(schedule, last, created, now)

    run_at, missed = _oracle(schedule, last, created, now)
    assert found.run_at == run_at
    if run_at is not None:
        assert found.missed == missed
        assert found.too_many_missed == (missed > MAX_MISSED)
    assert now < found.next_at
    assert croniter.match(cron, found.next_at.astimezone(ZoneInfo(zone)))


def test_a_time_exactly_now_is_due() -> None:
    found = due_at(sched("0 * * * *"), "2026-12-06T11:00:00", "2026-12-06T12:00:00")
    assert found.run_at == at("2026-12-06T12:00:00")
    assert found.next_at == at("2026-12-06T13:00:00")


def test_nothing_is_due_twice() -> None:
    schedule = sched("*/5 * * * *")
    created = at("2026-12-06T11:58:00")
    first = due(schedule, None, created, at("2026-12-06T12:03:00"))
    assert first.run_at == at("2026-12-06T12:00:00") and first.missed == 1
    again = due(schedule, first.run_at, created, at("2026-12-06T12:04:59"))
    assert again.run_at is None and again.next_at == at("2026-12-06T12:05:00")


def test_only_the_most_recent_missed_time_runs() -> None:
    found = due_at(sched("@hourly"), "2026-12-06T03:00:00", "2026-12-06T12:10:00")
    assert found.run_at == at("2026-12-06T12:00:00")
    assert found.missed == 9 and not found.too_many_missed


# --- daylight saving ---------------------------------------------------------------


def test_a_time_spring_forward_skips_runs_at_the_jump() -> None:
    # London: 2026-03-29 01:00 GMT becomes 02:00 BST; 01:30 local never happens.
    schedule = sched("30 1 * * *", timeZone="Europe/London")
    found = due(
        schedule, at("2026-03-28T01:30:00"), at("2026-03-01T00:00:00"), at("2026-03-29T01:05:00")
    )
    assert found.run_at == at("2026-03-29T01:00:00")  # 02:00 BST, the first instant after
    assert found.next_at == at("2026-03-30T00:30:00")  # 01:30 BST


def test_a_time_fall_back_repeats_runs_on_both() -> None:
    # London: 2026-10-25 02:00 BST becomes 01:00 GMT; 01:30 local happens twice.
    schedule = sched("30 1 * * *", timeZone="Europe/London")
    created = at("2026-10-01T00:00:00")
    first = due(schedule, at("2026-10-24T00:30:00"), created, at("2026-10-25T00:31:00"))
    assert first.run_at == at("2026-10-25T00:30:00")  # 01:30 BST
    second = due(schedule, first.run_at, created, at("2026-10-25T01:31:00"))
    assert second.run_at == at("2026-10-25T01:30:00")  # 01:30 GMT


def test_a_zone_moves_the_utc_time_with_its_offset() -> None:
    schedule = sched("0 9 * * *", timeZone="America/New_York")
    created = at("2026-01-01T00:00:00")
    assert due(schedule, None, created, at("2026-01-05T15:00:00")).next_at == at(
        "2026-01-06T14:00:00"
    )
    assert due(schedule, None, created, at("2026-07-05T15:00:00")).next_at == at(
        "2026-07-06T13:00:00"
    )


# --- the starting deadline and too many missed times -------------------------------


def test_a_time_missed_by_more_than_the_deadline_is_skipped() -> None:
    schedule = sched("@hourly", startingDeadlineSeconds=600)
    found = due(
        schedule, at("2026-12-06T10:00:00"), at("2026-12-01T00:00:00"), at("2026-12-06T12:30:00")
    )
    assert found.run_at is None
    assert found.too_late == at("2026-12-06T12:00:00")
    assert found.next_at == at("2026-12-06T13:00:00")


def test_a_time_within_the_deadline_runs_late() -> None:
    schedule = sched("@hourly", startingDeadlineSeconds=3600)
    found = due(
        schedule, at("2026-12-06T10:00:00"), at("2026-12-01T00:00:00"), at("2026-12-06T12:30:00")
    )
    assert found.run_at == at("2026-12-06T12:00:00") and found.missed == 1


def test_over_a_hundred_missed_times_without_a_deadline_is_reported_and_still_runs() -> None:
    schedule = sched("*/1 * * * *")
    last, now = at("2026-12-06T09:00:00"), at("2026-12-06T12:00:30")
    found = due(schedule, last, at("2026-12-01T00:00:00"), now)
    assert found.too_many_missed and found.run_at == at("2026-12-06T12:00:00")
    tick = plan(schedule, {"lastScheduleTime": "2026-12-06T09:00:00Z"}, last, now, None)
    assert tick.request == at("2026-12-06T12:00:00")
    assert (tick.condition.status, tick.condition.reason) == ("False", "TooManyMissedTimes")
    assert tick.event is not None and tick.event[:2] == ("Warning", "TooManyMissedTimes")
    assert "startingDeadlineSeconds" in tick.condition.message


def test_a_deadline_bounds_the_missed_count() -> None:
    schedule = sched("*/1 * * * *", startingDeadlineSeconds=300)
    found = due(
        schedule, at("2026-12-06T09:00:00"), at("2026-12-01T00:00:00"), at("2026-12-06T12:00:30")
    )
    assert not found.too_many_missed and found.missed == 5


# --- plan: suspend, zones, concurrency ---------------------------------------------

CREATED = at("2026-12-06T11:00:00")
NOW = at("2026-12-06T12:00:10")


def test_suspended_schedule_requests_nothing() -> None:
    tick = plan(sched("@hourly", suspend=True), {}, CREATED, NOW, None)
    assert tick.request is None
    assert (tick.condition.status, tick.condition.reason) == ("False", "Suspended")


def test_unknown_zone_is_a_condition_not_a_crash() -> None:
    tick = plan(sched("@hourly", timeZone="Mars/Olympus_Mons"), {}, CREATED, NOW, None)
    assert tick.request is None
    assert (tick.condition.status, tick.condition.reason) == ("False", "UnknownTimeZone")
    assert "Mars/Olympus_Mons" in tick.condition.message


def test_a_date_that_never_comes_is_a_condition() -> None:
    tick = plan(sched("0 0 31 2 *"), {}, CREATED, NOW, None)
    assert (tick.condition.status, tick.condition.reason) == ("False", "InvalidSchedule")


def test_forbid_skips_while_a_run_is_active_and_runs_late_after() -> None:
    schedule = sched("@hourly")
    skipped = plan(schedule, {}, CREATED, NOW, "ds-data-1")
    assert skipped.request is None and "lastScheduleTime" not in skipped.fields
    assert skipped.condition.reason == "ConcurrentRunSkipped"
    assert "ds-data-1" in skipped.condition.message
    # As a CronJob: once the run finished, the skipped time runs (no deadline passed).
    later = plan(schedule, {}, CREATED, NOW + dt.timedelta(minutes=20), None)
    assert later.request == at("2026-12-06T12:00:00")
    assert later.fields["lastScheduleTime"] == "2026-12-06T12:00:00Z"


def test_forbid_with_a_deadline_drops_the_time_the_active_run_outlived() -> None:
    schedule = sched("@hourly", startingDeadlineSeconds=300)
    later = plan(schedule, {}, CREATED, NOW + dt.timedelta(minutes=20), None)
    assert later.request is None and later.condition.reason == "MissedSchedule"


def test_replace_requests_over_an_active_run() -> None:
    tick = plan(sched("@hourly", concurrencyPolicy="Replace"), {}, CREATED, NOW, "ds-data-1")
    assert tick.request == at("2026-12-06T12:00:00")
    assert tick.condition.reason == "RunRequested" and "ds-data-1" in tick.condition.message
    assert tick.fields == {
        "lastScheduleTime": "2026-12-06T12:00:00Z",
        "nextScheduleTime": "2026-12-06T13:00:00Z",
    }


def test_nothing_due_keeps_the_news_and_drops_a_stale_state() -> None:
    status = {"lastScheduleTime": "2026-12-06T12:00:00Z"}
    news = {"type": "Scheduled", "status": "False", "reason": "TooManyMissedTimes", "message": "m"}
    kept = plan(sched("@hourly"), {**status, "conditions": [news]}, CREATED, NOW, None)
    assert kept.request is None and kept.condition.reason == "TooManyMissedTimes"
    stale = {**news, "status": "False", "reason": "Suspended"}
    fresh = plan(sched("@hourly"), {**status, "conditions": [stale]}, CREATED, NOW, None)
    assert (fresh.condition.status, fresh.condition.reason) == ("True", "Scheduled")


def test_active_run_is_an_unfinished_job() -> None:
    assert active_run({"jobName": "j", "phase": "Running"}) == "j"
    assert active_run({"jobName": "j", "phase": "Pending"}) == "j"
    assert active_run({"jobName": "j", "phase": "Succeeded"}) is None
    assert active_run({"phase": "Pending"}) is None


# --- run requests and history ------------------------------------------------------


def test_a_request_is_a_utc_stamp_and_a_reason() -> None:
    paris = dt.datetime(2026, 12, 6, 13, 0, tzinfo=ZoneInfo("Europe/Paris"))
    annotations = request_annotations(paris, "drift")
    assert annotations == {RUN_REQUESTED_AT: "2026-12-06T12:00:00Z", RUN_REASON: "drift"}
    assert run_stamp({"metadata": {"annotations": annotations}}) == "20261206120000"
    assert run_stamp({"metadata": {"annotations": {RUN_REQUESTED_AT: "yesterday"}}}) is None
    assert run_stamp({"metadata": {}}) is None


def _job(name: str, created: str, outcome: str | None) -> dict[str, object]:
    conditions = [{"type": outcome, "status": "True"}] if outcome else []
    return {
        "metadata": {"name": name, "creationTimestamp": created},
        "status": {"conditions": conditions},
    }


def test_history_limits_delete_the_oldest_finished_runs_only() -> None:
    jobs = [
        _job("ok-1", "2026-12-06T01:00:00Z", "Complete"),
        _job("ok-2", "2026-12-06T02:00:00Z", "Complete"),
        _job("bad-1", "2026-12-06T03:00:00Z", "Failed"),
        _job("ok-3", "2026-12-06T04:00:00Z", "Complete"),
        _job("bad-2", "2026-12-06T05:00:00Z", "Failed"),
        _job("running", "2026-12-06T00:00:00Z", None),
    ]
    limits = sched("@hourly", successfulRunsHistoryLimit=2, failedRunsHistoryLimit=1)
    assert expired_jobs(jobs, limits, current="bad-2") == ["ok-1", "bad-1"]
    # The run the status reports stays even when the limit is 0.
    none_kept = sched("@hourly", successfulRunsHistoryLimit=0, failedRunsHistoryLimit=0)
    assert expired_jobs(jobs, none_kept, current="ok-3") == ["ok-1", "ok-2", "bad-1", "bad-2"]


def test_a_removed_schedule_leaves_no_next_time_nor_condition() -> None:
    desired = {
        "phase": "Succeeded",
        "conditions": [
            {"type": "Succeeded", "status": "True", "reason": "JobComplete"},
            {"type": "Scheduled", "status": "True", "reason": "Scheduled"},
        ],
    }
    out = unscheduled(desired)
    assert [c["type"] for c in out["conditions"]] == ["Succeeded"]
    assert out["nextScheduleTime"] is None and out["phase"] == "Succeeded"
    assert status_diff({"phase": "Succeeded", "conditions": out["conditions"]}, out) == {}


def test_only_a_newer_request_starts_a_run() -> None:
    def body(at: str | None) -> dict[str, object]:
        return {"metadata": {"annotations": {RUN_REQUESTED_AT: at} if at else {}}}

    answered = {"runRequestedAt": "2026-12-06T12:00:00Z"}
    assert run_for(body(None), {}) is None
    assert run_for(body("2026-12-06T11:00:00Z"), {}) == "20261206110000"
    assert run_for(body("2026-12-06T13:00:00Z"), answered) == "20261206130000"
    # Removed, or set back: the run the status reports goes on; nothing re-runs.
    assert run_for(body(None), answered) == "20261206120000"
    assert run_for(body("2026-12-06T11:00:00Z"), answered) == "20261206120000"


def test_a_run_status_names_the_request_it_answers() -> None:
    ok = JobOutcome(Phase.SUCCEEDED, "JobComplete", "", "t0", "t1")
    scheduled = with_schedule({}, sched("@daily"), ok, "20261206120000")
    assert scheduled == {"runRequestedAt": "2026-12-06T12:00:00Z", "lastSuccessfulTime": "t1"}
    plain = with_schedule({"conditions": []}, None, ok, None)
    assert plain == {"conditions": [], "nextScheduleTime": None}
