"""The API server itself rejects bad specs, with a message naming the field, and
fills in the same defaults the pydantic models do.

Requests use fieldValidation=Strict, as kubectl does by default, so an unknown
field is an error rather than silently pruned.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from pydantic import ValidationError

from kubetrade_operator.api import DATASET, GROUP, KINDS, MODEL, TRADING_SESSION, VERSION
from kubetrade_operator.api.kinds import Kind
from kubetrade_testing.cluster import Cluster, kubectl
from kubetrade_testing.specs import INVALID, VALID, Case, Spec, manifest, minimal_spec, spec

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def custom_objects(kubeconfig: Path, crds: list[str]) -> Iterator[k8s.CustomObjectsApi]:
    """A CustomObjectsApi on the session's cluster, CRDs installed.

    The kubernetes client rather than lightkube: lightkube cannot ask for
    fieldValidation=Strict.
    """
    api = k8s_config.new_client_from_config(config_file=str(kubeconfig))  # type: ignore[no-untyped-call]
    try:
        yield k8s.CustomObjectsApi(api)
    finally:
        api.close()


def _create(api: k8s.CustomObjectsApi, kind: Kind, namespace: str, body: Spec) -> dict[str, Any]:
    created = api.create_namespaced_custom_object(
        GROUP,
        VERSION,
        namespace,
        kind.plural,
        manifest(kind, "subject", body),
        field_validation="Strict",
    )
    return cast(dict[str, Any], created)


def _wire(kind: Kind, body: Spec) -> Spec:
    return kind.spec.model_validate(body).model_dump(mode="json", by_alias=True, exclude_none=True)


def test_invalid_cases_are_many_and_distinct() -> None:
    assert len(INVALID) >= 24
    assert len({c.id for c in INVALID}) == len(INVALID)
    assert len({json.dumps([c.kind.kind, c.spec], sort_keys=True) for c in INVALID}) == len(INVALID)


@pytest.mark.parametrize("case", INVALID, ids=lambda c: c.id)
def test_api_server_rejects_invalid_spec(
    custom_objects: k8s.CustomObjectsApi, namespace: str, case: Case
) -> None:
    with pytest.raises(k8s.ApiException) as info:
        _create(custom_objects, case.kind, namespace, case.spec)
    error = info.value
    status = json.loads(error.body or "{}")
    assert error.status == case.status, status["message"]
    assert case.field in status["message"]
    if case.status == 422:
        # Clients that read causes (kubectl, Argo CD) see the field there too.
        assert case.field in [cause.get("field") for cause in status["details"]["causes"]]


# Holes the API server once let through: a scheme no workload can publish to (it
# failed only at publish), symbols a Dataset would refuse, and a 900 KB template.env.
HOLES = [
    Case(
        "storage-uri-ftp", DATASET, spec(DATASET, storageUri="ftp://host/bars"), "spec.storageUri"
    ),
    Case(
        "storage-uri-bare-path", DATASET, spec(DATASET, storageUri="/data/bars"), "spec.storageUri"
    ),
    Case(
        "artifact-uri-http", MODEL, spec(MODEL, artifactUri="http://host/ppo"), "spec.artifactUri"
    ),
    Case(
        "session-symbol-with-space",
        TRADING_SESSION,
        spec(TRADING_SESSION, symbols=["BTC USDT"]),
        "spec.symbols[0]",
    ),
    Case(
        "session-symbol-leading-dash",
        TRADING_SESSION,
        spec(TRADING_SESSION, symbols=["AAPL", "-X"]),
        "spec.symbols[1]",
    ),
    Case(
        "env-900-kb",
        DATASET,
        spec(DATASET, template={"env": {f"K{i}": "x" * 4096 for i in range(220)}}),
        "spec.template.env",
    ),
    Case(
        "env-65-entries",
        TRADING_SESSION,
        spec(TRADING_SESSION, template={"env": {f"K{i}": "v" for i in range(65)}}),
        "spec.template.env",
    ),
    Case(
        "env-value-too-long",
        MODEL,
        spec(MODEL, template={"env": {"K": "x" * 4097}}),
        "spec.template.env.K",
    ),
    Case(
        "env-name-invalid",
        DATASET,
        spec(DATASET, template={"env": {"1=BAD": "v"}}),
        "spec.template.env",
    ),
    Case(
        "node-selector-33-entries",
        MODEL,
        spec(MODEL, template={"nodeSelector": {f"k{i}": "v" for i in range(33)}}),
        "spec.template.nodeSelector",
    ),
    Case(
        "node-selector-key-900-kb",
        TRADING_SESSION,
        spec(TRADING_SESSION, template={"nodeSelector": {"k" * 900_000: "v"}}),
        "spec.template.nodeSelector",
    ),
]
ACCEPTED = [
    ("storage-uri-s3", DATASET, spec(DATASET, storageUri="s3://bucket/bars")),
    ("artifact-uri-file", MODEL, spec(MODEL, artifactUri="file:///var/lib/kubetrade/ppo")),
    ("session-symbols", TRADING_SESSION, spec(TRADING_SESSION, symbols=["BTC/USDT", "BRK.B"])),
    (
        "env-at-the-bounds",
        DATASET,
        spec(DATASET, template={"env": {f"K_{i}": "x" * 4096 for i in range(64)}}),
    ),
    (
        "node-selector-at-the-bounds",
        MODEL,
        spec(MODEL, template={"nodeSelector": {f"{i}.example.com/pool": "v" for i in range(32)}}),
    ),
]


@pytest.mark.parametrize("case", HOLES, ids=lambda c: c.id)
def test_pydantic_rejects_each_hole_too(case: Case) -> None:
    with pytest.raises(ValidationError) as info:
        case.kind.spec.model_validate(case.spec)
    # For the field the API server names, not for some other rule the case breaks too.
    fields = [
        "spec" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"])
        for error in info.value.errors()
    ]
    assert any(field.startswith(case.field) for field in fields), fields


@pytest.mark.parametrize("case", HOLES, ids=lambda c: c.id)
def test_api_server_closes_the_holes(
    custom_objects: k8s.CustomObjectsApi, namespace: str, case: Case
) -> None:
    with pytest.raises(k8s.ApiException) as info:
        _create(custom_objects, case.kind, namespace, case.spec)
    status = json.loads(info.value.body or "{}")
    assert info.value.status == 422, status["message"]
    assert case.field in status["message"]
    causes = [cause.get("field") for cause in status["details"]["causes"]]
    assert case.field in causes, causes


@pytest.mark.parametrize(
    ("kind", "body"), [(k, b) for _, k, b in ACCEPTED], ids=[i for i, _, _ in ACCEPTED]
)
def test_what_the_holes_leave_open_is_accepted(
    custom_objects: k8s.CustomObjectsApi, namespace: str, kind: Kind, body: Spec
) -> None:
    assert _create(custom_objects, kind, namespace, body)["spec"] == _wire(kind, body)


@pytest.mark.parametrize(
    ("kind", "body"), [(k, s) for _, k, s in VALID], ids=[i for i, _, _ in VALID]
)
def test_api_server_accepts_and_defaults_like_pydantic(
    custom_objects: k8s.CustomObjectsApi, namespace: str, kind: Kind, body: Spec
) -> None:
    created = _create(custom_objects, kind, namespace, body)
    assert created["spec"] == _wire(kind, body)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.kind)
def test_minimal_resource_gets_nested_defaults(
    custom_objects: k8s.CustomObjectsApi, namespace: str, kind: Kind
) -> None:
    spec = _create(custom_objects, kind, namespace, minimal_spec(kind))["spec"]
    assert spec["suspend"] is False
    assert spec["template"]["resources"]["gpu"] == 0
    if kind.kind == "TrainingRun":
        assert spec["algorithm"] == "PPO"
        assert spec["environment"]["costs"] == {
            "commissionBps": 1,
            "slippageBps": 2,
            "allowShort": False,
        }
    if kind.kind == "TradingSession":
        assert (spec["mode"], spec["broker"]["type"]) == ("paper", "sim")
        # Limits and breakers left unset come from the profile, at run time.
        assert spec["risk"]["profile"] == "moderate"
        assert "consecutiveLosses" not in spec["risk"]["breakers"]


def test_status_subresource_keeps_declared_fields_and_prunes_others(
    custom_objects: k8s.CustomObjectsApi, namespace: str
) -> None:
    kind = KINDS[0]
    _create(custom_objects, kind, namespace, minimal_spec(kind))
    condition = {
        "type": "Succeeded",
        "status": "Unknown",
        "reason": "JobPending",
        "lastTransitionTime": "2026-01-01T00:00:00Z",
        "observedGeneration": 1,
    }
    patch = {"status": {"phase": "Pending", "conditions": [condition], "undeclared": 1}}
    patched = cast(
        dict[str, Any],
        custom_objects.patch_namespaced_custom_object_status(
            GROUP, VERSION, namespace, kind.plural, "subject", patch
        ),
    )
    assert patched["status"]["phase"] == "Pending"
    assert patched["status"]["conditions"][0]["message"] == ""  # defaulted
    assert "undeclared" not in patched["status"]
    assert patched["metadata"]["generation"] == 1  # status writes leave generation alone


def test_kubectl_finds_kinds_by_category_and_short_name(
    control_plane: Cluster, custom_objects: k8s.CustomObjectsApi, namespace: str
) -> None:
    for kind in KINDS:
        body = manifest(kind, f"k-{kind.short_name}", minimal_spec(kind))
        custom_objects.create_namespaced_custom_object(GROUP, VERSION, namespace, kind.plural, body)
    listed = kubectl(control_plane, "get", "kubetrade", "-n", namespace, "-o", "name")
    assert sorted(listed.split()) == sorted(f"{k.singular}.{GROUP}/k-{k.short_name}" for k in KINDS)
    for kind in KINDS:
        # Qualified by group because a bare `ds` means DaemonSets to kubectl:
        # built-in short names win over a CRD's.
        table = kubectl(control_plane, "get", f"{kind.short_name}.{GROUP}", "-n", namespace)
        header = table.splitlines()[0].split()
        shown = [c.name.upper() for c in kind.columns if not c.priority]
        assert header == ["NAME", *shown, "AGE"]
        wide = kubectl(
            control_plane, "get", f"{kind.short_name}.{GROUP}", "-n", namespace, "-o", "wide"
        )
        assert wide.splitlines()[0].split() == [
            "NAME",
            *(c.name.upper() for c in kind.columns),
            "AGE",
        ]
