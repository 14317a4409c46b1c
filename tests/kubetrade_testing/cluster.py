"""pytest fixtures for a real Kubernetes API: one local control plane per test run.

Import the fixtures into a conftest.py (``pytest_plugins`` is only honoured in
the rootdir conftest)::

    from kubetrade_testing.cluster import (
        control_plane, kubeconfig, kubeconfig_env, lightkube_client, namespace,
    )

Set ``KUBETRADE_KUBECONFIG`` to run against an already running cluster (for
example one from ``python -m kubetrade_dev.controlplane up``) instead of
starting a new one: start-up is then free and the cluster's logs survive the run.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from lightkube import ApiError, Client, KubeConfig
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace

from kubetrade_dev.controlplane import ControlPlane, cluster_env, find_bin_dir

KUBECONFIG_ENV = "KUBETRADE_KUBECONFIG"
#: Label on every namespace the ``namespace`` fixture creates, so leftovers of
#: interrupted runs on a long-lived cluster can be found and removed.
TEST_NAMESPACE_LABEL = "kubetrade.dev/test"

T = TypeVar("T")


@dataclass(frozen=True)
class Cluster:
    """The cluster the tests run against."""

    kubeconfig: Path
    bin_dir: Path
    #: None when reusing a cluster named by KUBETRADE_KUBECONFIG.
    control_plane: ControlPlane | None

    @property
    def kubectl(self) -> Path:
        """The kubectl built together with the control plane."""
        return self.bin_dir / "kubectl"

    def env(self) -> dict[str, str]:
        """os.environ with KUBECONFIG set and the bin dir first on PATH."""
        return cluster_env(self.kubeconfig, self.bin_dir)

    def run_kubectl(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """`kubectl ARGS` against this cluster; the caller judges the exit status."""
        return subprocess.run(
            [str(self.kubectl), *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def kubectl(cluster: Cluster, *args: str, timeout: float = 120) -> str:
    """The output of `kubectl ARGS`, which must succeed."""
    done = cluster.run_kubectl(*args, timeout=timeout)
    assert done.returncode == 0, done.stderr
    return done.stdout


def new_client(kubeconfig: Path) -> Client:
    """A lightkube client for the cluster; close it (or use it as a context manager)."""
    return Client(config=KubeConfig.from_file(kubeconfig), field_manager="kubetrade-tests")


def wait_until(
    check: Callable[[], T | None], *, timeout: float = 60.0, interval: float = 0.2, what: str = ""
) -> T:
    """Call ``check`` until it returns something truthy and return that, or fail
    the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what or check}")
        time.sleep(interval)


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A running cluster for the whole session: a fresh local control plane, or
    the cluster in $KUBETRADE_KUBECONFIG if that is set."""
    bin_dir = find_bin_dir()
    external = os.environ.get(KUBECONFIG_ENV)
    if external:
        yield Cluster(Path(external).resolve(), bin_dir, None)
        return
    state_dir = tmp_path_factory.mktemp("controlplane")
    cp = ControlPlane(state_dir, bin_dir)
    cp.start()
    try:
        yield Cluster(cp.kubeconfig, bin_dir, cp)
    finally:
        cp.stop()
        # etcd preallocates a 64 MB WAL; pytest keeps the last few temp dirs,
        # logs and certificates are worth keeping, the database is not.
        shutil.rmtree(state_dir / "etcd", ignore_errors=True)


@pytest.fixture(scope="session")
def kubeconfig(control_plane: Cluster) -> Path:
    """Path of an admin kubeconfig for the session's cluster."""
    return control_plane.kubeconfig


@pytest.fixture
def kubeconfig_env(kubeconfig: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point KUBECONFIG at the session's cluster for one test, for code in this
    process that finds its cluster on its own (kopf's KopfRunner, for example).

    The ``kubernetes`` client reads KUBECONFIG once, when first imported, and kopf
    logs in through it when it is installed; so its cached default is patched too.
    """
    from kubernetes.config import kube_config  # a heavy import, only when needed

    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(kubeconfig))
    return kubeconfig


@pytest.fixture(scope="session")
def lightkube_client(kubeconfig: Path) -> Iterator[Client]:
    """A lightkube client for the session's cluster."""
    with new_client(kubeconfig) as client:
        yield client


@pytest.fixture
def namespace(lightkube_client: Client) -> Iterator[str]:
    """A fresh namespace ``t-<random>`` for one test, deleted afterwards (without
    waiting for the deletion to finish)."""
    name = f"t-{secrets.token_hex(4)}"
    meta = ObjectMeta(name=name, labels={TEST_NAMESPACE_LABEL: "true"})
    lightkube_client.create(Namespace(metadata=meta))
    try:
        yield name
    finally:
        try:
            lightkube_client.delete(Namespace, name)
        except ApiError as exc:
            if exc.status.code != 404:
                raise
