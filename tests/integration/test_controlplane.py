"""The local control plane: clients accept its kubeconfig and the controllers we
rely on (garbage collector, namespace, Deployment/ReplicaSet, Job) do their work."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import kopf
import psutil
import pytest
from kopf.testing import KopfRunner
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from lightkube import ApiError, Client
from lightkube.models.apps_v1 import DeploymentSpec
from lightkube.models.batch_v1 import JobSpec
from lightkube.models.core_v1 import Container, PodSpec, PodTemplateSpec
from lightkube.models.meta_v1 import LabelSelector, ObjectMeta, OwnerReference
from lightkube.resources.apps_v1 import Deployment, ReplicaSet
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import ConfigMap, Namespace, Pod

from kubetrade_dev import processes
from kubetrade_dev.controlplane import REPO_ROOT, ControlPlane, Ports, StartupError, free_ports
from kubetrade_testing.cluster import Cluster, kubectl, wait_until
from kubetrade_testing.operator import collect_kopf_leftovers

pytestmark = pytest.mark.integration


def _gone(client: Client, res: Any, name: str, namespace: str | None = None) -> bool:
    try:
        if namespace is None:
            client.get(res, name)
        else:
            client.get(res, name, namespace=namespace)
    except ApiError as exc:
        if exc.status.code == 404:
            return True
        raise
    return False


def _meta(obj: Any) -> ObjectMeta:
    meta = obj.metadata
    assert isinstance(meta, ObjectMeta)
    return meta


def _uid(obj: Any) -> str:
    uid = _meta(obj).uid
    assert uid
    return uid


def _owned_by(obj: Any, uid: str) -> bool:
    return any(ref.uid == uid for ref in _meta(obj).ownerReferences or [])


def _pod_spec(restart: str = "Always") -> PodSpec:
    container = Container(name="main", image="busybox:1.36", command=["sleep", "3600"])
    return PodSpec(containers=[container], restartPolicy=restart)


def _managed(cluster: Cluster) -> ControlPlane:
    if cluster.control_plane is None:
        pytest.skip("checks the control plane this run started; KUBETRADE_KUBECONFIG is set")
    return cluster.control_plane


# --- clients -------------------------------------------------------------------------


def test_kubectl_lists_namespaces(control_plane: Cluster) -> None:
    names = set(kubectl(control_plane, "get", "namespaces", "-o", "name").split())
    assert {"namespace/default", "namespace/kube-system", "namespace/kube-public"} <= names


def test_kubectl_sees_admin_identity_and_context(control_plane: Cluster) -> None:
    _managed(control_plane)
    assert kubectl(control_plane, "config", "current-context").strip() == "kubetrade-local"
    review = json.loads(kubectl(control_plane, "auth", "whoami", "-o", "json"))
    assert review["status"]["userInfo"]["username"] == "admin"
    assert "system:masters" in review["status"]["userInfo"]["groups"]


def test_helm_accepts_kubeconfig(control_plane: Cluster) -> None:
    helm = control_plane.bin_dir / "helm"
    if not helm.exists():
        pytest.skip("helm is not built")
    result = subprocess.run(
        [str(helm), "list", "--all-namespaces", "--output", "json"],
        env=control_plane.env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert isinstance(json.loads(result.stdout), list)


def test_kubernetes_client_accepts_kubeconfig(kubeconfig: Path) -> None:
    api = k8s_config.new_client_from_config(config_file=str(kubeconfig))  # type: ignore[no-untyped-call]
    try:
        version = k8s.VersionApi(api).get_code()
        names = {
            ns.metadata.name for ns in k8s.CoreV1Api(api).list_namespace().items if ns.metadata
        }
    finally:
        api.close()
    assert version.major == "1"
    assert re.fullmatch(r"v1\.\d+\.\d+.*", version.git_version)
    assert "default" in names


def test_lightkube_reads_and_writes(lightkube_client: Client, namespace: str) -> None:
    assert _meta(lightkube_client.get(Namespace, "default")).name == "default"
    created = lightkube_client.create(
        ConfigMap(metadata=ObjectMeta(name="hello"), data={"k": "v"}), namespace=namespace
    )
    assert _uid(created)
    assert lightkube_client.get(ConfigMap, "hello", namespace=namespace).data == {"k": "v"}


_KOPF_OPERATOR = textwrap.dedent(
    """
    import kopf

    @kopf.on.startup()
    def configure(settings, **_):
        settings.posting.enabled = False  # no Events: keep the test's API traffic small

    @kopf.on.create("v1", "configmaps", labels={"kubetrade.dev/kopf-test": "yes"})
    def mark(patch, **_):
        patch.metadata.annotations["kubetrade.dev/seen-by-kopf"] = "yes"
    """
)

# kopf's own kubeconfig reader, which takes only embedded certificate data; by
# default kopf logs in through the `kubernetes` client instead.
_KOPF_OWN_LOGIN = textwrap.dedent(
    """
    @kopf.on.login()
    def login(**kwargs):
        return kopf.login_with_kubeconfig(**kwargs)
    """
)


@pytest.mark.parametrize("login", ["kubernetes-client", "kopf-kubeconfig"])
def test_kopf_operator_runs_against_cluster(
    kubeconfig_env: Path,
    lightkube_client: Client,
    namespace: str,
    tmp_path: Path,
    login: str,
) -> None:
    # Not `operator.py`: kopf puts the file's folder on sys.path, where a module of
    # that name shadows the standard library's for the rest of the session (worker
    # processes spawned by later tests failed importing `operator.itemgetter`).
    operator = tmp_path / "kopf_watcher.py"
    operator.write_text(_KOPF_OPERATOR + (_KOPF_OWN_LOGIN if login == "kopf-kubeconfig" else ""))
    args = ["run", "--standalone", "--namespace", namespace, str(operator)]
    # The file's handlers register in kopf's default registry, which outlives
    # this test: in a registry of their own they cannot turn off the Events or
    # annotate the ConfigMaps of the kubetrade operators later tests run.
    ours = kopf.get_default_registry()
    kopf.set_default_registry(type(ours)())  # kopf's kind: it brings the stock logins
    try:
        _run_and_see_the_annotation(args, lightkube_client, namespace)
    finally:
        kopf.set_default_registry(ours)


def _run_and_see_the_annotation(args: list[str], lightkube_client: Client, namespace: str) -> None:
    with KopfRunner(args, timeout=60) as runner:
        meta = ObjectMeta(name="watched", labels={"kubetrade.dev/kopf-test": "yes"})
        lightkube_client.create(ConfigMap(metadata=meta), namespace=namespace)

        def seen() -> bool:
            cm = lightkube_client.get(ConfigMap, "watched", namespace=namespace)
            return (_meta(cm).annotations or {}).get("kubetrade.dev/seen-by-kopf") == "yes"

        wait_until(seen, timeout=60, what="kopf to annotate the ConfigMap")
    assert runner.exception is None
    assert runner.exit_code == 0
    collect_kopf_leftovers()


# --- controllers ---------------------------------------------------------------------


def test_garbage_collector_deletes_dependents(lightkube_client: Client, namespace: str) -> None:
    c = lightkube_client
    owner = c.create(ConfigMap(metadata=ObjectMeta(name="owner")), namespace=namespace)
    ref = OwnerReference(apiVersion="v1", kind="ConfigMap", name="owner", uid=_uid(owner))
    dependent = ObjectMeta(name="dependent", ownerReferences=[ref])
    c.create(ConfigMap(metadata=dependent), namespace=namespace)
    c.create(ConfigMap(metadata=ObjectMeta(name="bystander")), namespace=namespace)

    c.delete(ConfigMap, "owner", namespace=namespace)
    wait_until(
        lambda: _gone(c, ConfigMap, "dependent", namespace),
        timeout=60,
        what="the garbage collector to delete the dependent",
    )
    assert not _gone(c, ConfigMap, "bystander", namespace)


def test_deployment_gets_replicaset_and_pods(lightkube_client: Client, namespace: str) -> None:
    c = lightkube_client
    labels = {"app": "web"}
    spec = DeploymentSpec(
        replicas=2,
        selector=LabelSelector(matchLabels=labels),
        template=PodTemplateSpec(metadata=ObjectMeta(labels=labels), spec=_pod_spec()),
    )
    deployment = c.create(
        Deployment(metadata=ObjectMeta(name="web"), spec=spec), namespace=namespace
    )

    replicasets = wait_until(
        lambda: [
            rs for rs in c.list(ReplicaSet, namespace=namespace) if _owned_by(rs, _uid(deployment))
        ],
        what="the Deployment controller to create a ReplicaSet",
    )
    assert len(replicasets) == 1
    rs_uid = _uid(replicasets[0])

    def two_pods() -> list[Pod] | None:
        pods = [p for p in c.list(Pod, namespace=namespace) if _owned_by(p, rs_uid)]
        return pods if len(pods) >= 2 else None

    pods = wait_until(two_pods, what="the ReplicaSet controller to create 2 Pods")
    assert len(pods) == 2
    # Nothing schedules pods in this cluster: they wait unbound.
    assert all(p.spec is not None and p.spec.nodeName is None for p in pods)


def test_job_gets_a_pod(lightkube_client: Client, namespace: str) -> None:
    c = lightkube_client
    spec = JobSpec(
        backoffLimit=0,
        template=PodTemplateSpec(spec=_pod_spec(restart="Never")),
    )
    job = c.create(Job(metadata=ObjectMeta(name="once"), spec=spec), namespace=namespace)
    pods = wait_until(
        lambda: [p for p in c.list(Pod, namespace=namespace) if _owned_by(p, _uid(job))],
        what="the Job controller to create a Pod",
    )
    assert len(pods) == 1
    assert (_meta(pods[0]).labels or {}).get("batch.kubernetes.io/job-name") == "once"

    def active() -> bool:
        status = c.get(Job, "once", namespace=namespace).status
        return status is not None and status.active == 1

    wait_until(active, what="the Job controller to count the Pod as active")


def test_deleted_namespace_disappears(lightkube_client: Client, namespace: str) -> None:
    c = lightkube_client
    c.create(ConfigMap(metadata=ObjectMeta(name="content")), namespace=namespace)
    c.create(Pod(metadata=ObjectMeta(name="pending"), spec=_pod_spec()), namespace=namespace)

    c.delete(Namespace, namespace)
    wait_until(
        lambda: _gone(c, Namespace, namespace),
        timeout=90,
        what=f"namespace {namespace} to be deleted by the namespace controller",
    )


def test_controller_manager_log_has_no_fatal_errors(control_plane: Cluster) -> None:
    cp = _managed(control_plane)
    log = (cp.state_dir / "kube-controller-manager.log").read_text()
    fatal = [line for line in log.splitlines() if re.match(r"F\d{4} ", line) or "panic" in line]
    assert not fatal
    for started in (
        "Starting namespace controller",
        "Starting job controller",
        'controller="deployment"',
        '"Starting controller" name="replicaset"',
        "Proceeding to collect garbage",
    ):
        assert started in log, started


# --- lifecycle -----------------------------------------------------------------------


def _refused(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _alive(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def test_stop_leaves_no_process_and_no_port(control_plane: Cluster, tmp_path: Path) -> None:
    with ControlPlane(tmp_path / "cp", control_plane.bin_dir) as cp:
        pids = [c.pid for c in cp.components]
        ports = [
            cp.ports.etcd_client,
            cp.ports.etcd_peer,
            cp.ports.apiserver,
            cp.ports.controller_manager,
        ]
        assert len(pids) == 3 and all(_alive(p) for p in pids)
        assert not any(_refused(p) for p in ports)
        assert cp.env()["KUBECONFIG"] == str(cp.kubeconfig)
    assert not any(_alive(p) for p in pids)
    assert all(_refused(p) for p in ports)
    assert not (tmp_path / "cp" / "pids.json").exists()


def test_terminate_kills_what_ignores_sigterm(tmp_path: Path) -> None:
    stubborn = processes.spawn(
        "stubborn",
        ["sh", "-c", "trap '' TERM; echo trapped; while :; do sleep 0.1; done"],
        tmp_path / "stubborn.log",
    )
    wait_until(lambda: "trapped" in processes.log_tail(stubborn.log), timeout=10, interval=0.02)
    began = time.monotonic()
    processes.terminate([stubborn], timeout=0.5)
    assert time.monotonic() - began >= 0.5
    assert not stubborn.is_running()
    assert stubborn.popen is not None and stubborn.popen.returncode == -signal.SIGKILL


def test_startup_failure_reports_the_log_and_cleans_up(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    etcd = bin_dir / "etcd"
    etcd.write_text("#!/bin/sh\necho 'etcd: cannot start: disk on fire' >&2\nexit 3\n")
    etcd.chmod(0o755)
    cp = ControlPlane(tmp_path / "cp", bin_dir, start_timeout=10)
    with pytest.raises(StartupError, match=r"(?s)etcd exited with code 3.*disk on fire"):
        cp.start()
    assert cp.components == []


def test_start_retries_when_a_port_is_taken(
    control_plane: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Real etcd, and a kube-apiserver that fails at once: enough to see whether a
    # second attempt with new ports follows an "address already in use".
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "etcd").symlink_to(control_plane.bin_dir / "etcd")
    apiserver = bin_dir / "kube-apiserver"
    apiserver.write_text("#!/bin/sh\necho 'apiserver: deliberately broken' >&2\nexit 7\n")
    apiserver.chmod(0o755)
    picked: list[Ports] = []
    real_pick = Ports.pick

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = int(taken.getsockname()[1])

        def pick() -> Ports:
            ports = real_pick() if picked else Ports(busy, *free_ports(3))
            picked.append(ports)
            return ports

        monkeypatch.setattr(Ports, "pick", staticmethod(pick))
        cp = ControlPlane(tmp_path / "cp", bin_dir, start_timeout=20)
        with pytest.raises(StartupError, match=r"(?s)kube-apiserver exited with code 7"):
            cp.start()
    assert len(picked) == 2
    assert picked[1].etcd_client != busy
    assert cp.components == []


def _cli(state_dir: Path, bin_dir: Path, command: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["KUBETRADE_BIN_DIR"] = str(bin_dir)
    env["PYTHONPATH"] = str(REPO_ROOT / "hack")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "kubetrade_dev.controlplane",
            command,
            "--state-dir",
            str(state_dir),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_up_is_detached_idempotent_and_down_stops_it(
    control_plane: Cluster, tmp_path: Path
) -> None:
    state = tmp_path / "cli"
    bin_dir = control_plane.bin_dir
    try:
        up = _cli(state, bin_dir, "up")
        assert up.returncode == 0, up.stderr
        assert f"export KUBECONFIG={state / 'kubeconfig'}" in up.stdout
        components, meta = processes.load(state / "pids.json")
        assert sorted(c.name for c in components) == [
            "etcd",
            "kube-apiserver",
            "kube-controller-manager",
        ]
        # The CLI has exited; the cluster must still serve.
        assert all(c.is_running() for c in components)
        assert _cli(state, bin_dir, "status").returncode == 0
        again = _cli(state, bin_dir, "up")
        assert again.returncode == 0 and "already up" in again.stdout
        assert [c.pid for c in processes.load(state / "pids.json")[0]] == [
            c.pid for c in components
        ]
        port = int(meta["server"].rsplit(":", 1)[1])
    finally:
        down = _cli(state, bin_dir, "down")
    assert down.returncode == 0, down.stderr
    assert "stopped: " in down.stdout
    assert not any(c.is_running() for c in components)
    assert _refused(port)
    status = _cli(state, bin_dir, "status")
    assert status.returncode == 1 and "down" in status.stdout
