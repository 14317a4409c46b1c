"""The local node runs kubetrade's Pods as processes, and the real Job and
Deployment controllers see the outcome as they would on a cluster."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from lightkube import ApiError, Client, codecs
from lightkube.models.core_v1 import ContainerStatus
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.batch_v1 import Job
from lightkube.resources.coordination_v1 import Lease
from lightkube.resources.core_v1 import Node, Pod
from lightkube.types import CascadeType

from kubetrade_dev.controlplane import REPO_ROOT
from kubetrade_dev.local_node import LocalNode
from kubetrade_testing.cluster import wait_until
from kubetrade_testing.local_node import running_local_node

pytestmark = pytest.mark.integration

MANAGED = {"app.kubernetes.io/managed-by": "kubetrade"}


# -- factories ----------------------------------------------------------------------------


def container(script: str, **extra: Any) -> dict[str, Any]:
    """A container that runs a Python snippet with the node's interpreter."""
    return {
        "name": "main",
        "image": "kubetrade/workload:dev",
        "command": ["python", "-c", textwrap.dedent(script)],
        **extra,
    }


def pod_spec(main: dict[str, Any], restart: str = "Never", **extra: Any) -> dict[str, Any]:
    """A pod spec with one container; short grace so deletions are quick."""
    return {
        "restartPolicy": restart,
        "terminationGracePeriodSeconds": 5,
        "containers": [main],
        **extra,
    }


def job(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """A Job that never retries, with kubetrade's label on its pods."""
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {"backoffLimit": 0, "template": {"metadata": {"labels": MANAGED}, "spec": spec}},
    }


def deployment(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """A one-replica Deployment with kubetrade's label on its pods."""
    labels = {**MANAGED, "app.kubernetes.io/name": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": spec},
        },
    }


def host_volume(path: Path) -> dict[str, Any]:
    """A hostPath volume named ``host``: how a test reads what a process wrote."""
    return {"name": "host", "hostPath": {"path": str(path), "type": "DirectoryOrCreate"}}


def apply(client: Client, namespace: str, *objects: dict[str, Any]) -> None:
    """Create each manifest in ``namespace``."""
    for obj in objects:
        obj = {**obj, "metadata": {**obj["metadata"], "namespace": namespace}}
        client.create(codecs.from_dict(obj))


# -- helpers ------------------------------------------------------------------------------


def pods_of(client: Client, namespace: str, **labels: str) -> list[Pod]:
    """Pods in the namespace, optionally filtered by labels."""
    selector: dict[str, Any] = dict(labels)
    return list(client.list(Pod, namespace=namespace, labels=selector or None))


def job_condition(client: Client, namespace: str, name: str) -> str | None:
    """``Complete`` or ``Failed`` once the Job controller has decided, else None."""
    status = client.get(Job, name, namespace=namespace).status
    for cond in (status.conditions if status else None) or []:
        if cond.type in ("Complete", "Failed") and cond.status == "True":
            return cond.type
    return None


def terminated(pod: Pod) -> Any:
    """The terminated state of the pod's container (asserting there is one)."""
    assert pod.status is not None and pod.status.containerStatuses
    state = pod.status.containerStatuses[0].state
    assert state is not None and state.terminated is not None, state
    return state.terminated


def process_alive(pid: int) -> bool:
    """Whether a process with this pid exists (the node reaps its children)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def node(
    kubeconfig: Path, namespace: str, lightkube_client: Client, tmp_path: Path
) -> Iterator[LocalNode]:
    """A local node for the test's namespace, with fast restarts."""
    with running_local_node(
        kubeconfig,
        tmp_path / "node",
        namespace,
        lightkube_client,
        restart_backoff=0.5,
        max_grace_seconds=5,
    ) as local:
        yield local


# -- tests --------------------------------------------------------------------------------


