"""A real S3 server for the test session: versitygw on loopback, serving a temp folder.

versitygw (Apache-2.0) is an S3 gateway whose posix backend keeps each bucket as a
folder; `make setup` builds it into the cache (hack/build-s3-server.sh). Workloads
reach it the way pods do: s3fs configured by the AWS_* variables the operator sets.
"""

from __future__ import annotations

import os
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import fsspec
import pytest

from kubetrade_testing.net import free_port, not_installed, stop

BUILD_SCRIPT = Path(__file__).resolve().parents[2] / "hack" / "build-s3-server.sh"
BUCKET = "kubetrade"
REGION = "us-east-1"


@dataclass(frozen=True)
class S3Server:
    """Where the server listens and the one account it accepts."""

    endpoint: str
    access_key: str
    secret_key: str
    bucket: str = BUCKET
    region: str = REGION

    def env(self) -> dict[str, str]:
        """The variables a workload pod gets (builders/common.py `pod_spec`)."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_DEFAULT_REGION": self.region,
        }


def binary() -> Path | None:
    """The versitygw that hack/build-s3-server.sh builds, when it has been built."""
    where = subprocess.run(
        ["bash", str(BUILD_SCRIPT), "--where"], capture_output=True, text=True, check=True
    )
    path = Path(where.stdout.strip())
    return path if os.access(path, os.X_OK) else None


def _wait_ready(
    endpoint: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 15.0
) -> None:
    """Until the server answers HTTP at all: an unsigned request gets a 403, which is fine."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"versitygw exited with {process.returncode}: {log.read_text()[-2000:]}"
            )
        try:
            urllib.request.urlopen(endpoint, timeout=1).close()  # noqa: S310 (our loopback)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"versitygw did not answer within {timeout}s: {log.read_text()[-2000:]}")


def _create_bucket(server: S3Server) -> None:
    fs = fsspec.filesystem(
        "s3",
        key=server.access_key,
        secret=server.secret_key,
        endpoint_url=server.endpoint,
        skip_instance_cache=True,
    )
    # No region: s3fs would send it as a LocationConstraint, which us-east-1 must not have.
    fs.mkdir(server.bucket)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A versitygw started for this session with bucket `kubetrade` (stopped at its end)."""
    path = binary()
    if path is None:
        not_installed("versitygw is not built (make setup, or bash hack/build-s3-server.sh)")
    workdir = tmp_path_factory.mktemp("s3")
    (workdir / "data").mkdir()
    port = free_port()
    server = S3Server(f"http://127.0.0.1:{port}", "kubetrade", uuid.uuid4().hex)
    log = workdir / "versitygw.log"
    command = [str(path), "--access", server.access_key, "--secret", server.secret_key]
    command += ["--port", f"127.0.0.1:{port}", "posix", str(workdir / "data")]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_ready(server.endpoint, process, log)
        _create_bucket(server)
        yield server
    finally:
        stop(process)


@pytest.fixture
def s3_root(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh `s3://` folder on the session's server, with this process configured as a
    pod is (the AWS_* variables), so `fsspec` opens it with no options."""
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    # s3fs caches a filesystem per set of options, not per environment: a cached one
    # made under other variables would keep them.
    fsspec.get_filesystem_class("s3").clear_instance_cache()
    return f"s3://{s3_server.bucket}/{uuid.uuid4().hex[:12]}"
