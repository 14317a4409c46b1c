"""A spec edit starts a new study: the last revision's `status.search` and
`status.progress` (written by its pods) are cleared with the new Job, not left to
stand or mix with the new one's."""

from __future__ import annotations

from typing import Any

import pytest
from kopf.testing import KopfRunner
from lightkube import Client
from lightkube.types import PatchType

from kubetrade_testing.cluster import wait_until
from kubetrade_testing.factories import RESOURCES, create, dataset, status, training_run

pytestmark = pytest.mark.integration

SPACE = [{"name": "learningRate", "low": 1e-5, "high": 1e-2, "log": True}]


def _patch(client: Client, kind: str, name: str, namespace: str, body: dict[str, Any]) -> None:
    resource = RESOURCES[kind] if "spec" in body else RESOURCES[kind].Status
    client.patch(resource, name, body, namespace=namespace, patch_type=PatchType.MERGE)


def test_a_spec_edit_clears_the_last_revisions_search_status(
    operator: KopfRunner, lightkube_client: Client, namespace: str
) -> None:
    c = lightkube_client
    create(c, dataset("prices"), namespace)
    # Play the data pod (no node runs pods here); a generation ahead keeps the
    # operator off this status.
    built = {"phase": "Succeeded", "manifestUri": "file:///data/m.json", "observedGeneration": 99}
    _patch(c, "Dataset", "prices", namespace, {"status": built})
    search = {"space": SPACE, "maxTrials": 4, "parallelism": 2}
    create(c, training_run("sweep", "prices", search=search), namespace)
    first = wait_until(
        lambda: status(c, "TrainingRun", "sweep", namespace).get("jobName"), what="the first Job"
    )
    # What the first revision's workers report.
    found = {"trials": 4, "completed": 3, "bestValue": 1.5, "bestParams": {"learningRate": 1e-3}}
    progress = {"steps": 3, "totalSteps": 4, "percent": 75.0}
    _patch(
        c, "TrainingRun", "sweep", namespace, {"status": {"search": found, "progress": progress}}
    )
    wait_until(lambda: status(c, "TrainingRun", "sweep", namespace).get("search"), what="a report")

    _patch(c, "TrainingRun", "sweep", namespace, {"spec": {"search": {"maxTrials": 6}}})
    now = wait_until(
        lambda: (s := status(c, "TrainingRun", "sweep", namespace)).get("jobName") != first and s,
        what="the new revision's Job",
    )
    assert "search" not in now and "progress" not in now, now
    # The new workers' first report is theirs alone.
    ours = {"trials": 1, "running": 1}
    _patch(c, "TrainingRun", "sweep", namespace, {"status": {"search": ours}})
    shown = wait_until(
        lambda: status(c, "TrainingRun", "sweep", namespace).get("search"), what="a new report"
    )
    assert shown == ours