def test_job_gets_config_secret_env_and_volumes_and_completes(
    node: LocalNode, lightkube_client: Client, namespace: str
) -> None:
    script = """
        import json, os, sys
        from pathlib import Path
        config = json.loads(Path("/etc/kubetrade/config.json").read_text())
        out = Path(sys.argv[1])
        out.mkdir(parents=True, exist_ok=True)
        line = f"{config['greeting']} {os.environ['TOKEN']} {os.environ['POD_NAMESPACE']}"
        (out / "result.txt").write_text(line)
        Path("/scratch/tmp.txt").write_text("scratch")
        print("wrote", line, "to", out, "scratch", Path("/scratch/tmp.txt").read_text())
    """
    env = [
        {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token"}}},
        {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "OUT_DIR", "value": "/data/results"},
    ]
    mounts = [
        {"name": "config", "mountPath": "/etc/kubetrade"},
        {"name": "data", "mountPath": "/data"},
        {"name": "scratch", "mountPath": "/scratch"},
    ]
    volumes = [
        {"name": "config", "configMap": {"name": "cfg"}},
        {"name": "data", "persistentVolumeClaim": {"claimName": "artifacts"}},
        {"name": "scratch", "emptyDir": {}},
    ]
    main = container(script, args=["$(OUT_DIR)"], env=env, volumeMounts=mounts)
    apply(
        lightkube_client,
        namespace,
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "cfg"},
            "data": {"config.json": json.dumps({"greeting": "hello"})},
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "creds"},
            "stringData": {"token": "s3cr3t"},
        },
        job("produce", pod_spec(main, volumes=volumes)),
    )

    outcome = wait_until(
        lambda: job_condition(lightkube_client, namespace, "produce"), timeout=30, what="Job"
    )

    assert outcome == "Complete"
    (pod,) = pods_of(lightkube_client, namespace, **{"job-name": "produce"})
    assert pod.spec is not None and pod.spec.nodeName == node.node_name
    assert pod.status is not None and pod.status.phase == "Succeeded"
    assert pod.status.podIP == "127.0.0.1"
    state = terminated(pod)
    assert (state.exitCode, state.reason) == (0, "Completed")
    # The PVC is a stable folder per namespace/claim, outside the pod's own folder.
    result = node.workdir / "volumes" / namespace / "artifacts" / "results" / "result.txt"
    assert result.read_text() == f"hello s3cr3t {namespace}"
    assert pod.metadata is not None and pod.metadata.name
    log = node.log_path(namespace, pod.metadata.name).read_text()
    assert f"wrote hello s3cr3t {namespace} to {result.parent} scratch scratch" in log


def test_failing_job_reports_exit_code_and_stderr(
    node: LocalNode, lightkube_client: Client, namespace: str
) -> None:
    script = """
        import sys
        print("starting")
        sys.stderr.write("Traceback: ValueError: bad config\\n")
        sys.exit(3)
    """
    apply(lightkube_client, namespace, job("broken", pod_spec(container(script))))

    outcome = wait_until(
        lambda: job_condition(lightkube_client, namespace, "broken"), timeout=30, what="Job"
    )

    assert outcome == "Failed"
    (pod,) = pods_of(lightkube_client, namespace, **{"job-name": "broken"})
    assert pod.status is not None and pod.status.phase == "Failed"
    state = terminated(pod)
    assert (state.exitCode, state.reason) == (3, "Error")
    assert state.message == "Traceback: ValueError: bad config"


