"""The owner's status tells why its pod does not run, read from pod status in the
shapes the kubelet and the scheduler write."""

from __future__ import annotations

import asyncio
from typing import Any

import kopf
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubetrade_operator.api.common import Phase
from kubetrade_operator.builders.common import shorten
from kubetrade_operator.builders.job_status import JobOutcome, bounded_status, job_outcome
from kubetrade_operator.conditions import FALSE, TRUE, Cond
from kubetrade_operator.handlers import indexes, jobs
from kubetrade_operator.handlers.indexes import pod_key
from kubetrade_operator.handlers.job_owner import with_pod_trouble as job_trouble
from kubetrade_operator.handlers.jobs import HEALTHY, labelled_owner, pod_news
from kubetrade_operator.handlers.trading_session import with_pod_trouble as session_trouble
from kubetrade_operator.pods import STUCK, PodsReport, Trouble, pod_trouble, report

STARTED = "2026-12-06T07:00:00Z"
UID = "0f5c3a52-8d1e-4a8e-9c1e-1d2f3a4b5c6d"


def _pod(
    *containers: dict[str, Any],
    created: str = STARTED,
    name: str = "p",
    phase: str = "Pending",
    **status: Any,
) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "creationTimestamp": created},
        "status": {"phase": phase, "containerStatuses": list(containers), **status},
    }


def _waiting(reason: str, message: str = "", **extra: Any) -> dict[str, Any]:
    waiting = {"reason": reason, **({"message": message} if message else {})}
    return {
        "name": "workload",
        "image": "kubetrade/workload:dev",
        "imageID": "",
        "ready": False,
        "started": False,
        "restartCount": 0,
        "state": {"waiting": waiting},
        "lastState": {},
        **extra,
    }


def _terminated(code: int, message: str = "", reason: str = "Error") -> dict[str, Any]:
    return {
        "terminated": {
            "exitCode": code,
            "reason": reason,
            "startedAt": STARTED,
            "finishedAt": "2026-12-06T07:00:02Z",
            "containerID": "containerd://abc",
            **({"message": message} if message else {}),
        }
    }


def _running(since: str, restarts: int, last: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "workload",
        "ready": True,
        "started": True,
        "restartCount": restarts,
        "state": {"running": {"startedAt": since}},
        "lastState": last,
    }


MISSING_SECRET = _pod(
    _waiting("CreateContainerConfigError", 'secret "alpaca-keys" not found'),
    conditions=[{"type": "PodScheduled", "status": "True"}],
)
CRASH_LOOP = _pod(
    _waiting(
        "CrashLoopBackOff",
        f"back-off 40s restarting failed container=workload pod=paper-trader-7d9_default({UID})",
        restartCount=3,
        lastState=_terminated(1, "Traceback ...\nKeyError: 'APCA_API_KEY_ID'\n"),
    ),
    phase="Running",
)
PULL_BACK_OFF = _pod(
    _waiting("ImagePullBackOff", 'Back-off pulling image "kubetrade/workload:nope"')
)
UNSCHEDULABLE = {
    "metadata": {"name": "p", "creationTimestamp": STARTED},
    "status": {
        "phase": "Pending",
        "conditions": [
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": "0/1 nodes are available: 1 Insufficient nvidia.com/gpu.",
            }
        ],
    },
}


def test_each_kubelet_and_scheduler_reason_is_named_with_its_message() -> None:
    secret = pod_trouble(MISSING_SECRET)
    assert secret == Trouble(
        "CreateContainerConfigError", 'container workload: secret "alpaca-keys" not found'
    )
    crash = pod_trouble(CRASH_LOOP)
    assert crash is not None and crash.reason == "CrashLoopBackOff" and crash.crashing
    assert "3 restarts" in crash.message
    assert "exit code 1 (Error): Traceback ...\nKeyError: 'APCA_API_KEY_ID'" in crash.message
    assert "back-off 40s" in crash.message
    pull = pod_trouble(PULL_BACK_OFF)
    assert pull is not None and pull.reason == "ImagePullBackOff" and not pull.crashing
    assert "kubetrade/workload:nope" in pull.message
    assert pod_trouble(UNSCHEDULABLE) == Trouble(
        "Unschedulable", "0/1 nodes are available: 1 Insufficient nvidia.com/gpu."
    )


def test_a_pod_on_its_way_or_running_is_no_trouble() -> None:
    assert pod_trouble(_pod(_waiting("ContainerCreating"))) is None
    assert pod_trouble(_pod()) is None
    assert pod_trouble({"metadata": {}}) is None
    assert pod_trouble(_pod(_running(STARTED, 0, {}), phase="Running")) is None
    evicted = _pod(phase="Failed", reason="Evicted", message="low on memory")
    assert pod_trouble(evicted) == Trouble("Evicted", "low on memory")


FAILED_MOUNT = Trouble(
    "FailedMount", 'MountVolume.SetUp failed for volume "credentials" : secret "absent" not found'
)


