"""The operator never crashes on a malformed object."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from kopf.testing import KopfRunner
from lightkube import Client

from kubetrade_testing.cluster import wait_until
from kubetrade_testing.crds import install_crds, load_crds
from kubetrade_testing.factories import condition, create, dataset, get

pytestmark = pytest.mark.integration


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
