"""A real PostgreSQL server for the test session: initdb in a temp dir, loopback only.

The binaries come from the system (Debian's `postgresql` package, found under
/usr/lib/postgresql/<version>/bin or on PATH; CI installs it). Postgres
refuses to run as root, so under root the cluster belongs to the `postgres`
user. `fsync=off`: a test database need not survive a power cut. Each test
that uses `postgres_url` gets a database of its own, dropped afterwards.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from kubetrade_testing.net import free_port, not_installed


def _bin_dir() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _wait_ready(
    dsn: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 30.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"postgres exited with {process.returncode}: {log.read_text()[-2000:]}"
            )
        try:
            with psycopg.connect(dsn, connect_timeout=1):
                return
        except psycopg.OperationalError:
            time.sleep(0.1)
    raise RuntimeError(
        f"postgres did not accept connections within {timeout}s: {log.read_text()[-2000:]}"
    )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A SQLAlchemy URL of the session's server (database `postgres`), stopped at the end."""
    bin_dir = _bin_dir()
    if bin_dir is None:
        not_installed("PostgreSQL is not installed (apt-get install postgresql)")
    user = "postgres" if os.geteuid() == 0 else None
    # Not pytest's tmp_path: its parents are private to root, and the server may run as `postgres`.
    workdir = Path(tempfile.mkdtemp(prefix="kubetrade-pg-"))
    data, sockets, log = workdir / "data", workdir / "sockets", workdir / "postgres.log"
    sockets.mkdir()
    if user:
        for path in (workdir, sockets):
            shutil.chown(path, user, user)
    subprocess.run(
        [
            bin_dir / "initdb",
            "-D",
            data,
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
        user=user,
    )
    port = free_port()
    command = [str(bin_dir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(sockets)]
    command += [
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "fsync=off",
        "-c",
        "synchronous_commit=off",
    ]
    command += ["-c", "full_page_writes=off", "-c", "max_connections=50"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, user=user)
    try:
        _wait_ready(f"host=127.0.0.1 port={port} user=postgres dbname=postgres", process, log)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        process.send_signal(signal.SIGINT)  # "fast" shutdown: roll back, close, stop
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A SQLAlchemy URL of a fresh, empty database for one test."""
    name = f"t_{secrets.token_hex(4)}"
    admin = postgres_server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # a generated name, not input
    yield postgres_server.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
