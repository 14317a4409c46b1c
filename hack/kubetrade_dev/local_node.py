"""A local node: the kubelet's part for kubetrade's own Pods, as local processes.

The development control plane (``kubetrade_dev.controlplane``) has no scheduler
and no kubelet. This module registers a Node (``kubetrade-local``: Ready,
cpu/memory/pods capacity, ``nvidia.com/gpu: 0``), keeps its Lease in
``kube-node-lease`` renewed, binds kubetrade's unbound Pods to itself (there is
no scheduler) and runs each Pod's first container as a local process. It reports
Pod status as the kubelet does, so the Job and Deployment controllers and the
operator see what a real cluster would show: Jobs complete or fail through the
real Job controller, Deployments become available, pods restart with backoff,
deleted pods are stopped within their grace period and finally deleted.

Run it next to a control plane (``hack`` must be on ``PYTHONPATH``; the
defaults are the control plane's ``.kubetrade/cluster/kubeconfig`` and
``.kubetrade/node``)::

    PYTHONPATH=hack python -m kubetrade_dev.local_node --kubeconfig PATH \\
        --workdir DIR [--namespace NS] [--max-pods N] [--selector SEL]

SIGTERM or SIGINT stops it cleanly: pod processes are killed, nothing is
deleted from the API. Or embed it: ``LocalNode(kubeconfig, workdir).start()``
... ``.stop()`` (also a context manager).

What a pod gets
  * argv = ``command`` + ``args`` with ``$(VAR)`` expanded; the image is ignored;
    ``python``/``python3`` is this interpreter (``sys.executable``), so
    ``python -m kubetrade_workloads ...`` runs the checkout's code.
  * env = this process' environment (minus ``KUBECONFIG``), then
    ``PYTHONUNBUFFERED=1``, ``HOSTNAME=<pod name>``,
    ``KUBETRADE_KUBECONFIG=<the node's kubeconfig>`` (how a workload reaches the
    API server here: there are no service-account token files) and
    ``KUBETRADE_NODE_NAME``, then the pod's own ``envFrom``/``env``
    (ConfigMap/Secret/fieldRef values included), which win.
  * volumes = local folders (see ``pod_volumes``): configMap/secret files under
    ``<workdir>/pods/<ns>_<pod>_<uid>/volumes/<volume>``, PVCs under
    ``<workdir>/volumes/<ns>/<claim>``; each mountPath found as a path prefix in
    command, args, env values and workingDir is rewritten to its folder.
  * stdout and stderr = ``<workdir>/logs/<ns>_<pod>.log`` (appended across
    restarts). ``kubectl logs`` does not work: there is no kubelet to serve it.
    The last KiB of stderr becomes ``state.terminated.message``.

Limitations: only the first container runs (init containers, sidecars and
probes are ignored); cpu/memory requests are not enforced (extended resources
such as ``nvidia.com/gpu`` and ``nodeSelector`` are: such pods stay Pending as
Unschedulable, as on a cluster without GPUs); affinity is ignored; every pod
shares the host network (podIP 127.0.0.1); ConfigMap volumes are refreshed only
when the container (re)starts; PVCs are not bound (the folder exists whatever
the claim's status). One node per name per cluster.
"""

from __future__ import annotations

import argparse
import logging
import os
import queue
import re
import shlex
import shutil
import signal
import sys
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
from lightkube import ALL_NS, ApiError, Client, KubeConfig, operators
from lightkube.resources.core_v1 import Pod

from kubetrade_dev.api_objects import ApiObjects, build_decoders
from kubetrade_dev.node_registration import HOST_IP, NodeRegistration
from kubetrade_dev.pod_binding import PodBinder, created, key
from kubetrade_dev.pod_runner import PodRunner, RunnerContext

log = logging.getLogger(__name__)

DEFAULT_NODE_NAME = "kubetrade-local"
DEFAULT_SELECTOR = "app.kubernetes.io/managed-by=kubetrade"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_KUBECONFIG = REPO_ROOT / ".kubetrade" / "cluster" / "kubeconfig"
DEFAULT_WORKDIR = REPO_ROOT / ".kubetrade" / "node"
RENEW_SECONDS = 10.0
STATUS_EVERY = 6  # node status heartbeat every 6th lease renewal (a minute)
WATCH_SECONDS = 30  # server-side watch timeout: bounds how long a stopped node's watch lingers
_TERMINAL = ("Succeeded", "Failed")

