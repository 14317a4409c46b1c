"""Start, record, find and stop the long-running processes of the local cluster.

Every process gets its own session (so its process group id is its pid and a
Ctrl-C in the terminal that started it does not reach it) and writes stdout and
stderr to one log file. Pids are recorded together with the process' start time,
so a recorded pid that the kernel has since handed to an unrelated process is
never signalled.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# psutil ships no type hints and types-psutil is not a dev dependency.
import psutil

_PR_SET_PDEATHSIG = 1


@dataclass
class Component:
    """One running process of the cluster."""

    name: str
    pid: int
    log: Path
    create_time: float
    # Present only in the process that started it; needed to reap the child.
    popen: subprocess.Popen[bytes] | None = field(default=None, repr=False, compare=False)

    def exit_code(self) -> int | None:
        """The exit code if the process has ended, else None (never blocks)."""
        if self.popen is not None:
            return self.popen.poll()
        return None if self.is_running() else -1

    def is_running(self) -> bool:
        """Whether this very process (same pid and start time) is still alive."""
        if self.popen is not None:
            return self.popen.poll() is None
        try:
            proc = psutil.Process(self.pid)
            same = abs(float(proc.create_time()) - self.create_time) < 0.05
            return same and bool(proc.status() != psutil.STATUS_ZOMBIE)
        except psutil.Error:
            return False


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: ask the kernel to kill the child
    # when the thread that started it dies, so a test run that is killed (or
    # ends through pytest-timeout's os._exit) leaves no cluster behind. SIGKILL,
    # not SIGTERM: etcd dies at the same moment, and kube-apiserver's graceful
    # shutdown then stalls on it for minutes.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def spawn(
    name: str,
    argv: Sequence[str],
    log: Path,
    *,
    env: Mapping[str, str] | None = None,
    die_with_parent: bool = False,
) -> Component:
    """Start ``argv`` in a new session with output appended to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    preexec = _die_with_parent if die_with_parent and sys.platform == "linux" else None
    with log.open("ab") as out:
        # The child keeps its own copy of the descriptor; ours closes here.
        popen = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            start_new_session=True,
            preexec_fn=preexec,
        )
    try:
        created = float(psutil.Process(popen.pid).create_time())
    except psutil.Error:
        created = 0.0  # already gone; exit_code() reports it
    return Component(name=name, pid=popen.pid, log=log, create_time=created, popen=popen)


def log_tail(path: Path, lines: int = 40) -> str:
    """The last ``lines`` lines of a log file ('' if it does not exist)."""
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])


def _signal_group(component: Component, sig: signal.Signals) -> None:
    if not component.is_running():
        return
    try:
        # The process leads its own group (start_new_session), so this also
        # reaches any helper it may have forked.
        os.killpg(component.pid, sig)
    except ProcessLookupError:
        pass


def _wait(component: Component, deadline: float) -> bool:
    if component.popen is not None:
        try:
            component.popen.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            return False
        return True
    # Not our child, so it cannot be reaped here; once dead it may linger as a
    # zombie until its new parent reaps it (some container inits never do),
    # which is_running() already counts as gone.
    while component.is_running():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def terminate(components: Sequence[Component], timeout: float = 15.0) -> None:
    """SIGTERM every component, wait up to ``timeout`` seconds for all of them
    together, then SIGKILL whatever is left and wait for it to be gone."""
    for c in components:
        _signal_group(c, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    stubborn = [c for c in components if not _wait(c, deadline)]
    for c in stubborn:
        _signal_group(c, signal.SIGKILL)
    kill_deadline = time.monotonic() + 10.0
    for c in stubborn:
        _wait(c, kill_deadline)


def save(path: Path, components: Sequence[Component], **extra: str) -> None:
    """Record components (and string metadata) as JSON, atomically."""
    data = {
        "components": [
            {"name": c.name, "pid": c.pid, "create_time": c.create_time, "log": str(c.log)}
            for c in components
        ],
        **extra,
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)


def load(path: Path) -> tuple[list[Component], dict[str, str]]:
    """Components and metadata recorded by :func:`save` (empty if none)."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return [], {}
    components = [
        Component(
            name=str(c["name"]),
            pid=int(c["pid"]),
            log=Path(c["log"]),
            create_time=float(c["create_time"]),
        )
        for c in data.pop("components", [])
    ]
    return components, {str(k): str(v) for k, v in data.items()}
