"""Model versions against a real API server: a session follows a newer Ready version,
`trading-cli models rollback` pins the one before, neither rolls the trader's
Deployment, and each move is a history row and an Event. Bad pins and policies are
refused by the API server, naming the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from kopf.testing import KopfRunner
from lightkube import ApiError, Client
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import Event
from lightkube.types import PatchType
from typer.testing import CliRunner

from kubetrade_operator.cli.main import app
from kubetrade_testing.cluster import wait_until
from kubetrade_testing.factories import (
    RESOURCES,
    create,
    model,
    status,
    trading_session,
    training_run,
)

pytestmark = pytest.mark.integration


def _versions(*phases: str) -> dict[str, Any]:
    versions = [
        {
            "version": i + 1,
            "artifactUri": f"file:///m/v{i + 1}",
            "phase": p,
            "createdAt": "2026-01-01T00:00:00Z",
        }
        for i, p in enumerate(phases)
    ]
    ready = [v["version"] for v in versions if v["phase"] == "Ready"]
    return {
        "phase": "Ready",
        "jobName": "m-evaluate-0",
        "observedGeneration": 1,
        "versions": versions,
        "latestVersion": len(versions),
        "readyVersion": ready[-1] if ready else None,
    }


def _evaluated(client: Client, namespace: str, *phases: str) -> None:
    """Write the Model's verdicts as its evaluation Jobs would have (the operator's own
    first write, Pending for want of a Dataset, may land after ours: retry until it sticks)."""

    def written() -> bool:
        client.patch(
            RESOURCES["Model"].Status,
            "m",
            {"status": _versions(*phases)},
            namespace=namespace,
            patch_type=PatchType.MERGE,
        )
        return len(status(client, "Model", "m", namespace).get("versions") or []) == len(phases)

    wait_until(written, what="the Model's versions to be written")


def _live(client: Client, namespace: str, version: int) -> dict[str, Any]:
    def on() -> dict[str, Any] | None:
        found = status(client, "TradingSession", "ts", namespace)
        return found if (found.get("model") or {}).get("version") == version else None

    return wait_until(on, what=f"the session to choose version {version}")


def _revision(client: Client, namespace: str) -> str:
    deployment = wait_until(
        lambda: next(iter(client.list(Deployment, namespace=namespace)), None),
        what="the trader Deployment",
    )
    return str(deployment.metadata.labels["kubetrade.io/revision"])


def _cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_a_session_follows_a_new_version_and_rolls_back_by_one_field_without_a_restart(
    operator: KopfRunner, lightkube_client: Client, namespace: str, kubeconfig_env: Path
) -> None:
    create(lightkube_client, model("m"), namespace)
    _evaluated(lightkube_client, namespace, "Ready")
    create(lightkube_client, trading_session("ts", "m"), namespace)
    first = _live(lightkube_client, namespace, 1)
    assert first["model"]["artifactUri"] == "file:///m/v1"
    assert first["modelHistory"][-1]["reason"] == "Initial"
    revision = _revision(lightkube_client, namespace)

    _evaluated(lightkube_client, namespace, "Ready", "Rejected", "Ready")
    followed = _live(lightkube_client, namespace, 3)
    assert followed["previousModel"]["version"] == 1
    assert followed["modelHistory"][-1]["reason"] == "Followed"
    assert _revision(lightkube_client, namespace) == revision  # no new trader

    assert "pinned to version 1" in _cli("models", "rollback", "ts", "-n", namespace)
    back = _live(lightkube_client, namespace, 1)
    assert back["modelHistory"][-1]["reason"] == "Pinned"
    assert back["modelHistory"][-1]["fromVersion"] == 3
    assert _revision(lightkube_client, namespace) == revision

    shown = _cli("models", "show", "m", "-n", namespace, "-o", "json")
    assert '"live": "ts"' in shown and '"version": 3' in shown
    listed = _cli("models", "list", "-n", namespace)
    assert "ts@1" in listed

    def announced() -> set[str] | None:
        reasons = {
            e.reason or ""
            for e in lightkube_client.list(Event, namespace=namespace)
            if e.involvedObject.name == "ts"
        }
        return reasons if {"Initial", "Followed", "Pinned"} <= reasons else None

    wait_until(announced, what="an Event for each move")


def test_a_pin_to_a_version_that_failed_its_gates_keeps_the_live_one(
    operator: KopfRunner, lightkube_client: Client, namespace: str
) -> None:
    create(lightkube_client, model("m"), namespace)
    _evaluated(lightkube_client, namespace, "Ready", "Rejected")
    create(lightkube_client, trading_session("ts", "m"), namespace)
    _live(lightkube_client, namespace, 1)
    lightkube_client.patch(
        RESOURCES["TradingSession"],
        "ts",
        {"spec": {"modelRef": {"version": 2}}},
        namespace=namespace,
        patch_type=PatchType.MERGE,
    )

    def refused() -> dict[str, Any] | None:
        conds = status(lightkube_client, "TradingSession", "ts", namespace).get("conditions") or []
        cond = next((c for c in conds if c["type"] == "ModelVersion"), None)
        return cond if cond and cond["reason"] == "VersionNotReady" else None

    cond = wait_until(refused, what="the bad pin to be refused")
    assert "version 2" in cond["message"] and "Rejected" in cond["message"]
    assert status(lightkube_client, "TradingSession", "ts", namespace)["model"]["version"] == 1


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"modelRef": {"name": "m", "version": 0}}, "spec.modelRef.version"),
        ({"modelRef": {"name": "m"}, "promotion": {"mode": "Sometimes"}}, "spec.promotion.mode"),
        ({"modelRef": {"name": "m"}, "promotion": {"maxPValue": 0}}, "spec.promotion.maxPValue"),
        (
            {"modelRef": {"name": "m"}, "promotion": {"minShadowBars": 1}},
            "spec.promotion.minShadowBars",
        ),
    ],
)
def test_the_api_server_refuses_a_bad_pin_or_policy_naming_the_field(
    lightkube_client: Client, namespace: str, crds: None, spec: dict[str, Any], field: str
) -> None:
    bad = {
        "apiVersion": "kubetrade.io/v1alpha1",
        "kind": "TradingSession",
        "metadata": {"name": "bad"},
        "spec": spec,
    }
    with pytest.raises(ApiError) as caught:
        create(lightkube_client, bad, namespace)
    assert caught.value.status.code == 422
    assert field in str(caught.value.status.message)


def test_retrain_requests_a_run_of_the_models_training_run(
    lightkube_client: Client, namespace: str, crds: None, kubeconfig_env: Path
) -> None:
    create(lightkube_client, training_run("tr", "ds"), namespace)
    create(lightkube_client, model("m", trainingRunRef={"name": "tr"}), namespace)
    create(lightkube_client, model("bare"), namespace)
    assert "run requested at" in _cli("models", "retrain", "m", "-n", namespace)
    annotations = lightkube_client.get(
        RESOURCES["TrainingRun"], "tr", namespace=namespace
    ).metadata.annotations
    assert annotations is not None and annotations["kubetrade.io/run-reason"] == "manual"
    assert annotations["kubetrade.io/run-requested-at"].endswith("Z")
    refused = CliRunner().invoke(app, ["models", "retrain", "bare", "-n", namespace])
    assert refused.exit_code == 1 and "names no TrainingRun" in refused.output
