"""Pod status as the kubelet reports it, built from what the local node knows.

The result is the body of a strategic-merge patch on ``pods/status``:
``conditions`` merge by ``type`` (so conditions written by others, such as
``DisruptionTarget``, survive) and ``containerStatuses`` is replaced whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def now() -> str:
    """The current time in the RFC 3339 form the API uses (seconds, UTC)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Terminated:
    """How one run of the container ended."""

    exit_code: int
    reason: str
    message: str
    started_at: str
    finished_at: str
    container_id: str = ""
    signal: int | None = None

    def as_state(self) -> dict[str, Any]:
        """The ``terminated`` container state."""
        state: dict[str, Any] = {
            "exitCode": self.exit_code,
            "reason": self.reason,
            "startedAt": self.started_at,
            "finishedAt": self.finished_at,
        }
        if self.message:
            state["message"] = self.message
        if self.signal is not None:
            state["signal"] = self.signal
        if self.container_id:
            state["containerID"] = self.container_id
        return {"terminated": state}


@dataclass
class ContainerState:
    """What the node knows about the one container it runs; mutated as it runs."""

    name: str
    image: str
    restart_count: int = 0
    container_id: str = ""
    running_since: str | None = None
    waiting: tuple[str, str] | None = ("ContainerCreating", "")
    terminated: Terminated | None = None
    last_terminated: Terminated | None = None

    def set_waiting(self, reason: str, message: str = "") -> None:
        """Waiting to (re)start; a previous run, if any, becomes ``lastState``."""
        if self.terminated is not None:
            self.last_terminated = self.terminated
            self.terminated = None
        self.running_since = None
        self.waiting = (reason, message)

    def set_running(self, started_at: str, container_id: str) -> None:
        """A new run has started."""
        if self.terminated is not None:
            self.last_terminated = self.terminated
            self.terminated = None
        self.waiting = None
        self.running_since = started_at
        self.container_id = container_id

    def set_terminated(self, terminated: Terminated) -> None:
        """The current run has ended (or could not start)."""
        self.waiting = None
        self.running_since = None
        self.terminated = terminated

    def as_status(self) -> dict[str, Any]:
        """One entry of ``status.containerStatuses``."""
        state: dict[str, Any]
        if self.running_since is not None:
            state = {"running": {"startedAt": self.running_since}}
        elif self.terminated is not None:
            state = self.terminated.as_state()
        else:
            reason, message = self.waiting or ("ContainerCreating", "")
            state = {"waiting": {"reason": reason, **({"message": message} if message else {})}}
        status: dict[str, Any] = {
            "name": self.name,
            "image": self.image,
            "imageID": "",
            "ready": self.running_since is not None,
            "started": self.running_since is not None,
            "restartCount": self.restart_count,
            "state": state,
            "lastState": self.last_terminated.as_state() if self.last_terminated else {},
        }
        if self.container_id:
            status["containerID"] = self.container_id
        return status


@dataclass
class ConditionClock:
    """Keeps ``lastTransitionTime`` still while a condition's status is unchanged."""

    seen: dict[str, tuple[str, str]] = field(default_factory=dict)

    def condition(self, kind: str, ok: bool, reason: str = "", message: str = "") -> dict[str, Any]:
        """A pod condition of type ``kind``."""
        status = "True" if ok else "False"
        previous = self.seen.get(kind)
        since = previous[1] if previous and previous[0] == status else now()
        self.seen[kind] = (status, since)
        cond: dict[str, Any] = {"type": kind, "status": status, "lastTransitionTime": since}
        if reason:
            cond["reason"] = reason
        if message:
            cond["message"] = message
        return cond


@dataclass(frozen=True)
class PodAddress:
    """Where the pod runs: the node's and the pod's IP and the pod's start time."""

    host_ip: str
    pod_ip: str
    start_time: str


def status_patch(
    phase: str,
    container: ContainerState,
    address: PodAddress,
    clock: ConditionClock,
    reason: str = "",
    message: str = "",
) -> dict[str, Any]:
    """The ``pods/status`` patch for ``phase`` with the container's current state."""
    running = container.running_since is not None
    if running:
        ready_reason, ready_message = "", ""
    elif phase == "Succeeded":
        ready_reason, ready_message = "PodCompleted", ""
    else:
        ready_reason = "ContainersNotReady"
        ready_message = f"containers with unready status: [{container.name}]"
    terminal = phase in ("Succeeded", "Failed")
    conditions = [
        clock.condition("PodReadyToStartContainers", not terminal),
        clock.condition("Initialized", True),
        clock.condition("Ready", running, ready_reason, ready_message),
        clock.condition("ContainersReady", running, ready_reason, ready_message),
        clock.condition("PodScheduled", True),
    ]
    status: dict[str, Any] = {
        "phase": phase,
        "conditions": conditions,
        "containerStatuses": [container.as_status()],
        "hostIP": address.host_ip,
        "hostIPs": [{"ip": address.host_ip}],
        "podIP": address.pod_ip,
        "podIPs": [{"ip": address.pod_ip}],
        "startTime": address.start_time,
    }
    if reason:
        status["reason"] = reason
        status["message"] = message
    return {"status": status}
