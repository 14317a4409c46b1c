"""A container's process: started in its own process group, stdout to the pod's
log file, stderr teed into the log and a tail kept for the terminated message."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
from typing import IO

from kubetrade_dev.pod_plan import LaunchPlan
from kubetrade_dev.pod_status import Terminated, now

MESSAGE_BYTES = 1024  # the tail of stderr that becomes the terminated message

# Loaded once in the parent: the child runs only a plain libc call between
# fork and exec, which is safe even though this process has threads.
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None
_PR_SET_PDEATHSIG = 1


def _die_with_runner() -> None:
    # The kernel SIGKILLs the process when the runner thread that forked it
    # dies, so a node killed with SIGKILL leaves no workload behind.
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class ContainerProcess:
    """A started container process: stdout straight to the log, stderr teed."""

    def __init__(self, plan: LaunchPlan, logfile: IO[bytes]) -> None:
        self.started_at = now()
        self._tail = bytearray()
        self._logfile = logfile
        self._result: Terminated | None = None
        self.popen = subprocess.Popen(
            plan.argv,
            env=dict(plan.env),
            cwd=plan.cwd,
            stdin=subprocess.DEVNULL,
            stdout=logfile,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group, killed as a whole
            preexec_fn=_die_with_runner,  # safe here: see _LIBC
        )
        self.container_id = f"local://{self.popen.pid}"
        self._pump = threading.Thread(target=self._copy_stderr, daemon=True)
        self._pump.start()

    def _copy_stderr(self) -> None:
        if self.popen.stderr is None:
            return
        fd = self.popen.stderr.fileno()
        while chunk := os.read(fd, 65536):
            self._logfile.write(chunk)
            self._tail += chunk
            del self._tail[: -4 * MESSAGE_BYTES]

    def signal_group(self, signum: int) -> None:
        """Send ``signum`` to the whole process group (children included)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signum)

    def stop(self, grace: float) -> Terminated:
        """SIGTERM the group, SIGKILL it after ``grace`` seconds, reap it."""
        if self.popen.poll() is None:
            self.signal_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=max(grace, 0.0))
        return self.finish()

    def finish(self) -> Terminated:
        """Kill what is left of the group, reap, and describe the exit (idempotent)."""
        if self._result is not None:
            return self._result
        self.signal_group(signal.SIGKILL)  # grandchildren must not outlive the pod
        code = self.popen.wait()
        self._pump.join(timeout=2.0)
        if self.popen.stderr is not None:
            self.popen.stderr.close()
        message = bytes(self._tail[-MESSAGE_BYTES:]).decode(errors="replace").strip()
        exit_code = code if code >= 0 else 128 - code
        self._result = Terminated(
            exit_code=exit_code,
            reason="Completed" if exit_code == 0 else "Error",
            message=message,
            started_at=self.started_at,
            finished_at=now(),
            container_id=self.container_id,
            signal=-code if code < 0 else None,
        )
        return self._result
