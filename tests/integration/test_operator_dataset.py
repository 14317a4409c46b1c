"""The operator against a real API server: Dataset → ConfigMap + Job, status follows."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
from kopf.testing import KopfRunner
from lightkube import Client
from lightkube.core.exceptions import ApiError
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import ConfigMap, Event
from lightkube.types import PatchType

from kubetrade_testing.cluster import wait_until
from kubetrade_testing.factories import (
    RESOURCES,
    condition,
    create,
    dataset,
    get,
    model,
    status,
    trading_session,
    training_run,
)
from kubetrade_testing.net import free_port
from kubetrade_testing.operator import running_operator

pytestmark = pytest.mark.integration


def _jobs(client: Client, namespace: str) -> list[Job]:
    return list(client.list(Job, namespace=namespace))


def test_dataset_becomes_configmap_and_job_with_owner_and_initial_status(
    operator: KopfRunner, lightkube_client: Client, namespace: str
) -> None:
    create(
        lightkube_client,
        dataset("prices", job={"backoffLimit": 4, "activeDeadlineSeconds": 120}),
        namespace,
    )

    job = wait_until(
        lambda: next(iter(_jobs(lightkube_client, namespace)), None), what="the Dataset's Job"
    )
    assert job.metadata is not None and job.spec is not None
    owner = job.metadata.ownerReferences[0]
    assert (owner.kind, owner.name, owner.controller) == ("Dataset", "prices", True)
    assert job.metadata.name.startswith("prices-data-")
    assert job.metadata.labels["kubetrade.io/dataset"] == "prices"
    assert job.spec.backoffLimit == 4 and job.spec.activeDeadlineSeconds == 120
    container = job.spec.template.spec.containers[0]
    assert container.command[:4] == ["python", "-m", "kubetrade_workloads", "data"]

    cm = lightkube_client.get(ConfigMap, job.metadata.name, namespace=namespace)
    config = json.loads(cm.data["config.json"])
    assert config["owner"]["name"] == "prices"
    assert config["data"]["source"]["symbols"] == ["AAA", "BBB"]

    reported = wait_until(
        lambda: (
            (s := status(lightkube_client, "Dataset", "prices", namespace)).get("conditions") and s
        ),
        what="conditions on the Dataset",
    )
    assert reported["observedGeneration"] == 1
    assert reported["jobName"] == job.metadata.name
    assert {c["type"] for c in reported["conditions"]} >= {"Succeeded", "Failed", "Suspended"}
    succeeded = condition(get(lightkube_client, "Dataset", "prices", namespace), "Succeeded")
    assert succeeded is not None and succeeded["status"] == "Unknown"


def test_suspend_pauses_the_same_job_and_resume_continues_it(
    operator: KopfRunner, lightkube_client: Client, namespace: str
) -> None:
    create(lightkube_client, dataset("pausable"), namespace)
    job = wait_until(lambda: next(iter(_jobs(lightkube_client, namespace)), None), what="the Job")
    assert job.metadata is not None
    res = RESOURCES["Dataset"]
    lightkube_client.patch(
        res,
        "pausable",
        {"spec": {"suspend": True}},
        namespace=namespace,
        patch_type=PatchType.MERGE,
    )

    def suspended() -> bool:
        j = lightkube_client.get(Job, job.metadata.name, namespace=namespace)  # type: ignore[union-attr]
        phase = status(lightkube_client, "Dataset", "pausable", namespace).get("phase")
        return bool(j.spec and j.spec.suspend) and phase == "Suspended"

    wait_until(suspended, what="the Job suspended and the Dataset Suspended")
    assert [j.metadata.name for j in _jobs(lightkube_client, namespace) if j.metadata] == [
        job.metadata.name
    ]
    cond = condition(get(lightkube_client, "Dataset", "pausable", namespace), "Suspended")
    assert cond is not None and cond["status"] == "True"

    # Every phase change is a Kubernetes Event on the Dataset.
    def phase_events() -> dict[str, tuple[str, str]] | None:
        found = {
            e.reason or "": (e.type or "", e.message or "")
            for e in lightkube_client.list(Event, namespace=namespace)
            if e.involvedObject.kind == "Dataset" and e.involvedObject.name == "pausable"
        }
        return found if "Suspended" in found else None

    events = wait_until(phase_events, what="phase Events on the Dataset")
    assert events["Pending"] == (
        "Normal",
        "new -> Pending: waiting for the workload's pod to start",
    )
    assert events["Suspended"][0] == "Normal"
    assert events["Suspended"][1].startswith("Pending -> Suspended")


def test_spec_change_replaces_the_job_and_delete_collects_it(
    operator: KopfRunner, lightkube_client: Client, namespace: str
) -> None:
    create(lightkube_client, dataset("evolving"), namespace)
    first = wait_until(
        lambda: next(iter(_jobs(lightkube_client, namespace)), None), what="the first Job"
    )
    assert first.metadata is not None
    res = RESOURCES["Dataset"]
    lightkube_client.patch(
        res,
        "evolving",
        {"spec": {"source": {"seed": 99}}},
        namespace=namespace,
        patch_type=PatchType.MERGE,
    )

    def replaced() -> list[str] | None:
        names = [
            j.metadata.name
            for j in _jobs(lightkube_client, namespace)
            if j.metadata and not j.metadata.deletionTimestamp
        ]
        return names if names and first.metadata.name not in names else None  # type: ignore[union-attr]

    names = wait_until(replaced, what="the new revision's Job to replace the first")
    assert len(names) == 1
    reported = wait_until(
        lambda: (
            (s := status(lightkube_client, "Dataset", "evolving", namespace)).get(
                "observedGeneration"
            )
            == 2
            and s
        ),
        what="observedGeneration 2",
    )
    assert reported["jobName"] == names[0]

    lightkube_client.delete(res, "evolving", namespace=namespace)
    # The garbage collector deletes each dependent as its own work item, in no set
    # order: the Job gone says nothing of the ConfigMap (asserting it gone right
    # after failed under a full run's load).
    wait_until(lambda: not _jobs(lightkube_client, namespace), what="garbage collection of the Job")
    wait_until(
        lambda: _gone(lightkube_client, ConfigMap, names[0], namespace),
        what="garbage collection of the ConfigMap",
    )


def _gone(client: Client, kind: type[ConfigMap], name: str, namespace: str) -> bool:
    try:
        client.get(kind, name, namespace=namespace)
    except ApiError as err:
        assert err.status.code == 404, err
        return True
    return False


def test_restarting_the_operator_mid_reconcile_never_duplicates_a_job(
    kubeconfig: Path, crds: None, lightkube_client: Client, namespace: str
) -> None:
    count = 50
    for i in range(count):
        create(lightkube_client, dataset(f"ds-{i:02d}"), namespace)
    with running_operator(kubeconfig):
        # Stop while the work is half done: some Jobs exist, some do not yet.
        wait_until(
            lambda: len(_jobs(lightkube_client, namespace)) >= 5,
            timeout=60,
            interval=0.05,
            what="a few Jobs",
        )
    made_before_restart = len(_jobs(lightkube_client, namespace))
    with running_operator(kubeconfig):
        wait_until(
            lambda: len(_jobs(lightkube_client, namespace)) >= count, timeout=120, what="all Jobs"
        )

        def all_recorded() -> bool:
            return all(
                status(lightkube_client, "Dataset", f"ds-{i:02d}", namespace).get("jobName")
                for i in range(count)
            )

        wait_until(all_recorded, timeout=120, what="every Dataset's status to name its Job")
    jobs = _jobs(lightkube_client, namespace)
    owners = [
        j.metadata.ownerReferences[0].name
        for j in jobs
        if j.metadata and j.metadata.ownerReferences
    ]
    assert made_before_restart <= count
    assert len(jobs) == count
    assert sorted(owners) == [f"ds-{i:02d}" for i in range(count)]


def test_other_kinds_get_conditions_and_observed_generation(
    operator: KopfRunner, lightkube_client: Client, namespace: str
) -> None:
    create(lightkube_client, training_run("run", dataset_name="missing"), namespace)
    create(lightkube_client, model("mdl"), namespace)
    create(lightkube_client, trading_session("paper"), namespace)
    for kind, name, types in (
        ("TrainingRun", "run", {"Succeeded", "Failed", "Suspended"}),
        ("Model", "mdl", {"Ready", "Evaluated", "Failed", "Suspended"}),
        ("TradingSession", "paper", {"Ready", "RiskBreached", "Reconciled", "Suspended"}),
    ):
        reported = wait_until(
            lambda k=kind, n=name: (
                (s := status(lightkube_client, k, n, namespace)).get("conditions") and s
            ),
            what=f"{kind} conditions",
        )
        assert reported["observedGeneration"] == 1
        assert {c["type"] for c in reported["conditions"]} == types
        assert reported["phase"] == "Pending"
    run = condition(get(lightkube_client, "TrainingRun", "run", namespace), "Succeeded")
    assert run is not None and (run["status"], run["reason"]) == ("Unknown", "DatasetNotFound")
    ready = condition(get(lightkube_client, "Model", "mdl", namespace), "Ready")
    assert ready is not None and (ready["status"], ready["reason"]) == (
        "Unknown",
        "DatasetNotFound",
    )


def test_metrics_endpoint_counts_reconciles(
    kubeconfig: Path, crds: None, lightkube_client: Client, namespace: str
) -> None:
    port = free_port()
    with running_operator(kubeconfig, {"KUBETRADE_METRICS_PORT": str(port)}):
        create(lightkube_client, dataset("counted"), namespace)
        wait_until(lambda: _jobs(lightkube_client, namespace), what="the Job")

        def scraped() -> str | None:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:  # noqa: S310
                text: str = resp.read().decode()
            return text if 'kubetrade_reconcile_total{kind="Dataset",result="ok"}' in text else None

        text = wait_until(scraped, what="reconcile counts on /metrics")
    assert "kubetrade_reconcile_duration_seconds_bucket" in text
    assert 'kubetrade_children_created_total{child="Job",kind="Dataset"}' in text
