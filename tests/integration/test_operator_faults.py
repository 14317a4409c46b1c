"""The operator never crashes on a malformed object, and tells why a workload's pod
does not run: the local node plays the kubelet and writes pod status as it does
(CreateContainerConfigError for a missing Secret, CrashLoopBackOff with the last
exit, Unschedulable for a GPU the node lacks)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kopf.testing import KopfRunner
from lightkube import Client
from lightkube.types import PatchType

from kubetrade_dev.local_node import LocalNode
from kubetrade_testing.cluster import wait_until
from kubetrade_testing.crds import install_crds, load_crds
from kubetrade_testing.factories import (
    RESOURCES,
    condition,
    create,
    dataset,
    get,
    model,
    status,
    trading_session,
)
from kubetrade_testing.local_node import local_node
from kubetrade_testing.operator import running_operator

pytestmark = pytest.mark.integration
__all__ = ["local_node"]  # the fixture, imported to be used here


def _strip_rules(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip_rules(v) for k, v in node.items() if k != "x-kubernetes-validations"}
    if isinstance(node, list):
        return [_strip_rules(v) for v in node]
    return node


@pytest.fixture
def lax_dataset_crd(lightkube_client: Client, crds: list[str]) -> Iterator[None]:
    """The Dataset CRD without its CEL rules, as an older install might have it."""
    manifests = load_crds()
    lax = [
        _strip_rules(copy.deepcopy(m)) if m["spec"]["names"]["kind"] == "Dataset" else m
        for m in manifests
    ]
    install_crds(lightkube_client, lax)
    try:
        yield
    finally:
        install_crds(lightkube_client, manifests)


def test_a_spec_the_model_rejects_ends_failed_and_the_operator_keeps_going(
    lax_dataset_crd: None, operator: KopfRunner, lightkube_client: Client, namespace: str
) -> None:
    create(
        lightkube_client,
        dataset("bad", splits={"train": 0.9, "validation": 0.2, "test": 0.1}),
        namespace,
    )
    create(lightkube_client, dataset("good"), namespace)

    def failed() -> dict[str, Any] | None:
        cond = condition(get(lightkube_client, "Dataset", "bad", namespace), "Failed")
        return cond if cond and cond["status"] == "True" else None

    cond = wait_until(failed, what="the invalid Dataset to be marked Failed")
    assert cond["reason"] == "InvalidSpec"
    assert "spec.splits" in cond["message"] and "sum to 1" in cond["message"]
    good = wait_until(
        lambda: (get(lightkube_client, "Dataset", "good", namespace).get("status") or {}).get(
            "jobName"
        ),
        what="the valid Dataset to get its Job",
    )
    assert good.startswith("good-data-")


def _reason(client: Client, kind: str, name: str, namespace: str, type_: str) -> dict[str, Any]:
    return condition(get(client, kind, name, namespace), type_) or {}


def test_a_job_says_which_secret_it_waits_for_and_which_node_it_lacks(
    operator: KopfRunner, local_node: LocalNode, lightkube_client: Client, namespace: str
) -> None:
    create(lightkube_client, dataset("keyless", credentialsSecretRef={"name": "absent"}), namespace)
    create(lightkube_client, dataset("greedy", template={"resources": {"gpu": 1}}), namespace)

    def waiting(name: str, reason: str) -> dict[str, Any] | None:
        cond = _reason(lightkube_client, "Dataset", name, namespace, "Succeeded")
        return cond if cond.get("reason") == reason else None

    secret = wait_until(
        lambda: waiting("keyless", "CreateContainerConfigError"), what="the missing Secret named"
    )
    assert secret["status"] == "Unknown" and "'absent'" in secret["message"]
    keyless = status(lightkube_client, "Dataset", "keyless", namespace)
    assert keyless["phase"] == "Pending" and keyless["message"] == secret["message"]
    assert keyless["restarts"] == 0
    gpu = wait_until(lambda: waiting("greedy", "Unschedulable"), what="the pod Unschedulable")
    assert "nvidia.com/gpu" in gpu["message"]


def test_a_trader_waiting_for_its_secret_or_crash_looping_is_never_ready(
    kubeconfig: Path, crds: None, local_node: LocalNode, lightkube_client: Client, namespace: str
) -> None:
    # A Model the operator takes as Ready: evaluated (a job recorded) on a Dataset
    # that has since gone, so nothing re-evaluates it. Made before the operator
    # starts, so no first reconcile races the status written here.
    create(lightkube_client, model("ppo", dataset_name="gone"), namespace)
    lightkube_client.patch(
        RESOURCES["Model"].Status,
        "ppo",
        {"status": {"phase": "Ready", "jobName": "ppo-eval-0", "observedGeneration": 1}},
        namespace=namespace,
        patch_type=PatchType.MERGE,
    )
    session = trading_session("paper", model_name="ppo", credentialsSecretRef={"name": "keys"})
    create(lightkube_client, session, namespace)
    seen: list[tuple[str, str, str]] = []

    def ready_reason(wanted: str) -> dict[str, Any] | None:
        now = status(lightkube_client, "TradingSession", "paper", namespace)
        ready = condition({"status": now}, "Ready") or {}
        seen.append((now.get("phase", ""), ready.get("status", ""), ready.get("reason", "")))
        return now if ready.get("reason") == wanted else None

    with running_operator(kubeconfig):
        waiting = wait_until(
            lambda: ready_reason("CreateContainerConfigError"), what="the missing Secret named"
        )
        assert waiting["phase"] == "Pending" and "'keys'" in waiting["message"]
        # The Secret is not coming: run without it, in a container that dies at once.
        lightkube_client.patch(
            RESOURCES["TradingSession"],
            "paper",
            {
                "spec": {
                    "credentialsSecretRef": None,
                    "template": {"env": {"PYTHONHOME": "/nonexistent"}},
                }
            },
            namespace=namespace,
            patch_type=PatchType.MERGE,
        )
        crashing = wait_until(
            lambda: (s := ready_reason("CrashLoopBackOff")) and s.get("restarts", 0) >= 2 and s,
            timeout=90,
            what="the crash loop named, with restarts",
        )
    assert crashing["phase"] == "Failed"
    assert "exit code 1" in crashing["message"] and "keeps failing" in crashing["message"]
    # Between two crashes the container runs for a moment: never Ready, never Running.
    assert not [s for s in seen if s[0] == "Running" or s[1] == "True"], seen