LabelValue = str | None | operators.Operator[Any] | Iterable[str]


def parse_selector(text: str) -> dict[str, LabelValue]:
    """A label selector string (``k=v``, ``k!=v``, ``k``, ``!k``, ``k in (a,b)``,
    ``k notin (a,b)``, comma-separated) in lightkube's form."""
    selector: dict[str, LabelValue] = {}
    for term in re.findall(r"[^,(]+(?:\([^)]*\))?", text):
        term = term.strip()
        if not term:
            continue
        if m := re.fullmatch(r"([\w./-]+)\s+(in|notin)\s*\(([^)]*)\)", term):
            values = [v.strip() for v in m[3].split(",") if v.strip()]
            selector[m[1]] = operators.in_(values) if m[2] == "in" else operators.not_in(values)
        elif m := re.fullmatch(r"([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)", term):
            selector[m[1]] = operators.not_equal(m[3]) if m[2] == "!=" else m[3]
        elif m := re.fullmatch(r"(!?)\s*([\w./-]+)", term):
            selector[m[2]] = operators.not_exists() if m[1] else None
        else:
            raise ValueError(f"cannot parse label selector term {term!r}")
    return selector


@dataclass(frozen=True)
class _Event:
    """One thing for the dispatcher to handle; all node state changes there."""

    kind: str  # ADDED, MODIFIED, DELETED (watch), SYNC (fresh list), EXIT, TICK, STOP
    pod: Pod | None = None
    pods: tuple[Pod, ...] = ()
    runner: PodRunner | None = None


