"""A user's view: apply examples/, wait like `kubectl wait`, read the result."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kopf.testing import KopfRunner
from lightkube import Client

from kubetrade_dev.local_node import LocalNode
from kubetrade_testing.cluster import Cluster, kubectl
from kubetrade_testing.factories import condition, create, dataset, get

pytestmark = pytest.mark.e2e
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_example_dataset_succeeds_and_reports_its_data(
    control_plane: Cluster,
    operator: KopfRunner,
    local_node: LocalNode,
    lightkube_client: Client,
    namespace: str,
) -> None:
    kubectl(control_plane, "apply", "-n", namespace, "-f", str(EXAMPLES / "dataset.yaml"))
    kubectl(
        control_plane, "wait", "-n", namespace, "--for=condition=Succeeded", "--timeout=150s",
        "datasets.kubetrade.io/synthetic-daily", timeout=180,
    )  # fmt: skip

    ds = get(lightkube_client, "Dataset", "synthetic-daily", namespace)
    status = ds["status"]
    assert status["phase"] == "Succeeded"
    assert status["rows"] > 0 and status["symbols"] == ["SYN-A", "SYN-B", "SYN-C"]
    assert len(status["checksum"]) == 64
    assert status["completionTime"] >= status["startTime"]
    failed = condition(ds, "Failed")
    assert failed is not None and failed["status"] == "False"

    # The manifest the pod published is where the status says, on the node's artifact volume.
    manifest_uri = status["manifestUri"]
    assert manifest_uri.startswith(
        f"file:///var/lib/kubetrade/artifacts/{namespace}/datasets/synthetic-daily/"
    )
    local = Path(local_node.workdir) / "volumes" / namespace / "kubetrade-artifacts"
    manifest = json.loads((local / manifest_uri.split("/artifacts/", 1)[1]).read_text())
    assert manifest["rows"] == status["rows"]

    listing = kubectl(control_plane, "get", "kubetrade", "-n", namespace)
    assert "synthetic-daily" in listing and "Succeeded" in listing


def test_a_workload_that_exits_non_zero_marks_the_dataset_failed_with_the_reason(
    control_plane: Cluster,
    operator: KopfRunner,
    local_node: LocalNode,
    lightkube_client: Client,
    namespace: str,
) -> None:
    broken = dataset(
        "broken", source={"type": "file", "uri": "/nonexistent/bars.csv"}, job={"backoffLimit": 0}
    )
    create(lightkube_client, broken, namespace)
    kubectl(
        control_plane, "wait", "-n", namespace, "--for=condition=Failed", "--timeout=150s",
        "datasets.kubetrade.io/broken", timeout=180,
    )  # fmt: skip
    ds = get(lightkube_client, "Dataset", "broken", namespace)
    failed = condition(ds, "Failed")
    assert failed is not None
    assert failed["message"].startswith("exit code 1 (Error)"), failed
    assert "bars.csv" in failed["message"]
    assert ds["status"]["phase"] == "Failed"
