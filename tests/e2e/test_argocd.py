"""Argo CD, for real (`make argocd-e2e`): Argo CD's application controller and repo
server, built from source, sync the chart, examples/ and hack/argocd/health/ from a
git repository into a kind cluster, and judge kubetrade's kinds with the Lua health
checks of deploy/argocd. These tests read what Argo CD reports in
``Application.status.resources[].health`` and ``status.health``.

What moves each resource:

- the operator Deployment (Healthy): the chart's operator, started by the kubelet;
- Dataset ``synthetic-daily`` (Progressing): the real operator, its pod stuck in
  ErrImageNeverPull (the workload image is not in this cluster) so the Dataset
  stays Pending;
- Dataset ``doomed`` (Degraded): the real operator and Job controller, its Job out
  of its 20 s deadline, so the operator marks it Failed;
- Model ``evaluated-elsewhere`` (Progressing, then Healthy): a STATUS PATCH by this
  test, not the operator. Its Dataset exists nowhere, so the operator reports it
  waiting and, once its status names an evaluation Job, leaves it alone; the test
  writes phase Ready the way an evaluation elsewhere would (as
  tests/integration/test_chart.py does), since evaluating needs the workload image;
- TradingSession ``parked`` (Suspended): the real operator. spec.suspend is true
  and no trader was ever started, so it is Suspended whatever its Model's state.

Skipped unless KUBETRADE_ARGOCD_NAMESPACE names Argo CD's namespace
(hack/argocd-e2e.sh sets it, with KUBETRADE_KUBECONFIG pointing at the cluster).
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pytest
from lightkube import Client
from lightkube.generic_resource import create_namespaced_resource
from lightkube.types import PatchType

from kubetrade_testing.cluster import Cluster, wait_until
from kubetrade_testing.factories import RESOURCES, get, in_phase

ARGOCD = os.environ.get("KUBETRADE_ARGOCD_NAMESPACE", "")
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not ARGOCD, reason="Argo CD suite: run by `make argocd-e2e`"),
]
Application = create_namespaced_resource("argoproj.io", "v1alpha1", "Application", "applications")
WORKLOADS = "trading"
# The operator, the Job controller and Argo CD's refresh, each a few seconds, on a
# small machine shared with other work.
TIMEOUT = 300.0


def app_status(client: Client, app: str) -> dict[str, Any]:
    """An Application's status as Argo CD last wrote it."""
    obj: dict[str, Any] = client.get(Application, app, namespace=ARGOCD).to_dict()  # type: ignore[no-untyped-call]
    return dict(obj.get("status") or {})


def resource_health(
    client: Client, app: str, kind: str, name: str, namespace: str
) -> dict[str, Any] | None:
    """The health Argo CD reports for one resource of `app`, or None if not listed."""
    for res in app_status(client, app).get("resources") or []:
        if (res.get("kind"), res.get("name"), res.get("namespace", "")) == (kind, name, namespace):
            return dict(res.get("health") or {})
    return None


# The Lua checks' message before the operator's first status: Progressing, but not
# yet for the operator's reason.
UNRECONCILED = "Waiting for the kubetrade operator"


def await_health(
    client: Client, app: str, kind: str, name: str, namespace: str, expected: str
) -> dict[str, Any]:
    """Wait until Argo CD reports `expected` for the resource, judged on a status
    the operator wrote; its health entry."""

    def reported() -> dict[str, Any] | None:
        health = resource_health(client, app, kind, name, namespace)
        if not health or health.get("status") != expected:
            return None
        return None if str(health.get("message", "")).startswith(UNRECONCILED) else health

    return wait_until(
        reported,
        timeout=TIMEOUT,
        interval=2,
        what=f"Argo CD to report {kind} {namespace}/{name} {expected} "
        f"(last: {resource_health(client, app, kind, name, namespace)})",
    )


def await_phase_and_health(
    client: Client, kind: str, name: str, phase: str, health: str
) -> dict[str, Any]:
    """Wait for the operator to put a health fixture in `phase`, then for Argo CD to
    report `health` for it; its health entry."""
    wait_until(
        lambda: in_phase(client, kind, name, WORKLOADS, phase),
        timeout=TIMEOUT,
        interval=2,
        what=f"the operator to mark {kind} {name} {phase}",
    )
    return await_health(client, "kubetrade-health", kind, name, WORKLOADS, health)


