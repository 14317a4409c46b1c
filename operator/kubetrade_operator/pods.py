"""What a workload's pods say about it, read purely from their status as the kubelet
and the scheduler write it.

A Job or a Deployment only counts pods (active, ready, available); why a pod
does not run is in the pod: a container waiting with a reason
(CreateContainerConfigError for a missing Secret or key, CrashLoopBackOff,
ImagePullBackOff), its last termination (exit code and message), its restart
count, and `PodScheduled=False` when no node fits. The operator copies that
reason into the owner's conditions, so `kubectl get` tells the truth without
`kubectl describe pod`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# Waiting reasons that mean the container cannot start as it is, not that it is
# merely on its way (ContainerCreating, PodInitializing).
STUCK = frozenset(
    {
        "CreateContainerConfigError",
        "CreateContainerError",
        "CrashLoopBackOff",
        "ImagePullBackOff",
        "ErrImagePull",
        "ErrImageNeverPull",
        "InvalidImageName",
        "RunContainerError",
        "PreStartHookError",
        "PostStartHookError",
    }
)
# Waiting reasons of a container on its way. A pod whose volume cannot be mounted
# (a missing Secret) stays in them for good, and only an Event says why.
CREATING = frozenset({"ContainerCreating", "PodInitializing"})
# Reasons a pod is restarting rather than waiting for something outside it.
CRASHING = frozenset({"CrashLoopBackOff", "RunContainerError", "Restarted"})
ENDED = frozenset({"Succeeded", "Failed"})
MESSAGE_LIMIT = 600
"""Characters of a termination message kept (the kubelet keeps 4096 per container;
the tail says most)."""


@dataclass(frozen=True)
class Trouble:
    """Why a pod does not run: a CamelCase reason and a message for people."""

    reason: str
    message: str

    @property
    def crashing(self) -> bool:
        """The workload starts and dies (as opposed to never starting)."""
        return self.reason in CRASHING


@dataclass(frozen=True)
class PodsReport:
    """The newest pod's trouble, if any, and the restarts of the pods seen."""

    trouble: Trouble | None = None
    restarts: int = 0