def test_a_pod_stuck_creating_speaks_through_its_warning_event() -> None:
    scheduled = [{"type": "PodScheduled", "status": "True"}]
    stuck = _pod(_waiting("ContainerCreating"), conditions=scheduled)
    stuck["metadata"]["uid"] = UID
    assert report([stuck]).trouble is None  # no Event seen: on its way
    assert report([stuck], warnings={UID: FAILED_MOUNT}).trouble == FAILED_MOUNT
    assert report([stuck], warnings={"another pod": FAILED_MOUNT}).trouble is None
    # Once a container runs, or the scheduler has not placed the pod, the pod says more.
    running = _pod(_running(STARTED, 0, {}), phase="Running", conditions=scheduled)
    assert pod_trouble(running, FAILED_MOUNT) is None
    assert pod_trouble(UNSCHEDULABLE, FAILED_MOUNT) == pod_trouble(UNSCHEDULABLE)
    assert pod_trouble(MISSING_SECRET, FAILED_MOUNT) == pod_trouble(MISSING_SECRET)
    # A Job's owner and a session's both show it.
    session = session_trouble(
        Phase.PENDING, [Cond("Ready", TRUE, "TraderRunning")], PodsReport(FAILED_MOUNT)
    )
    assert session[0] == Phase.PENDING and session[1][0].reason == "FailedMount"


def test_the_newest_live_pod_speaks_and_restarts_add_up() -> None:
    old = _pod(
        _running(STARTED, 2, _terminated(137, reason="OOMKilled")),
        name="old",
        created="2026-12-06T06:00:00Z",
        phase="Running",
    )
    going = {**CRASH_LOOP, "metadata": {"name": "x", "deletionTimestamp": STARTED}}
    seen = report([MISSING_SECRET, going, old])
    assert seen.trouble is not None and seen.trouble.reason == "CreateContainerConfigError"
    assert seen.restarts == 2  # the pod being deleted counts no more
    assert report([]) == PodsReport()
    evicted = _pod(phase="Failed", reason="Evicted", message="low on memory", name="z")
    assert report([MISSING_SECRET, evicted]).trouble == pod_trouble(MISSING_SECRET)
    assert report([evicted]).trouble == Trouble("Evicted", "low on memory")


def test_a_running_trader_is_in_trouble_until_it_reports_since_its_start() -> None:
    pod = _pod(_running("2026-12-06T07:05:00Z", 4, _terminated(1, "boom")), phase="Running")
    assert report([pod]).trouble is None  # a Job's pod: the Job decides
    before = report([pod], long_running=True, reported="2026-12-06T07:04:59.5+00:00")
    assert before.trouble is not None and before.trouble.reason == "Restarted"
    assert before.trouble.crashing
    assert "4 restarts, last exit code 1 (Error): boom" in before.trouble.message
    never = report([pod], long_running=True, reported=None)
    assert never.trouble is not None and never.trouble.crashing
    after = report([pod], long_running=True, reported="2026-12-06T07:05:03.25Z")
    assert after == PodsReport(None, 4)
    # A first start is no crash, but no trading either until the trader says so.
    fresh = _pod(_running(STARTED, 0, {}), phase="Running")
    starting = report([fresh], long_running=True, reported=None).trouble
    assert starting is not None and starting.reason == "Starting" and not starting.crashing
    assert report([fresh], long_running=True, reported="2026-12-06T07:00:00.5Z").trouble is None


def test_a_job_waiting_on_a_missing_secret_says_so_in_every_condition() -> None:
    job = {"spec": {}, "status": {"active": 1, "ready": 0, "startTime": STARTED}}
    outcome = job_trouble(job_outcome(job), report([MISSING_SECRET]))
    assert (outcome.phase, outcome.reason) == (Phase.PENDING, "CreateContainerConfigError")
    status = bounded_status(None, 1, "ds-data-1", outcome)
    assert 'secret "alpaca-keys" not found' in status["message"]
    for cond in status["conditions"][:2]:  # Succeeded and Failed: Unknown, with the reason
        assert (cond["status"], cond["reason"]) == ("Unknown", "CreateContainerConfigError")
    done = JobOutcome(Phase.SUCCEEDED, "JobComplete", "the workload finished")
    assert job_trouble(done, report([MISSING_SECRET])) is done  # a finished Job stays finished


CONDS = [
    Cond("Ready", TRUE, "TraderRunning", "the trader is trading"),
    Cond("RiskBreached", FALSE, "TraderActive"),
]


