"""What the servers tests start need: loopback ports, a clear word when the
server is not installed, and a stop that does not hang."""

from __future__ import annotations

import os
import socket
import subprocess
from typing import NoReturn

import pytest


def free_port() -> int:
    """A free loopback TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def not_installed(what: str) -> NoReturn:
    """Skip a test whose server is not installed; under CI (`.ci/run` installs it)
    fail instead, so a broken install step can never pass as a run of skips."""
    if os.environ.get("CI"):
        pytest.fail(f"{what}; .ci/run installs it")
    pytest.skip(what)


def stop(process: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    """SIGTERM, then SIGKILL if the server is still there after `timeout` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)