def _containers(pod: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    status = pod.get("status") or {}
    return [*(status.get("initContainerStatuses") or ()), *(status.get("containerStatuses") or ())]


def termination(container: Mapping[str, Any]) -> str | None:
    """`exit code 1 (Error): <message>` of the container's last finished run, if any."""
    term = (container.get("state") or {}).get("terminated") or (
        container.get("lastState") or {}
    ).get("terminated")
    if not term:
        return None
    head = f"exit code {term.get('exitCode')} ({term.get('reason') or 'Error'})"
    detail = str(term.get("message") or "").strip()
    return f"{head}: {detail[-MESSAGE_LIMIT:]}" if detail else head


def _waiting_trouble(container: Mapping[str, Any]) -> Trouble | None:
    waiting = (container.get("state") or {}).get("waiting") or {}
    reason = str(waiting.get("reason") or "")
    if reason not in STUCK:
        return None
    name = container.get("name", "")
    message = str(waiting.get("message") or "").strip()
    if reason in CRASHING:
        restarts = int(container.get("restartCount") or 0)
        last = termination(container) or "no exit recorded"
        message = f"container {name} keeps failing ({restarts} restarts), last {last}" + (
            f"; {message}" if message else ""
        )
    else:
        message = f"container {name}: {message}" if message else f"container {name}"
    return Trouble(reason, message)


def _unscheduled(pod: Mapping[str, Any]) -> Trouble | None:
    for cond in (pod.get("status") or {}).get("conditions") or ():
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            reason = str(cond.get("reason") or "Unschedulable")
            return Trouble(reason, str(cond.get("message") or "no node fits the pod"))
    return None


def creating(pod: Mapping[str, Any]) -> bool:
    """Placed on a node, and no container past `ContainerCreating` yet."""
    status = pod.get("status") or {}
    if status.get("phase") != "Pending" or _unscheduled(pod) is not None:
        return False
    if not any(c.get("type") == "PodScheduled" for c in status.get("conditions") or ()):
        return False
    return all(
        ((c.get("state") or {}).get("waiting") or {}).get("reason") in CREATING
        for c in _containers(pod)
    )


def pod_trouble(pod: Mapping[str, Any], warning: Trouble | None = None) -> Trouble | None:
    """Why this pod's workload is not running, or None when nothing is wrong (yet).

    `warning` is the newest Warning Event about the pod (FailedMount, ...); it
    counts while the pod is still `creating`, as nothing in the pod says more.
    """
    for container in _containers(pod):
        found = _waiting_trouble(container)
        if found is not None:
            return found
    status = pod.get("status") or {}
    if status.get("phase") == "Failed" and status.get("reason"):
        # Evicted, DeadlineExceeded, NodeLost: the pod itself was ended.
        return Trouble(str(status["reason"]), str(status.get("message") or ""))
    unscheduled = _unscheduled(pod)
    if unscheduled is None and warning is not None and creating(pod):
        return warning
    return unscheduled


def restarts(pod: Mapping[str, Any]) -> int:
    """Times the kubelet restarted the pod's containers."""
    return sum(int(c.get("restartCount") or 0) for c in _containers(pod))


def _parse_time(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def unreported(pod: Mapping[str, Any], reported: str | None) -> Trouble | None:
    """A running container whose process has not reported since it started: a
    workload that may yet die at start (a crash loop between two crashes, after a
    restart), not yet one that runs. The Deployment counts it available all the same.

    `reported` is the time of the workload's last own report (the trader's
    heartbeat); a report after the container's latest start clears this.
    """
    for container in _containers(pod):
        running = (container.get("state") or {}).get("running") or {}
        if not running:
            continue
        started, seen = _parse_time(running.get("startedAt")), _parse_time(reported)
        if started is not None and seen is not None and seen >= started:
            continue
        name, count = container.get("name", ""), int(container.get("restartCount") or 0)
        if count == 0:
            return Trouble("Starting", f"container {name} runs and has not reported yet")
        last = termination(container) or "no exit recorded"
        message = (
            f"container {name} restarted ({count} restarts, last {last}) and has not reported since"
        )
        return Trouble("Restarted", message)
    return None


def live(pods: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The pods not being deleted, oldest first (creation time, then name)."""
    kept = [p for p in pods if not (p.get("metadata") or {}).get("deletionTimestamp")]
    return sorted(
        kept,
        key=lambda p: (
            str((p.get("metadata") or {}).get("creationTimestamp") or ""),
            str((p.get("metadata") or {}).get("name") or ""),
        ),
    )


def report(
    pods: Iterable[Mapping[str, Any]],
    *,
    long_running: bool = False,
    reported: str | None = None,
    warnings: Mapping[str, Trouble] | None = None,
) -> PodsReport:
    """What the owner's status should say about its pods.

    The trouble is the newest live pod's (older ones are being replaced);
    restarts add up over the live pods. For a `long_running` workload, a
    running container that has not reported (`reported`: the time of its own
    last report) since its latest start counts as trouble too. `warnings` are
    the Warning Events seen for pods stuck `creating`, by pod UID.
    """
    current = live(pods)
    if not current:
        return PodsReport()
    # A pod that has ended (evicted, failed) next to one that has not is being
    # replaced by it, whichever was created first within the same second.
    running = [p for p in current if (p.get("status") or {}).get("phase") not in ENDED]
    newest = (running or current)[-1]
    uid = str((newest.get("metadata") or {}).get("uid") or "")
    trouble = pod_trouble(newest, (warnings or {}).get(uid))
    if trouble is None and long_running:
        trouble = unreported(newest, reported)
    return PodsReport(trouble, sum(restarts(p) for p in current))
