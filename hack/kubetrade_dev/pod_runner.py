"""One pod's life on the local node: start, watch, restart, stop, report.

A ``PodRunner`` owns one thread and at most one process (the pod's first
container). It reports every change to ``pods/status`` the way the kubelet
does and, when the pod is deleted, stops the process within the grace period
and makes the kubelet's final ``delete`` with ``gracePeriodSeconds=0``.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import httpx2
from lightkube import ApiError, Client
from lightkube.resources.core_v1 import Pod, PodStatus
from lightkube.types import PatchType

from kubetrade_dev.pod_env import MissingReference, ObjectSource, PodFacts, PodSpecError
from kubetrade_dev.pod_plan import LaunchPlan, PlanContext, build_plan, first_container
from kubetrade_dev.pod_process import ContainerProcess
from kubetrade_dev.pod_status import (
    ConditionClock,
    ContainerState,
    PodAddress,
    Terminated,
    now,
    status_patch,
)

log = logging.getLogger(__name__)

_SHUTDOWN_GRACE = 2.0  # seconds a process gets when the node itself stops
_POLL = 0.2
_TIME = "%Y-%m-%dT%H:%M:%SZ"


class _Stop(enum.Enum):
    DELETED = "deleted"  # deletionTimestamp set: graceful stop, then final delete
    DEADLINE = "deadline"  # activeDeadlineSeconds passed: stop, report Failed
    SHUTDOWN = "shutdown"  # the node stops: kill, write nothing
    GONE = "gone"  # the pod no longer exists in the API: kill, write nothing


@dataclass(frozen=True)
class RunnerContext:
    """What every runner of one node shares."""

    client: Client
    objects: ObjectSource
    node_name: str
    host_ip: str
    workdir: Path
    base_env: Mapping[str, str]
    max_grace_seconds: float
    backoff_initial: float
    backoff_max: float
    default_command: Sequence[str] = ()

    def log_path(self, namespace: str, name: str) -> Path:
        """Where a pod's stdout and stderr go."""
        return self.workdir / "logs" / f"{namespace}_{name}.log"

    def pod_dir(self, namespace: str, name: str, uid: str) -> Path:
        """The pod's private folder (volumes, working folder)."""
        return self.workdir / "pods" / f"{namespace}_{name}_{uid[:8]}"