def test_pod_waits_for_a_config_map_created_after_it(
    node: LocalNode, lightkube_client: Client, namespace: str
) -> None:
    script = """
        from pathlib import Path
        print("config:", Path("/etc/kubetrade/config.json").read_text())
    """
    main = container(script, volumeMounts=[{"name": "config", "mountPath": "/etc/kubetrade"}])
    volumes = [{"name": "config", "configMap": {"name": "late"}}]
    apply(lightkube_client, namespace, job("early", pod_spec(main, volumes=volumes)))

    def waiting_reason() -> str | None:
        pods = pods_of(lightkube_client, namespace, **{"job-name": "early"})
        statuses = [s for p in pods if p.status for s in p.status.containerStatuses or []]
        states = [s.state.waiting for s in statuses if s.state and s.state.waiting]
        return next((w.reason for w in states if w.reason != "ContainerCreating"), None)

    reason = wait_until(waiting_reason, timeout=20, what="the pod to wait for its ConfigMap")
    assert reason == "CreateContainerConfigError"
    assert job_condition(lightkube_client, namespace, "early") is None

    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "late"}}
    apply(lightkube_client, namespace, {**config_map, "data": {"config.json": "{}"}})

    outcome = wait_until(
        lambda: job_condition(lightkube_client, namespace, "early"), timeout=20, what="Job"
    )
    assert outcome == "Complete"
    (pod,) = pods_of(lightkube_client, namespace, **{"job-name": "early"})
    assert pod.metadata is not None and pod.metadata.name
    assert "config: {}" in node.log_path(namespace, pod.metadata.name).read_text()


def test_deleting_a_running_jobs_pod_stops_its_process(
    node: LocalNode, lightkube_client: Client, namespace: str, tmp_path: Path
) -> None:
    script = """
        import os, signal, sys, time
        from pathlib import Path
        def on_term(*_):
            Path("/out/terminated").write_text("SIGTERM")
            sys.exit(0)
        signal.signal(signal.SIGTERM, on_term)
        Path("/out/pid.tmp").write_text(str(os.getpid()))
        os.replace("/out/pid.tmp", "/out/pid")  # atomic: the test reads it
        time.sleep(600)
    """
    host = tmp_path / "host"
    main = container(script, volumeMounts=[{"name": "host", "mountPath": "/out"}])
    apply(lightkube_client, namespace, job("forever", pod_spec(main, volumes=[host_volume(host)])))
    wait_until(lambda: (host / "pid").exists(), timeout=20, what="the process to start")
    pid = int((host / "pid").read_text())
    # The process can write its pid before the node reports the pod Running (seen
    # on a loaded machine): wait for the report rather than race it.
    pod = wait_until(
        lambda: next(
            (
                p
                for p in pods_of(lightkube_client, namespace, **{"job-name": "forever"})
                if p.status is not None and p.status.phase == "Running"
            ),
            None,
        ),
        timeout=20,
        what="the pod reported Running",
    )
    assert pod.metadata is not None and pod.metadata.name
    pod_name = pod.metadata.name
    assert process_alive(pid)

    # Background propagation, as kubectl does: the garbage collector deletes the pod.
    lightkube_client.delete(Job, "forever", namespace=namespace, cascade=CascadeType.BACKGROUND)

    wait_until(lambda: not process_alive(pid), timeout=20, what="the process to end")
    assert (host / "terminated").read_text() == "SIGTERM"

    def pod_gone() -> bool:
        try:
            lightkube_client.get(Pod, pod_name, namespace=namespace)
        except ApiError as err:
            return err.status.code == 404
        return False

    wait_until(pod_gone, timeout=20, what="the pod to be deleted")


def test_deployment_pod_runs_and_is_restarted_after_it_exits(
    node: LocalNode, lightkube_client: Client, namespace: str, tmp_path: Path
) -> None:
    # The first run exits 1; the restarted one stays up.
    script = """
        import sys, time
        from pathlib import Path
        starts = Path("/out/starts")
        with starts.open("a") as f:
            f.write("start\\n")
        if len(starts.read_text().splitlines()) == 1:
            sys.exit(1)
        time.sleep(600)
    """
    host = tmp_path / "host"
    main = container(script, volumeMounts=[{"name": "host", "mountPath": "/out"}])
    spec = pod_spec(main, restart="Always", volumes=[host_volume(host)])
    apply(lightkube_client, namespace, deployment("trader", spec))

    def restarted() -> ContainerStatus | None:
        starts = host / "starts"
        if not starts.exists() or len(starts.read_text().splitlines()) < 2:
            return None
        pods = pods_of(lightkube_client, namespace, **{"app.kubernetes.io/name": "trader"})
        statuses = [s for p in pods if p.status for s in p.status.containerStatuses or []]
        return next((s for s in statuses if s.restartCount > 0 and s.ready), None)

    status = wait_until(restarted, timeout=30, what="the container to be restarted")

    assert status.restartCount == 1
    assert status.state is not None and status.state.running is not None
    last = status.lastState.terminated if status.lastState else None
    assert last is not None and (last.exitCode, last.reason) == (1, "Error")
    assert (host / "starts").read_text().splitlines() == ["start", "start"]

    def available() -> bool:
        status = lightkube_client.get(Deployment, "trader", namespace=namespace).status
        return bool(status and status.availableReplicas == 1)

    # The Deployment controller sees the restarted pod Ready, as on a cluster.
    wait_until(available, timeout=20, what="the Deployment to become available")
    (pod,) = pods_of(lightkube_client, namespace, **{"app.kubernetes.io/name": "trader"})
    assert pod.status is not None and pod.status.phase == "Running"


