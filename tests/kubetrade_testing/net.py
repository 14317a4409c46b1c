"""What the servers tests start need: loopback ports, and a clear word when the
server is not installed."""

from __future__ import annotations

import os
import socket
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
