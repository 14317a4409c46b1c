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

from kubetrade_testing.cluster import Cluster
from kubetrade_testing.factories import condition, get

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
    peering: Any = lightkube_client.get(ClusterKopfPeering, "kubetrade")
    peers = peering.to_dict().get("status") or {}
    assert len(peers) == 2, peers


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