class PodRunner:
    """Runs one pod bound to this node until it ends, is deleted or the node stops."""

    def __init__(self, pod: Pod, ctx: RunnerContext, on_exit: Callable[[PodRunner], None]) -> None:
        meta = pod.metadata
        if meta is None or not meta.name or not meta.uid:
            raise PodSpecError("InvalidPod", "pod without name or uid")
        self.name = meta.name
        self.namespace = meta.namespace or "default"
        self.uid = meta.uid
        self.log_path = ctx.log_path(self.namespace, self.name)
        self._pod = pod
        self._ctx = ctx
        self._on_exit = on_exit
        self._wake = threading.Event()
        self._shutdown = threading.Event()
        self._gone = threading.Event()
        self._delete_grace: float | None = None
        self._process: ContainerProcess | None = None
        self._crashes = 0
        self._started_once = False
        self._clock = ConditionClock()
        self._last_report: dict[str, Any] | None = None
        self._container = self._initial_container(pod)
        self._address = PodAddress(ctx.host_ip, ctx.host_ip, self._start_time(pod))
        self._deadline = self._deadline_of(pod)
        self._thread = threading.Thread(target=self._run, name=f"pod-{self.name}", daemon=True)

    # -- control, called from the node's threads --------------------------------------------

    def start(self) -> None:
        """Start the pod's thread."""
        self._thread.start()
        self.update(self._pod)

    def update(self, pod: Pod) -> None:
        """A newer version of the pod; a deletionTimestamp starts a graceful stop."""
        self._pod = pod
        meta = pod.metadata
        if meta is not None and meta.deletionTimestamp is not None and self._delete_grace is None:
            spec_grace = pod.spec.terminationGracePeriodSeconds if pod.spec else None
            grace = meta.deletionGracePeriodSeconds
            grace = spec_grace if grace is None else grace
            self._delete_grace = min(
                float(30 if grace is None else grace), self._ctx.max_grace_seconds
            )
            self._wake.set()

    def shutdown(self) -> None:
        """The node stops: kill the process, report nothing."""
        self._shutdown.set()
        self._wake.set()

    def forget(self) -> None:
        """The pod was removed from the API: kill the process, report nothing."""
        self._gone.set()
        self._wake.set()

    @property
    def gone(self) -> bool:
        """Whether the pod no longer exists in the API."""
        return self._gone.is_set()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the pod's thread to end."""
        self._thread.join(timeout)

    # -- the pod's thread -------------------------------------------------------------------

    def _run(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab", buffering=0) as logfile:
            try:
                self._lifecycle(logfile)
            except Exception as err:  # the node must outlive any one pod
                log.exception("pod %s/%s: local node error", self.namespace, self.name)
                self._kill()
                self._fail("LocalNodeError", f"{type(err).__name__}: {err}")
            finally:
                self._kill()
        self._on_exit(self)

    def _kill(self) -> None:
        if self._process is not None:
            self._process.stop(0)
            self._process = None

    def _lifecycle(self, logfile: IO[bytes]) -> None:
        if self._lost_while_node_was_down():
            if self._interrupt() is _Stop.DELETED:
                self._final_delete()
            return
        if (stop := self._interrupt()) is not None:
            self._finish(stop)  # deleted before it ever started
            return
        self._report("Pending")
        while True:
            # Planned again before every start: like the kubelet, a restarted
            # container sees the ConfigMaps and Secrets as they are now.
            plan = self._prepare()
            if plan is None:
                return
            stop = self._run_once(plan, logfile)
            if stop is None and self._should_restart():
                stop = self._back_off()
                if stop is None:
                    continue
            if stop is None:
                self._report(self._final_phase())
            else:
                self._finish(stop)
            return

    def _prepare(self) -> LaunchPlan | None:
        ctx = self._ctx
        plan_ctx = PlanContext(
            pod_dir=ctx.pod_dir(self.namespace, self.name, self.uid),
            claims_dir=ctx.workdir / "volumes",
            base_env={**ctx.base_env, "HOSTNAME": self.name},
            facts=PodFacts(ctx.node_name, self._address.pod_ip, self._address.host_ip),
            default_command=ctx.default_command,
        )
        while True:
            try:
                return build_plan(self._pod, ctx.objects, plan_ctx)
            except MissingReference as err:
                self._container.set_waiting("CreateContainerConfigError", str(err))
                self._report("Running" if self._started_once else "Pending")
            except PodSpecError as err:
                self._fail(err.reason, str(err))
                return None
            except OSError as err:
                self._fail("LocalSetupFailed", f"preparing the pod's folders: {err}")
                return None
            stop = self._sleep(2.0)
            if stop is not None:
                self._finish(stop)
                return None

    def _run_once(self, plan: LaunchPlan, logfile: IO[bytes]) -> _Stop | None:
        header = f"\n=== {now()} local node starts {self.namespace}/{self.name}: {plan.argv}\n"
        logfile.write(header.encode())
        try:
            self._process = ContainerProcess(plan, logfile)
        except OSError as err:
            started = now()
            self._container.set_terminated(Terminated(128, "StartError", str(err), started, now()))
            return None
        self._started_once = True
        self._container.set_running(self._process.started_at, self._process.container_id)
        self._report("Running")
        log.info("pod %s/%s: started pid %d", self.namespace, self.name, self._process.popen.pid)
        while self._process.popen.poll() is None:
            stop = self._interrupt()
            if stop is not None:
                return stop
            self._wake.wait(_POLL)
            self._wake.clear()
        self._container.set_terminated(self._process.finish())
        self._process = None
        return None

    def _back_off(self) -> _Stop | None:
        last = self._container.terminated
        ran = _seconds_between(last.started_at, last.finished_at) if last else 0.0
        # Like the kubelet: the delay doubles per quick crash and starts over
        # once a run has lasted longer than twice the longest delay.
        if ran > 2 * self._ctx.backoff_max:
            self._crashes = 0
        self._crashes += 1
        delay = min(self._ctx.backoff_initial * 2 ** (self._crashes - 1), self._ctx.backoff_max)
        message = f"back-off {delay:g}s restarting failed container={self._container.name}"
        self._container.set_waiting("CrashLoopBackOff", message)
        self._report("Running")
        stop = self._sleep(delay)
        if stop is None:
            self._container.restart_count += 1
        return stop

    def _finish(self, stop: _Stop) -> None:
        grace = _SHUTDOWN_GRACE if stop in (_Stop.SHUTDOWN, _Stop.GONE) else self._grace(stop)
        if self._process is not None:
            self._container.set_terminated(self._process.stop(grace))
            self._process = None
        if stop is _Stop.DEADLINE:
            message = "Pod was active on the node longer than the specified deadline"
            self._report("Failed", "DeadlineExceeded", message)
        elif stop is _Stop.DELETED:
            # Since 1.27 the kubelet moves a deleted pod to a terminal phase
            # before its final delete; the Job controller counts on it.
            if self._container.terminated is None:
                self._container.set_terminated(Terminated(137, "Error", "", now(), now()))
            self._report(self._final_phase())
            self._final_delete()

    def _grace(self, stop: _Stop) -> float:
        if stop is _Stop.DELETED and self._delete_grace is not None:
            return self._delete_grace
        spec = self._pod.spec
        grace = spec.terminationGracePeriodSeconds if spec else None
        return min(float(30 if grace is None else grace), self._ctx.max_grace_seconds)

    # -- helpers ----------------------------------------------------------------------------

    def _interrupt(self) -> _Stop | None:
        if self._gone.is_set():
            return _Stop.GONE
        if self._shutdown.is_set():
            return _Stop.SHUTDOWN
        if self._delete_grace is not None:
            return _Stop.DELETED
        if self._deadline is not None and time.monotonic() >= self._deadline:
            return _Stop.DEADLINE
        return None

    def _sleep(self, seconds: float) -> _Stop | None:
        end = time.monotonic() + seconds
        while (stop := self._interrupt()) is None:
            left = end - time.monotonic()
            if left <= 0:
                return None
            self._wake.wait(min(left, 1.0))
            self._wake.clear()
        return stop

    def _should_restart(self) -> bool:
        policy = (self._pod.spec.restartPolicy if self._pod.spec else None) or "Always"
        last = self._container.terminated
        failed = last is None or last.exit_code != 0
        return policy == "Always" or (policy == "OnFailure" and failed)

    def _final_phase(self) -> str:
        last = self._container.terminated
        return "Succeeded" if last is not None and last.exit_code == 0 else "Failed"

    def _fail(self, reason: str, message: str) -> None:
        # The pod can never run here; its container is reported as having
        # failed to start so that nothing waits for it.
        log.warning("pod %s/%s: %s: %s", self.namespace, self.name, reason, message)
        self._container.set_terminated(Terminated(128, reason, message, now(), now()))
        self._report("Failed", reason, message)

    def _lost_while_node_was_down(self) -> bool:
        # A pod this node had started before it restarted: its process died
        # with the old node. Restartable pods start again (restartCount + 1);
        # a restartPolicy Never pod has failed, as its container is gone.
        status = self._pod.status
        previous = status.containerStatuses if status else None
        running = previous[0].state.running if previous and previous[0].state else None
        if running is None:
            return False
        if self._should_restart():
            self._container.restart_count += 1
            return False
        since = running.startedAt.strftime(_TIME) if running.startedAt else now()
        lost = Terminated(137, "Error", "the local node restarted while it ran", since, now())
        self._container.set_terminated(lost)
        self._report("Failed")
        return True

    def _initial_container(self, pod: Pod) -> ContainerState:
        try:
            container = first_container(pod)
        except PodSpecError:
            return ContainerState(name="unknown", image="")
        state = ContainerState(name=container.name, image=container.image or "")
        for known in (pod.status.containerStatuses if pod.status else None) or []:
            if known.name == container.name:
                state.restart_count = known.restartCount
        return state

    @staticmethod
    def _start_time(pod: Pod) -> str:
        started = pod.status.startTime if pod.status else None
        return started.strftime(_TIME) if started is not None else now()

    def _deadline_of(self, pod: Pod) -> float | None:
        seconds = pod.spec.activeDeadlineSeconds if pod.spec else None
        if seconds is None:
            return None
        elapsed = _seconds_between(self._address.start_time, now())
        return time.monotonic() + seconds - elapsed

    # -- API writes -------------------------------------------------------------------------

    def _report(self, phase: str, reason: str = "", message: str = "") -> None:
        if self._gone.is_set() or self._shutdown.is_set():
            return
        body = status_patch(phase, self._container, self._address, self._clock, reason, message)
        if body == self._last_report:
            return  # e.g. still waiting for the same missing ConfigMap
        self._last_report = body

        def patch() -> None:
            self._ctx.client.patch(
                PodStatus, self.name, body, namespace=self.namespace, patch_type=PatchType.STRATEGIC
            )

        self._call(patch, f"status {phase}")

    def _final_delete(self) -> None:
        if self._gone.is_set() or self._shutdown.is_set():
            return

        def delete() -> None:
            self._ctx.client.delete(Pod, self.name, namespace=self.namespace, grace_period=0)

        self._call(delete, "final delete")

    def _call(self, request: Callable[[], Any], what: str) -> None:
        for attempt in range(5):
            try:
                request()
                return
            except ApiError as err:
                if err.status.code == 404:
                    self._gone.set()
                    return
                log.error("pod %s/%s: %s rejected: %s", self.namespace, self.name, what, err)
                if err.status.code not in (409, 429, 500, 503, 504):
                    return
            except httpx2.HTTPError as err:
                log.warning("pod %s/%s: %s failed: %s", self.namespace, self.name, what, err)
            time.sleep(0.5 * (attempt + 1))


def _seconds_between(start: str, end: str) -> float:
    try:
        return (datetime.strptime(end, _TIME) - datetime.strptime(start, _TIME)).total_seconds()
    except ValueError:
        return 0.0