def reconciled(client: Client, kind: str, name: str, namespace: str) -> dict[str, Any] | None:
    """The resource once the operator has reported on it; None before (for wait_until)."""
    obj = get(client, kind, name, namespace)
    return obj if (obj.get("status") or {}).get("observedGeneration") else None


def test_chart_is_synced_and_its_operator_healthy(
    control_plane: Cluster, lightkube_client: Client
) -> None:
    health = await_health(
        lightkube_client, "kubetrade", "Deployment", "kubetrade", "kubetrade-system", "Healthy"
    )
    assert health["status"] == "Healthy"
    # The Application turns Healthy once its CRDs are Established too, which can
    # come a moment after the Deployment (a run read Progressing "Caused by ... CRD").
    status = wait_until(
        lambda: (
            st
            if ((st := app_status(lightkube_client, "kubetrade")).get("health") or {}).get("status")
            == "Healthy"
            else None
        ),
        timeout=TIMEOUT,
        interval=2,
        what="the chart's Application to turn Healthy",
    )
    assert status["sync"]["status"] == "Synced", status["sync"]
    # The chart's CRDs came with it (crds/, which Argo CD renders with --include-crds).
    crds = {
        r["name"]
        for r in status.get("resources") or []
        if r.get("kind") == "CustomResourceDefinition"
    }
    assert {f"{k.lower()}s.kubetrade.io" for k in RESOURCES} <= crds, crds


def test_dataset_waiting_for_its_pod_is_progressing(
    control_plane: Cluster, lightkube_client: Client
) -> None:
    # The operator has seen it: Argo CD judges its phase, not the wait for a first look.
    dataset = wait_until(
        lambda: reconciled(lightkube_client, "Dataset", "synthetic-daily", WORKLOADS),
        timeout=TIMEOUT,
        interval=2,
        what="the operator to reconcile Dataset synthetic-daily",
    )
    assert dataset["status"]["phase"] in ("Pending", "Running"), dataset["status"]
    health = await_health(
        lightkube_client,
        "kubetrade-examples",
        "Dataset",
        "synthetic-daily",
        WORKLOADS,
        "Progressing",
    )
    assert health["status"] == "Progressing"


def test_dataset_past_its_deadline_is_degraded(
    control_plane: Cluster, lightkube_client: Client
) -> None:
    health = await_phase_and_health(lightkube_client, "Dataset", "doomed", "Failed", "Degraded")
    assert health["status"] == "Degraded"
    # One Degraded resource makes its Application Degraded.
    wait_until(
        lambda: app_status(lightkube_client, "kubetrade-health")["health"]["status"] == "Degraded",
        timeout=TIMEOUT,
        interval=2,
        what="Application kubetrade-health to be Degraded",
    )


def test_model_ready_is_healthy(control_plane: Cluster, lightkube_client: Client) -> None:
    # The operator has seen it: waiting for a Dataset that does not exist.
    model = wait_until(
        lambda: reconciled(lightkube_client, "Model", "evaluated-elsewhere", WORKLOADS),
        timeout=TIMEOUT,
        interval=2,
        what="the operator to reconcile Model evaluated-elsewhere",
    )
    assert model["status"]["phase"] == "Pending", model["status"]
    await_health(
        lightkube_client,
        "kubetrade-health",
        "Model",
        "evaluated-elsewhere",
        WORKLOADS,
        "Progressing",
    )
    # THE STATUS PATCH: evaluated elsewhere. With an evaluation Job named and no
    # Dataset to follow, the operator leaves this status as it is.
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    ready = {
        "type": "Ready",
        "status": "True",
        "reason": "EvaluatedElsewhere",
        "message": "status patched by tests/e2e/test_argocd.py",
        "lastTransitionTime": now,
    }
    evaluated = {
        "phase": "Ready",
        "jobName": "evaluated-elsewhere-evaluate-0",
        "observedGeneration": model["metadata"]["generation"],
        "conditions": [ready],
    }
    lightkube_client.patch(
        RESOURCES["Model"].Status,
        "evaluated-elsewhere",
        {"status": evaluated},
        namespace=WORKLOADS,
        patch_type=PatchType.MERGE,
    )
    health = await_health(
        lightkube_client, "kubetrade-health", "Model", "evaluated-elsewhere", WORKLOADS, "Healthy"
    )
    assert health["status"] == "Healthy"


def test_suspended_session_is_suspended(control_plane: Cluster, lightkube_client: Client) -> None:
    health = await_phase_and_health(
        lightkube_client, "TradingSession", "parked", "Suspended", "Suspended"
    )
    assert health["status"] == "Suspended"
