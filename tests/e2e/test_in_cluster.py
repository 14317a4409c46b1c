"""End to end on a real cluster (kind, via `make kind-e2e`): the chart's operator
and a real kubelet do the work, the test only talks to the API like a user.

Skipped unless KUBETRADE_E2E_NAMESPACE names the namespace the chart was installed
for (hack/kind-e2e.sh sets it, with KUBETRADE_KUBECONFIG pointing at the cluster).
KUBETRADE_E2E_STORAGE=s3 runs the lifecycle again with the chart switched to the S3
server of hack/kind/s3-server.sh: its artifacts must then be objects in the bucket.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from lightkube import Client
from lightkube.generic_resource import create_global_resource
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import Pod, Secret
from lightkube.types import PatchType
from typer.testing import CliRunner

from kubetrade_operator.cli.main import app
from kubetrade_testing.cluster import Cluster, kubectl, wait_until
from kubetrade_testing.factories import (
    RESOURCES,
    condition,
    create,
    get,
    in_phase,
    quick_training_run,
    status,
    trading_session,
    training_run,
)

NAMESPACE = os.environ.get("KUBETRADE_E2E_NAMESPACE", "")
# "pvc" (the chart's default artifact root) or "s3" (hack/kind/s3-server.sh's server).
STORAGE = os.environ.get("KUBETRADE_E2E_STORAGE", "pvc")
S3_SERVICE = "kubetrade-s3"  # in kubetrade-system; also the keys' Secret in NAMESPACE
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not NAMESPACE, reason="in-cluster suite: run by `make kind-e2e`"),
]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ClusterKopfPeering = create_global_resource(
    "kopf.dev", "v1", "ClusterKopfPeering", "clusterkopfpeerings"
)


@contextmanager
def forwarded(cluster: Cluster, service: str, port: int) -> Iterator[str]:
    """A kubetrade-system Service's endpoint, reached from here through `kubectl port-forward`."""
    command = [str(cluster.kubectl), "-n", "kubetrade-system", "port-forward"]
    command += [f"svc/{service}", f":{port}"]
    # As a context manager Popen closes its pipe and waits on exit: an open pipe left
    # to the garbage collector is a ResourceWarning, an error in this suite.
    with subprocess.Popen(
        command, env=cluster.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as forward:
        try:
            assert forward.stdout is not None
            line = forward.stdout.readline()  # "Forwarding from 127.0.0.1:LOCAL -> PORT"
            port = re.search(r"127\.0\.0\.1:(\d+)", line)
            assert port, f"kubectl port-forward: {line}"
            yield f"http://127.0.0.1:{port.group(1)}"
        finally:
            forward.terminate()


def assert_artifacts_are_in_the_bucket(cluster: Cluster, client: Client, model: str) -> None:
    """The Dataset's and the Model's URIs are s3:// and name objects the server holds: the
    manifest whose sha256 the Dataset reports, the model card, a complete checkpoint."""
    import fsspec

    ds = status(client, "Dataset", "synthetic-daily", NAMESPACE)
    artifact = get(client, "Model", model, NAMESPACE)["spec"]["artifactUri"]
    run = status(client, "TrainingRun", model, NAMESPACE)
    for uri in (ds["manifestUri"], artifact, run["checkpointUri"]):
        assert uri.startswith("s3://"), uri
    keys = client.get(Secret, S3_SERVICE, namespace=NAMESPACE).data or {}
    with forwarded(cluster, S3_SERVICE, 7070) as endpoint:
        fs = fsspec.filesystem(
            "s3",
            key=base64.b64decode(keys["AWS_ACCESS_KEY_ID"]).decode(),
            secret=base64.b64decode(keys["AWS_SECRET_ACCESS_KEY"]).decode(),
            endpoint_url=endpoint,
            skip_instance_cache=True,
        )
        manifest = fs.cat(ds["manifestUri"])
        assert hashlib.sha256(manifest).hexdigest() == ds["checksum"]
        assert fs.exists(f"{artifact}/model_card.json") and fs.exists(f"{artifact}/policy.zip")
        assert fs.exists(f"{run['checkpointUri']}/COMPLETE")


def test_two_operator_replicas_run_and_peer(
    control_plane: Cluster, lightkube_client: Client
) -> None:
    deployment = lightkube_client.get(Deployment, "kubetrade", namespace="kubetrade-system")
    assert deployment.status is not None and deployment.status.availableReplicas == 2

    def peers() -> dict[str, Any]:
        peering: Any = lightkube_client.get(ClusterKopfPeering, "kubetrade")
        return dict(peering.to_dict().get("status") or {})

    # A replica is Available before kopf has written its presence (this raced `helm
    # install --wait` once in three runs: no peer yet).
    found = wait_until(
        lambda: p if len(p := peers()) >= 2 else None, timeout=120, interval=1, what="two peers"
    )
    assert len(found) == 2, found


def test_example_dataset_succeeds_in_its_pod(
    control_plane: Cluster, lightkube_client: Client
) -> None:
    kubectl(control_plane, "apply", "-n", NAMESPACE, "-f", str(EXAMPLES / "dataset.yaml"))
    kubectl(
        control_plane, "wait", "-n", NAMESPACE, "--for=condition=Succeeded", "--timeout=600s",
        "datasets.kubetrade.io/synthetic-daily", timeout=660,
    )  # fmt: skip
    ds = get(lightkube_client, "Dataset", "synthetic-daily", NAMESPACE)
    assert ds["status"]["rows"] > 0 and len(ds["status"]["checksum"]) == 64
    failed = condition(ds, "Failed")
    assert failed is not None and failed["status"] == "False"


def test_a_sweep_and_a_distributed_forecaster_run_in_real_pods(
    control_plane: Cluster, lightkube_client: Client
) -> None:
    """Issue 15 in real containers: a search's worker pods share one Optuna journal on
    the artifact volume; two torchrun pods find each other through the headless
    Service's DNS (CoreDNS) and train one forecaster. Both publish a Model."""
    if STORAGE != "pvc":
        pytest.skip("the s3 pass repeats only the lifecycle")
    c = lightkube_client
    kubectl(control_plane, "apply", "-n", NAMESPACE, "-f", str(EXAMPLES / "dataset.yaml"))
    search = {
        "sampler": "random", "pruner": "none", "seed": 3, "maxTrials": 4, "parallelism": 2,
        "trialTimesteps": 256, "space": [{"name": "learningRate", "low": 1e-5, "high": 1e-2, "log": True}],
    }  # fmt: skip
    create(
        c,
        quick_training_run("sweep-e2e", "synthetic-daily", evalEvery=128, search=search),
        NAMESPACE,
    )
    forecaster = training_run(
        "ddp-e2e", "synthetic-daily", algorithm="CNN_LSTM", distributed={"replicas": 2},
        environment={"window": 10}, cnnLstm={"epochs": 3, "hiddenSize": 8, "layers": 1},
    )  # fmt: skip
    create(c, forecaster, NAMESPACE)
    for name in ("sweep-e2e", "ddp-e2e"):
        done = wait_until(
            lambda: in_phase(c, "TrainingRun", name, NAMESPACE, "Succeeded", "Failed"),  # noqa: B023
            timeout=900,
            interval=2,
            what=f"{name} in its pods",
        )
        assert done["status"]["phase"] == "Succeeded", done["status"]
    sweep = get(c, "TrainingRun", "sweep-e2e", NAMESPACE)["status"]["search"]
    assert sweep["trials"] >= 4 and sweep["completed"] >= 1 and sweep["running"] == 0
    ddp = get(c, "TrainingRun", "ddp-e2e", NAMESPACE)["status"]
    assert ddp["metrics"]["trainingPods"] == 2 and ddp["metrics"]["epochs"] == 3


def _trader_pods(c: Client) -> list[str]:
    pods = c.list(Pod, namespace=NAMESPACE, labels={"kubetrade.io/tradingsession": "paper-e2e"})
    return sorted(p.metadata.name for p in pods if p.metadata.deletionTimestamp is None)


def retrained_version_swaps_in_the_same_pod(c: Client) -> None:
    """`trading-cli models retrain` runs the TrainingRun again; its policy is Model version
    2, and the running trader (following, Immediate) swaps it in without a new pod."""
    pods = _trader_pods(c)
    assert status(c, "TradingSession", "paper-e2e", NAMESPACE)["model"]["version"] == 1
    result = CliRunner().invoke(app, ["models", "retrain", "ppo-e2e", "-n", NAMESPACE])
    assert result.exit_code == 0, result.output
    wait_until(
        lambda: status(c, "Model", "ppo-e2e", NAMESPACE).get("readyVersion") == 2,
        timeout=900,
        interval=2,
        what="version 2 trained and evaluated in its pods",
    )
    swapped = wait_until(
        lambda: (
            s
            if ((s := status(c, "TradingSession", "paper-e2e", NAMESPACE)).get("trading") or {})
            .get("model", {})
            .get("version")
            == 2
            else None
        ),
        timeout=300,
        interval=2,
        what="the trader to trade version 2",
    )
    assert swapped["modelHistory"][-1]["reason"] == "Followed"
    assert _trader_pods(c) == pods and not swapped.get("restarts"), "the swap restarted the trader"


def test_lifecycle_trains_promotes_trades_and_suspends_in_real_containers(
    control_plane: Cluster, lightkube_client: Client
) -> None:
    """TrainingRun -> Model -> TradingSession -> suspend on the example Dataset:
    every Job and the trader's Deployment run in kind's containers, as the chart's
    workload ServiceAccount, under the namespace's `restricted` Pod Security."""
    c = lightkube_client
    kubectl(control_plane, "apply", "-n", NAMESPACE, "-f", str(EXAMPLES / "dataset.yaml"))
    run = quick_training_run(
        "ppo-e2e",
        "synthetic-daily",
        # On S3, checkpoints too: written without a rename, published by their marker.
        **({"checkpointEvery": 128} if STORAGE == "s3" else {}),
    )
    create(c, run, NAMESPACE)
    done = wait_until(
        lambda: in_phase(c, "TrainingRun", "ppo-e2e", NAMESPACE, "Succeeded", "Failed"),
        timeout=900,
        interval=2,
        what="training in its pod",
    )
    assert done["status"]["phase"] == "Succeeded", done["status"]
    assert done["status"]["progress"]["steps"] >= 256

    mdl = wait_until(
        lambda: in_phase(c, "Model", "ppo-e2e", NAMESPACE, "Ready", "Rejected", "Failed"),
        timeout=900,
        interval=2,
        what="the evaluation in its pod",
    )
    assert mdl["status"]["phase"] == "Ready", mdl["status"]
    assert "sharpe" in mdl["status"]["metrics"]
    if STORAGE == "s3":
        assert_artifacts_are_in_the_bucket(control_plane, c, "ppo-e2e")

    create(c, trading_session("paper-e2e", "ppo-e2e", barSeconds=0.1), NAMESPACE)
    trading = wait_until(
        lambda: (
            s
            if (s := status(c, "TradingSession", "paper-e2e", NAMESPACE)).get("phase") == "Running"
            and (s.get("trading") or {}).get("positions")
            else None
        ),
        timeout=600,
        interval=2,
        what="the trader's pod to take positions",
    )
    assert trading["deploymentName"] == "paper-e2e-trader"
    assert trading["trading"]["equity"] > 0 and trading["trading"]["heartbeat"]
    ready = condition({"status": trading}, "Ready")
    assert ready is not None and ready["reason"] == "TraderRunning", trading
    if STORAGE == "pvc":  # once is enough: the swap does not touch storage
        retrained_version_swaps_in_the_same_pod(c)

    c.patch(
        RESOURCES["TradingSession"],
        "paper-e2e",
        {"spec": {"suspend": True}},
        namespace=NAMESPACE,
        patch_type=PatchType.MERGE,
    )
    stopped = wait_until(
        lambda: (
            s
            if (s := status(c, "TradingSession", "paper-e2e", NAMESPACE)).get("phase")
            == "Suspended"
            else None
        ),
        timeout=300,
        interval=2,
        what="suspension",
    )
    suspended = condition({"status": stopped}, "Suspended")
    assert suspended is not None and suspended["reason"] == "Flattened", stopped
    assert stopped["trading"]["positions"] == []


CONSOLE_SERVICE, CONSOLE_PORT = "kubetrade-console", 8443
VIEWER_RBAC = """
apiVersion: v1
kind: ServiceAccount
metadata: {name: console-viewer}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: console-stranger}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: console-viewer}
rules:
  - apiGroups: [kubetrade.io]
    resources: [datasets, trainingruns, models, tradingsessions]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: console-viewer}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: console-viewer}
subjects: [{kind: ServiceAccount, name: console-viewer}]
"""


def test_the_console_in_the_cluster_answers_each_token_as_its_rbac_allows(
    control_plane: Cluster, tmp_path: Path
) -> None:
    """Issue 16 in real containers: the chart's console (its own ServiceAccount, the
    workload image) checks tokens with TokenReview and rights with SubjectAccessReview."""
    import httpx2 as httpx

    if STORAGE != "pvc":
        pytest.skip("the s3 pass repeats only the lifecycle")
    rbac = tmp_path / "viewer.yaml"
    rbac.write_text(VIEWER_RBAC)
    kubectl(control_plane, "apply", "-n", NAMESPACE, "-f", str(rbac))
    tokens = {
        who: kubectl(control_plane, "create", "token", f"console-{who}", "-n", NAMESPACE).strip()
        for who in ("viewer", "stranger")
    }
    overview = f"/api/v1/namespaces/{NAMESPACE}"
    with forwarded(control_plane, CONSOLE_SERVICE, CONSOLE_PORT) as url:
        with httpx.Client(base_url=url, timeout=30) as http:
            assert http.get("/healthz").status_code == 200
            assert http.get(overview).status_code == 401  # no token
            bad = http.get(overview, headers={"Authorization": "Bearer not-a-token"})
            assert bad.status_code == 401
            seen = http.get(overview, headers={"Authorization": f"Bearer {tokens['viewer']}"})
            assert seen.status_code == 200, seen.text
            names = [d["metadata"]["name"] for d in seen.json()["items"]["datasets"]]
            assert "synthetic-daily" in names
            refused = http.get(overview, headers={"Authorization": f"Bearer {tokens['stranger']}"})
            assert refused.status_code == 403 and "list" in refused.text
            suspend = http.post(
                f"{overview}/tradingsessions/paper-e2e/suspend",
                headers={"Authorization": f"Bearer {tokens['viewer']}"},
            )
            assert suspend.status_code == 403, suspend.text  # may read, may not patch