def bare_pod(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """A Pod without a controller, with kubetrade's label."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": MANAGED},
        "spec": spec,
    }


def get_pod(client: Client, namespace: str, name: str) -> Pod:
    """The pod as the API has it now."""
    return client.get(Pod, name, namespace=namespace)


def test_registers_a_ready_node_without_gpus_and_renews_its_lease(
    node: LocalNode, lightkube_client: Client
) -> None:
    registered = lightkube_client.get(Node, node.node_name)
    assert registered.status is not None
    ready = [c for c in registered.status.conditions or [] if c.type == "Ready"]
    assert [c.status for c in ready] == ["True"]
    assert registered.status.capacity is not None
    assert registered.status.capacity["nvidia.com/gpu"] == "0"
    assert int(registered.status.capacity["pods"]) == node.max_pods
    lease = lightkube_client.get(Lease, node.node_name, namespace="kube-node-lease")
    assert lease.spec is not None and lease.spec.holderIdentity == node.node_name
    assert lease.spec.renewTime is not None
    age = datetime.now(UTC) - lease.spec.renewTime
    assert age < timedelta(seconds=30)


def test_pod_without_command_fails_with_a_reason(
    node: LocalNode, lightkube_client: Client, namespace: str
) -> None:
    spec = pod_spec({"name": "main", "image": "kubetrade/workload:dev"})
    apply(lightkube_client, namespace, bare_pod("no-command", spec))

    def failed() -> Pod | None:
        pod = get_pod(lightkube_client, namespace, "no-command")
        return pod if pod.status and pod.status.phase == "Failed" else None

    pod = wait_until(failed, timeout=20, what="the pod to fail")

    assert pod.status is not None and pod.status.reason == "NoCommand"
    assert "command" in (pod.status.message or "")
    assert terminated(pod).reason == "NoCommand"


def test_pods_without_kubetrades_label_are_left_alone(
    node: LocalNode, lightkube_client: Client, namespace: str
) -> None:
    other = bare_pod("not-ours", pod_spec(container("print('x')")))
    other["metadata"]["labels"] = {"app.kubernetes.io/managed-by": "someone-else"}
    apply(lightkube_client, namespace, other, bare_pod("ours", pod_spec(container("print('x')"))))

    def succeeded() -> bool:
        status = get_pod(lightkube_client, namespace, "ours").status
        return bool(status and status.phase == "Succeeded")

    wait_until(succeeded, timeout=20, what="our pod to succeed")

    pod = get_pod(lightkube_client, namespace, "not-ours")
    assert pod.spec is not None and not pod.spec.nodeName
    assert pod.status is not None and pod.status.phase == "Pending"


def test_pod_whose_command_cannot_start_fails_with_start_error(
    node: LocalNode, lightkube_client: Client, namespace: str
) -> None:
    main = {"name": "main", "image": "x", "command": ["kubetrade-no-such-command", "--help"]}
    apply(lightkube_client, namespace, bare_pod("bad-exec", pod_spec(main)))

    def failed() -> Pod | None:
        pod = get_pod(lightkube_client, namespace, "bad-exec")
        return pod if pod.status and pod.status.phase == "Failed" else None

    pod = wait_until(failed, timeout=20, what="the pod to fail")

    state = terminated(pod)
    assert (state.exitCode, state.reason) == (128, "StartError")
    assert "kubetrade-no-such-command" in state.message


def test_pod_asking_for_a_gpu_stays_pending_as_unschedulable(
    node: LocalNode, lightkube_client: Client, namespace: str
) -> None:
    resources = {"limits": {"nvidia.com/gpu": "1"}}
    spec = pod_spec(container("print('never')", resources=resources))
    apply(lightkube_client, namespace, bare_pod("gpu", spec))

    def unschedulable() -> Any:
        status = get_pod(lightkube_client, namespace, "gpu").status
        conds = (status.conditions if status else None) or []
        return next((c for c in conds if c.type == "PodScheduled" and c.status == "False"), None)

    cond = wait_until(unschedulable, timeout=20, what="PodScheduled=False")

    assert cond.reason == "Unschedulable"
    assert cond.message == "0/1 nodes are available: 1 Insufficient nvidia.com/gpu."
    pod = get_pod(lightkube_client, namespace, "gpu")
    assert pod.spec is not None and not pod.spec.nodeName
    assert pod.status is not None and pod.status.phase == "Pending"


def test_active_deadline_fails_the_pod_and_stops_the_process(
    node: LocalNode, lightkube_client: Client, namespace: str, tmp_path: Path
) -> None:
    script = """
        import os, time
        from pathlib import Path
        Path("/out/pid.tmp").write_text(str(os.getpid()))
        os.replace("/out/pid.tmp", "/out/pid")  # atomic: the test reads it
        time.sleep(600)
    """
    host = tmp_path / "host"
    main = container(script, volumeMounts=[{"name": "host", "mountPath": "/out"}])
    spec = pod_spec(main, activeDeadlineSeconds=2, volumes=[host_volume(host)])
    apply(lightkube_client, namespace, bare_pod("deadline", spec))

    def failed() -> Pod | None:
        pod = get_pod(lightkube_client, namespace, "deadline")
        return pod if pod.status and pod.status.phase == "Failed" else None

    pod = wait_until(failed, timeout=20, what="the deadline")

    assert pod.status is not None and pod.status.reason == "DeadlineExceeded"
    assert not process_alive(int((host / "pid").read_text()))
    state = terminated(pod)
    assert state.exitCode == 128 + signal.SIGTERM


def test_command_line_node_stops_cleanly_on_sigterm(
    kubeconfig: Path, lightkube_client: Client, namespace: str, tmp_path: Path
) -> None:
    script = """
        import os, time
        from pathlib import Path
        Path("/out/pid.tmp").write_text(str(os.getpid()))
        os.replace("/out/pid.tmp", "/out/pid")  # atomic: the test reads it
        time.sleep(600)
    """
    host = tmp_path / "host"
    main = container(script, volumeMounts=[{"name": "host", "mountPath": "/out"}])
    apply(lightkube_client, namespace, bare_pod("cli", pod_spec(main, volumes=[host_volume(host)])))
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "hack")}
    argv = [sys.executable, "-m", "kubetrade_dev.local_node", "--kubeconfig", str(kubeconfig)]
    argv += ["--workdir", str(tmp_path / "node"), "--namespace", namespace]
    with subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as proc:
        try:
            wait_until(lambda: (host / "pid").exists(), timeout=20, what="the pod's process")
            pid = int((host / "pid").read_text())
            assert process_alive(pid)
            proc.send_signal(signal.SIGTERM)
            output, _ = proc.communicate(timeout=20)
        finally:
            proc.kill()
    assert proc.returncode == 0, output
    assert "pod logs in" in output
    assert not process_alive(pid)
    # The node only stopped: the pod is left as it was, nothing was deleted.
    pod = get_pod(lightkube_client, namespace, "cli")
    assert pod.status is not None and pod.status.phase == "Running"
    # No node runs it any more: remove it the way one would on a cluster.
    lightkube_client.delete(Pod, "cli", namespace=namespace, grace_period=0)