class LocalNode:
    """Plays the kubelet (and the scheduler, for itself) for kubetrade's Pods.

    ``start()`` registers the Node and returns; watching, binding and running
    happen in background threads. ``stop()`` kills every pod process it started
    and deletes nothing (the Node stays registered and goes NotReady later).
    """

    def __init__(
        self,
        kubeconfig: Path | str,
        workdir: Path | str,
        *,
        node_name: str = DEFAULT_NODE_NAME,
        namespace: str | None = None,
        selector: str = DEFAULT_SELECTOR,
        max_pods: int = 16,
        max_grace_seconds: float = 10.0,
        restart_backoff: float = 10.0,
        restart_backoff_max: float = 300.0,
        default_command: Sequence[str] = (),
    ) -> None:
        self.kubeconfig = Path(kubeconfig).resolve()
        self.workdir = Path(workdir).resolve()
        self.node_name = node_name
        self.namespace = namespace
        self.selector = parse_selector(selector)
        self.max_pods = max_pods
        build_decoders()
        config = KubeConfig.from_file(self.kubeconfig)
        self._client = Client(config=config, field_manager="kubetrade-local-node")
        # The watch gets its own client: closing it is how stop() ends the watch.
        self._watch_client = Client(config=config, field_manager="kubetrade-local-node")
        self._ctx = RunnerContext(
            client=self._client,
            objects=ApiObjects(self._client),
            node_name=node_name,
            host_ip=HOST_IP,
            workdir=self.workdir,
            base_env=self._base_env(),
            max_grace_seconds=max_grace_seconds,
            backoff_initial=restart_backoff,
            backoff_max=restart_backoff_max,
            default_command=tuple(default_command),
        )
        self._registration = NodeRegistration(self._client, node_name, max_pods, self.workdir)
        self._binder = PodBinder(self._client, node_name, max_pods)
        self._events: queue.Queue[_Event] = queue.Queue()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        # Dispatcher-thread state (the binder's too).
        self._runners: dict[str, PodRunner] = {}
        self._done: set[str] = set()  # ran here once: never run again

    # -- public -----------------------------------------------------------------------------

    @property
    def logs_dir(self) -> Path:
        """Folder of the pods' log files."""
        return self.workdir / "logs"

    def log_path(self, namespace: str, pod: str) -> Path:
        """The stdout+stderr file of a pod (``kubectl logs`` does not work here)."""
        return self._ctx.log_path(namespace, pod)

    def start(self) -> None:
        """Register the Node, then watch and run pods in background threads."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._registration.register()
        for name, target in (
            ("dispatch", self._dispatch_loop),
            ("watch", self._watch_loop),
            ("heartbeat", self._heartbeat_loop),
        ):
            thread = threading.Thread(target=target, name=f"local-node-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        scope = f"namespace {self.namespace}" if self.namespace else "all namespaces"
        log.info("node %s ready: pods of %s; logs in %s", self.node_name, scope, self.logs_dir)

    def stop(self) -> None:
        """Kill every pod process and stop the threads; delete nothing. Idempotent."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._events.put(_Event("STOP"))
        threads = dict(zip(("dispatch", "watch", "heartbeat"), self._threads, strict=False))
        if "dispatch" in threads:
            threads["dispatch"].join(timeout=10)
        runners = list(self._runners.values())
        for runner in runners:
            runner.shutdown()
        for runner in runners:
            runner.join(timeout=10)
        if "heartbeat" in threads:
            threads["heartbeat"].join(timeout=10)
        # A watch blocked on the socket ends when the server closes it (at most
        # WATCH_SECONDS); with its client closed it cannot start another.
        self._watch_client.close()
        self._client.close()

    def __enter__(self) -> LocalNode:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- background threads -----------------------------------------------------------------

    def _base_env(self) -> dict[str, str]:
        # A workload must not pick up whatever cluster the developer's shell
        # points at; it gets this node's cluster under its own name instead.
        env = {key: value for key, value in os.environ.items() if key != "KUBECONFIG"}
        env["PYTHONUNBUFFERED"] = "1"
        env["KUBETRADE_KUBECONFIG"] = str(self.kubeconfig)
        env["KUBETRADE_NODE_NAME"] = self.node_name
        return env

    def _watch_loop(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                self._list_and_watch()
                failures = 0
            except Exception as err:  # any failure: list again, the only safe restart
                if self._stopping.is_set():
                    return
                if isinstance(err, ApiError) and err.status.code == 410:
                    log.info("pod watch expired; listing again")
                    continue
                failures += 1
                log.warning("pod watch failed (%s); listing again", err)
                self._stopping.wait(min(2.0**failures, 30.0))

    def _list_and_watch(self) -> None:
        namespace = self.namespace or ALL_NS
        labels = self.selector or None
        listing = self._watch_client.list(Pod, namespace=namespace, labels=labels)
        self._events.put(_Event("SYNC", pods=tuple(listing)))
        for kind, pod in self._watch_client.watch(
            Pod,
            namespace=namespace,
            labels=labels,
            resource_version=listing.resourceVersion,
            server_timeout=WATCH_SECONDS,
        ):
            if self._stopping.is_set():
                return
            self._events.put(_Event(kind, pod=pod))

    def _heartbeat_loop(self) -> None:
        beats = 0
        while not self._stopping.wait(RENEW_SECONDS):
            beats += 1
            try:
                self._registration.renew_lease()
                if beats % STATUS_EVERY == 0:
                    self._registration.heartbeat()
            except (ApiError, httpx2.HTTPError) as err:
                log.warning("node heartbeat failed: %s", err)
            self._events.put(_Event("TICK"))

    def _dispatch_loop(self) -> None:
        while (event := self._events.get()).kind != "STOP":
            try:
                self._dispatch(event)
            except Exception:  # one bad pod must not stop the node
                log.exception("local node: handling a %s event failed", event.kind)

    # -- dispatcher: all state changes happen on this one thread ---------------------------

    def _dispatch(self, event: _Event) -> None:
        if event.kind == "SYNC":
            self._sync(event.pods)
        elif event.kind == "EXIT" and event.runner is not None:
            self._runner_exited(event.runner)
        elif event.kind == "TICK":
            self._binder.retry(len(self._runners))
        elif event.kind == "DELETED" and event.pod is not None:
            self._deleted(event.pod)
        elif event.pod is not None:
            self._observe(event.pod)

    def _sync(self, pods: tuple[Pod, ...]) -> None:
        uids = {pod.metadata.uid for pod in pods if pod.metadata and pod.metadata.uid}
        for uid, runner in list(self._runners.items()):
            if uid not in uids:
                runner.forget()  # deleted while the watch was down
        self._binder.keep_only(uids)
        self._done &= uids
        for pod in sorted(pods, key=created):
            try:
                self._observe(pod)
            except Exception:
                log.exception("local node: handling pod %s failed", key(pod))

    def _observe(self, pod: Pod) -> None:
        meta, spec = pod.metadata, pod.spec
        if meta is None or spec is None or not meta.uid:
            return
        uid = meta.uid
        if not spec.nodeName:
            self._binder.consider(pod, len(self._runners))
            return
        self._binder.seen_bound(uid)
        if spec.nodeName != self.node_name:
            return
        runner = self._runners.get(uid)
        if runner is not None:
            runner.update(pod)
            return
        phase = pod.status.phase if pod.status else None
        if uid in self._done or phase in _TERMINAL:
            # An old event for a pod that already ran here must not run it again.
            self._done.add(uid)
            return
        runner = PodRunner(pod, self._ctx, on_exit=self._runner_finished)
        self._runners[uid] = runner
        runner.start()
        log.info("pod %s: runs on %s; logs: %s", key(pod), self.node_name, runner.log_path)

    def _deleted(self, pod: Pod) -> None:
        meta = pod.metadata
        if meta is None or not meta.uid:
            return
        uid = meta.uid
        self._binder.forget(uid)
        self._done.discard(uid)
        runner = self._runners.get(uid)
        if runner is not None:
            runner.forget()  # force-deleted: kill it; its folder goes when it ends
        elif pod.spec is not None and pod.spec.nodeName == self.node_name:
            self._remove_pod_dir(meta.namespace or "default", meta.name or "", uid)
        self._binder.retry(len(self._runners))

    def _runner_finished(self, runner: PodRunner) -> None:
        # Called on the runner's thread; the dispatcher does the bookkeeping.
        self._events.put(_Event("EXIT", runner=runner))

    def _runner_exited(self, runner: PodRunner) -> None:
        self._runners.pop(runner.uid, None)
        self._done.add(runner.uid)
        if runner.gone:
            self._remove_pod_dir(runner.namespace, runner.name, runner.uid)
        self._binder.retry(len(self._runners))

    def _remove_pod_dir(self, namespace: str, name: str, uid: str) -> None:
        # emptyDir and the copies of ConfigMaps/Secrets go with the pod, as on
        # a kubelet; logs and PVC folders stay.
        shutil.rmtree(self._ctx.pod_dir(namespace, name, uid), ignore_errors=True)

    # -- scheduling (there is no scheduler) --------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m kubetrade_dev.local_node``."""
    parser = argparse.ArgumentParser(
        prog="python -m kubetrade_dev.local_node",
        description="Run kubetrade's Pods as local processes (a kubelet stand-in).",
    )
    parser.add_argument("--kubeconfig", type=Path, default=DEFAULT_KUBECONFIG)
    parser.add_argument(
        "--workdir", type=Path, default=DEFAULT_WORKDIR, help="pod folders, PVC folders and logs/"
    )
    parser.add_argument("--namespace", help="only this namespace (default: all)")
    parser.add_argument("--max-pods", type=int, default=16)
    parser.add_argument("--node-name", default=DEFAULT_NODE_NAME)
    parser.add_argument(
        "--selector",
        default=DEFAULT_SELECTOR,
        help="label selector of the pods to run ('' for all)",
    )
    parser.add_argument(
        "--max-grace-seconds", type=float, default=10.0, help="cap on terminationGracePeriodSeconds"
    )
    parser.add_argument(
        "--restart-backoff",
        type=float,
        default=10.0,
        help="first restart delay of a crashing container (doubles up to 5 min)",
    )
    parser.add_argument(
        "--default-command",
        default="",
        help="command for containers without one, e.g. 'python -m kubetrade_workloads'",
    )
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(message)s"
    )
    if args.log_level.upper() != "DEBUG":
        logging.getLogger("httpx2").setLevel(logging.WARNING)  # a line per request otherwise
    node = LocalNode(
        args.kubeconfig,
        args.workdir,
        node_name=args.node_name,
        namespace=args.namespace,
        selector=args.selector,
        max_pods=args.max_pods,
        max_grace_seconds=args.max_grace_seconds,
        restart_backoff=args.restart_backoff,
        default_command=shlex.split(args.default_command),
    )
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        node.start()
    except (ApiError, httpx2.HTTPError, OSError) as err:
        print(f"local node: cannot register with the API server: {err}", file=sys.stderr)
        node.stop()
        return 1
    print(f"local node {node.node_name} running; pod logs in {node.logs_dir}", flush=True)
    while not stop.wait(1.0):
        pass
    node.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
