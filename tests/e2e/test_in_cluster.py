"""End to end on a real cluster (kind, via `make kind-e2e`): the chart's operator
and a real kubelet do the work, the test only talks to the API like a user.

Skipped unless KUBETRADE_E2E_NAMESPACE names the namespace the chart was installed
for (hack/kind-e2e.sh sets it, with KUBETRADE_KUBECONFIG pointing at the cluster).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from lightkube import Client
from lightkube.generic_resource import create_global_resource
from lightkube.resources.apps_v1 import Deployment
from lightkube.types import PatchType

from kubetrade_testing.cluster import Cluster, wait_until
from kubetrade_testing.factories import (
    RESOURCES,
    condition,
    create,
    get,
    in_phase,
    status,
    trading_session,
    training_run,
)

NAMESPACE = os.environ.get("KUBETRADE_E2E_NAMESPACE", "")
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not NAMESPACE, reason="in-cluster suite: run by `make kind-e2e`"),
]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ClusterKopfPeering = create_global_resource(
    "kopf.dev", "v1", "ClusterKopfPeering", "clusterkopfpeerings"
)


def kubectl(cluster: Cluster, *args: str, timeout: float = 600) -> str:
    done = subprocess.run(
        [str(cluster.kubectl), *args],
        env=cluster.env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


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
        "datasets.kubetrade.io/synthetic-daily",
    )  # fmt: skip
    ds = get(lightkube_client, "Dataset", "synthetic-daily", NAMESPACE)
    assert ds["status"]["rows"] > 0 and len(ds["status"]["checksum"]) == 64
    failed = condition(ds, "Failed")
    assert failed is not None and failed["status"] == "False"


def test_lifecycle_trains_promotes_trades_and_suspends_in_real_containers(
    control_plane: Cluster, lightkube_client: Client
) -> None:
    """TrainingRun -> Model -> TradingSession -> suspend on the example Dataset:
    every Job and the trader's Deployment run in kind's containers, as the chart's
    workload ServiceAccount, under the namespace's `restricted` Pod Security."""
    c = lightkube_client
    kubectl(control_plane, "apply", "-n", NAMESPACE, "-f", str(EXAMPLES / "dataset.yaml"))
    run = training_run(
        "ppo-e2e",
        dataset_name="synthetic-daily",
        modelName="ppo-e2e",
        totalTimesteps=256,
        ppo={"nSteps": 64, "batchSize": 32, "nEpochs": 1},
        environment={"window": 10},
        evaluation={"gates": {"minSharpe": -10.0}},
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
