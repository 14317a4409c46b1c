"""Where CPU time and memory go while a benchmark runs, read from /proc with psutil.

CPU is accounted from each process' cumulative CPU time at the two ends of a
window (exact, unlike sampled percentages); memory is the peak resident set
size of a process tree, sampled every ``interval`` seconds in a thread because a
peak between two reads of cumulative counters would be lost.
"""

from __future__ import annotations

import http.client
import re
import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

MIB = 1024 * 1024


def _tree(pid: int, *, tree: bool = True) -> list[psutil.Process]:
    """The process and, if ``tree``, its live descendants (none if it is gone)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)] if tree else [root]
    except psutil.Error:
        return []


def tree_cpu_seconds(pid: int, *, tree: bool = True) -> float:
    """User plus system CPU seconds of a process (tree) so far."""
    total = 0.0
    for proc in _tree(pid, tree=tree):
        try:
            times = proc.cpu_times()
        except psutil.Error:
            continue  # exited between listing and reading
        total += float(times.user) + float(times.system)
    return total


def tree_rss(pid: int) -> int:
    """Resident memory of a process tree in bytes."""
    total = 0
    for proc in _tree(pid):
        try:
            total += int(proc.memory_info().rss)
        except psutil.Error:
            continue
    return total


def machine_busy_seconds() -> float:
    """CPU seconds all cores together spent not idle since boot."""
    t = psutil.cpu_times()
    # guest time is already counted in user; iowait is idle for this purpose.
    return float(t.user + t.nice + t.system + t.irq + t.softirq + t.steal)


@dataclass(frozen=True)
class CpuSnapshot:
    """Cumulative CPU counters at one moment."""

    at: float
    per_process: dict[str, float]
    machine: float


@dataclass(frozen=True)
class CpuUsage:
    """Average CPU used over a window, in cores (1.0 = one core fully busy)."""

    wall_s: float
    cores: dict[str, float]
    machine_cores: float


class CpuMeter:
    """Cumulative CPU of named process trees (operator, kube-apiserver, ...)."""

    def __init__(self) -> None:
        self._pids: dict[str, tuple[int, bool]] = {}

    def track(self, name: str, pid: int, *, tree: bool = True) -> None:
        """Account ``pid`` (and its descendants, if ``tree``) as ``name`` from now on.

        The benchmark itself is tracked without its tree: the control plane and
        the operator are its children and are accounted on their own.
        """
        self._pids[name] = (pid, tree)

    def untrack(self, name: str) -> None:
        """Stop accounting ``name`` (its process is about to end)."""
        self._pids.pop(name, None)

    def snapshot(self) -> CpuSnapshot:
        """The counters now."""
        return CpuSnapshot(
            at=time.perf_counter(),
            per_process={
                name: tree_cpu_seconds(pid, tree=tree) for name, (pid, tree) in self._pids.items()
            },
            machine=machine_busy_seconds(),
        )

    @staticmethod
    def usage(before: CpuSnapshot, after: CpuSnapshot) -> CpuUsage:
        """Average cores used by each tracked tree between two snapshots."""
        wall = max(after.at - before.at, 1e-9)
        cores = {
            name: (after.per_process[name] - before.per_process.get(name, 0.0)) / wall
            for name in after.per_process
        }
        return CpuUsage(wall, cores, (after.machine - before.machine) / wall)


class RssSampler:
    """A thread sampling the resident memory of one process tree.

    The target can change (one operator process after another); ``peak`` covers
    everything sampled since start, ``window_peak`` since the last
    :meth:`reset_window`.
    """

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.peak = 0
        self.window_peak = 0
        self.samples = 0
        self._pid: int | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def start(self) -> None:
        """Begin sampling (nothing is sampled until a target is set)."""
        self._thread.start()

    def stop(self) -> None:
        """End the thread."""
        self._stop.set()
        self._thread.join(timeout=5)

    def target(self, pid: int | None) -> None:
        """Sample this process tree from now on; None pauses sampling."""
        with self._lock:
            self._pid = pid
            self.peak = 0
            self.window_peak = 0

    def reset_window(self) -> None:
        """Start a new window for ``window_peak``."""
        with self._lock:
            self.window_peak = 0

    def current(self) -> int:
        """The tree's resident memory right now (0 without a target)."""
        pid = self._pid
        return tree_rss(pid) if pid is not None else 0

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                pid = self._pid
                if pid is None:
                    continue
                rss = tree_rss(pid)
                self.samples += 1
                self.peak = max(self.peak, rss)
                self.window_peak = max(self.window_peak, rss)


WRITE_VERBS = frozenset({"POST", "PUT", "PATCH", "DELETE", "DELETECOLLECTION", "APPLY"})
_LABEL = re.compile(r'(\w+)="([^"]*)"')


class ApiCounters:
    """The API server's own count of the requests it served (``apiserver_request_total``
    on /metrics), so a window's requests can be told apart by verb, resource and code
    whoever sent them: the benchmark, the operator or the controller manager."""

    def __init__(self, port: int, ca_cert: Path, client_cert: Path, client_key: Path) -> None:
        self.port = port
        self.context = ssl.create_default_context(cafile=str(ca_cert))
        self.context.load_cert_chain(str(client_cert), str(client_key))

    def read(self) -> dict[str, float]:
        """``"<VERB> <resource>[/<subresource>] <code>"`` → requests served so far."""
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=10, context=self.context)
        try:
            conn.request("GET", "/metrics")
            text = conn.getresponse().read().decode()
        finally:
            conn.close()
        counts: dict[str, float] = {}
        for line in text.splitlines():
            if not line.startswith("apiserver_request_total{"):
                continue
            labels_text, _, value = line.rpartition(" ")
            labels = dict(_LABEL.findall(labels_text))
            resource = labels.get("resource", "")
            if labels.get("subresource"):
                resource += "/" + labels["subresource"]
            key = f"{labels.get('verb', '?')} {resource or '-'} {labels.get('code', '?')}"
            counts[key] = counts.get(key, 0.0) + float(value)
        return counts

    @staticmethod
    def delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
        """Requests served between two reads (only the keys that changed)."""
        out = {k: v - before.get(k, 0.0) for k, v in after.items()}
        return {k: v for k, v in sorted(out.items()) if v > 0}