def test_a_crash_looping_trader_is_never_ready_or_running() -> None:
    phase, conds = session_trouble(Phase.RUNNING, CONDS, report([CRASH_LOOP]))
    assert phase == Phase.FAILED
    assert (conds[0].type, conds[0].status, conds[0].reason) == ("Ready", FALSE, "CrashLoopBackOff")
    assert "KeyError" in conds[0].message and conds[1:] == CONDS[1:]
    phase, conds = session_trouble(Phase.PENDING, CONDS, report([MISSING_SECRET]))
    assert (phase, conds[0].reason) == (Phase.PENDING, "CreateContainerConfigError")
    suspending = session_trouble(Phase.SUSPENDING, CONDS, report([CRASH_LOOP]))
    assert suspending == (Phase.SUSPENDING, CONDS)
    assert session_trouble(Phase.RUNNING, CONDS, PodsReport()) == (Phase.RUNNING, CONDS)


def test_pods_are_indexed_by_their_job_or_session() -> None:
    assert pod_key({"batch.kubernetes.io/job-name": "ds-data-1a2b"}) == "job/ds-data-1a2b"
    assert pod_key({"job-name": "ds-data-1a2b"}) == "job/ds-data-1a2b"
    assert pod_key({"kubetrade.io/tradingsession": "paper"}) == "session/paper"
    assert pod_key({"app.kubernetes.io/managed-by": "kubetrade"}) is None


def test_only_news_about_a_pod_reconciles_its_owner() -> None:
    assert pod_news({"phase": "Running", "containerStatuses": [_running(STARTED, 0, {})]}) == (
        HEALTHY
    )
    crash = pod_news(CRASH_LOOP["status"])
    assert crash[0] is not None and crash[1:] == (3, None)
    back = pod_news({"containerStatuses": [_running("2026-12-06T07:05:00Z", 3, {})]})
    assert back == (None, 3, "2026-12-06T07:05:00Z")


@given(
    reasons=st.lists(
        st.sampled_from([*sorted(STUCK), "ContainerCreating", "PodInitializing"]), max_size=4
    ),
    counts=st.lists(st.integers(min_value=0, max_value=1000), max_size=4),
)
def test_trouble_is_a_stuck_reason_and_restarts_never_undercount(
    reasons: list[str], counts: list[int]
) -> None:
    containers = [
        _waiting(reason, restartCount=count) for reason, count in zip(reasons, counts, strict=False)
    ]
    seen = report([_pod(*containers)])
    assert seen.restarts == sum(c["restartCount"] for c in containers)
    stuck = [
        c["state"]["waiting"]["reason"]
        for c in containers
        if c["state"]["waiting"]["reason"] in STUCK
    ]
    assert (seen.trouble.reason if seen.trouble else None) == (stuck[0] if stuck else None)


def test_a_pod_finds_an_owner_whose_name_its_label_had_to_cut() -> None:
    long_name = "momentum-" + "x" * 80
    owner = {"metadata": {"name": long_name}}
    index = {("default", long_name): [owner], ("other", "short"): [{}]}
    label = shorten(long_name)
    assert label != long_name
    assert labelled_owner(index, "default", label) is owner  # type: ignore[arg-type]
    assert labelled_owner(index, "other", label) is None  # type: ignore[arg-type]
    assert labelled_owner(index, "other", "short") == {}  # type: ignore[arg-type]


def test_a_stuck_pod_is_asked_for_its_warnings_until_it_moves_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The pod changes no more while a Secret volume cannot be mounted: a task asks
    for its Warning Events, tells the owner once per new warning, and stops (the
    warning forgotten) when the pod starts."""
    asked: list[str] = []
    told: list[dict[str, str]] = []

    async def pod_warning(namespace: str, uid: str) -> Trouble:
        asked.append(uid)
        return FAILED_MOUNT

    async def reconcile_owners(labels: dict[str, str], namespace: str, indexes: Any) -> None:
        told.append(labels)

    monkeypatch.setattr(jobs.kube, "pod_warning", pod_warning)
    monkeypatch.setattr(jobs, "reconcile_owners", reconcile_owners)
    monkeypatch.setattr(jobs, "WARNINGS_AFTER", 0.0)
    monkeypatch.setattr(jobs, "WARNINGS_EVERY", 0.01)
    scheduled = [{"type": "PodScheduled", "status": "True"}]
    stuck = _pod(_waiting("ContainerCreating"), conditions=scheduled)
    stuck["metadata"]["labels"] = {"kubetrade.io/tradingsession": "paper"}
    started = _pod(_running(STARTED, 0, {}), phase="Running", conditions=scheduled)

    async def scenario() -> None:
        jobs.follow_warnings(UID, "desk", kopf.Body(stuck), {})
        jobs.follow_warnings(UID, "desk", kopf.Body(stuck), {})  # one task per pod
        await asyncio.sleep(0.1)
        assert indexes.pod_warnings[UID] == FAILED_MOUNT
        jobs.follow_warnings(UID, "desk", kopf.Body(started), {})
        count = len(asked)
        await asyncio.sleep(0.05)
        assert len(asked) == count  # stopped asking

    asyncio.run(scenario())
    assert len(asked) >= 2 and set(asked) == {UID}
    assert told == [{"kubetrade.io/tradingsession": "paper"}]  # once: the same warning after
    assert UID not in indexes.pod_warnings
