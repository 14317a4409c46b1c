"""The CNN-LSTM forecaster trained data-parallel across two pods on the local node:
a TrainingRun with `spec.distributed` becomes a headless Service and an Indexed Job
of torchrun pods; one pod is deleted mid-training, the Job replaces it, the group
meets again and resumes from the latest checkpoint, and the run publishes one Model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kopf.testing import KopfRunner
from lightkube import Client
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import Pod, Service

from kubetrade_dev.local_node import LocalNode
from kubetrade_testing.cluster import wait_until
from kubetrade_testing.factories import create, dataset, get, in_phase, training_run

pytestmark = pytest.mark.e2e

EPOCHS = 30


def test_two_pods_train_the_forecaster_and_survive_losing_one(
    operator: KopfRunner, local_node: LocalNode, lightkube_client: Client, namespace: str
) -> None:
    c = lightkube_client
    create(c, dataset("prices", source={"start": "2019-01-01", "end": "2022-06-01"}), namespace)
    run = training_run(
        "forecast",
        "prices",
        algorithm="CNN_LSTM",
        distributed={"replicas": 2},
        environment={"window": 10},
        cnnLstm={"epochs": EPOCHS, "patience": EPOCHS, "hiddenSize": 16, "layers": 1},
        job={"backoffLimit": 4},
        evaluation={"gates": {"minSharpe": -10.0}},
    )
    create(c, run, namespace)

    job = wait_until(lambda: _job_of(c, namespace), timeout=120, what="the training Job")
    assert job.spec.completions == 2 and job.spec.completionMode == "Indexed"
    assert (
        c.get(Service, job.spec.template.spec.subdomain, namespace=namespace).spec.clusterIP
        == "None"
    )

    # Once a few epochs are checkpointed, lose one of the two pods.
    volume = Path(local_node.workdir) / "volumes" / namespace / "kubetrade-artifacts"
    wait_until(lambda: _epochs_saved(volume) >= 3, timeout=240, what="three checkpoints")
    victim = next(
        p for p in c.list(Pod, namespace=namespace, labels={"job-name": job.metadata.name})
    )
    saved_before = _epochs_saved(volume)
    c.delete(Pod, victim.metadata.name, namespace=namespace)

    done = wait_until(
        lambda: in_phase(c, "TrainingRun", "forecast", namespace, "Succeeded", "Failed"),
        timeout=300,
        what="the distributed run",
    )
    assert done["status"]["phase"] == "Succeeded", done["status"]
    assert done["status"]["metrics"]["trainingPods"] == 2
    assert done["status"]["metrics"]["epochs"] == EPOCHS
    card = json.loads(next(volume.rglob("model_card.json")).read_text())
    assert card["steps"] == EPOCHS and card["files"] == {"forecaster": "forecaster.pt"}
    # The group resumed: it did not start again from epoch 0 after the loss.
    assert saved_before < EPOCHS
    assert _first_epoch_after_restart(local_node, namespace) > 0
    model = wait_until(
        lambda: in_phase(c, "Model", "forecast", namespace, "Ready", "Rejected", "Failed"),
        timeout=180,
        what="evaluation",
    )
    assert model["status"]["phase"] == "Ready", model["status"]
    assert get(c, "TrainingRun", "forecast", namespace)["status"]["restarts"] >= 1


def _job_of(c: Client, namespace: str) -> Job | None:
    jobs = list(c.list(Job, namespace=namespace, labels={"kubetrade.io/trainingrun": "forecast"}))
    return jobs[0] if jobs else None


def _epochs_saved(volume: Path) -> int:
    folders = list(volume.rglob("checkpoints/forecaster/step-*"))
    return max((int(f.name.split("-")[1]) for f in folders), default=0)


def _first_epoch_after_restart(local_node: LocalNode, namespace: str) -> int:
    """The epoch the replaced pod's rank resumed at, from its log."""
    logs = Path(local_node.workdir) / "logs"
    resumed = [
        int(line.rsplit("epoch ", 1)[1].split()[0])
        for log in logs.glob(f"{namespace}_*train*.log")
        for line in log.read_text(errors="replace").splitlines()
        if "resuming the forecaster at epoch" in line
    ]
    return max(resumed, default=0)
