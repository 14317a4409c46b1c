"""Workload pods and an s3:// artifact root: the endpoint, region and the keys (by Secret
reference) in their env, and no artifact volume."""

import json
from typing import Any

import pytest

from kubetrade_operator.api import DatasetSpec
from kubetrade_operator.builders.common import Owner
from kubetrade_operator.builders.dataset import build_dataset_children
from kubetrade_operator.settings import OperatorSettings

OWNER = Owner("Dataset", "prices", "research", "uid-1", 1)
S3 = OperatorSettings(
    artifact_root="s3://kubetrade/artifacts",
    artifact_s3_endpoint="http://s3.kubetrade-system:7070",
    artifact_s3_region="eu-west-1",
    artifact_s3_secret="kubetrade-s3",
)


def _pod(settings: OperatorSettings, spec: dict[str, Any] | None = None) -> dict[str, Any]:
    cm, job = build_dataset_children(OWNER, DatasetSpec.model_validate(spec or {}), settings)
    pod: dict[str, Any] = job["spec"]["template"]["spec"]
    pod["config"] = json.loads(cm["data"]["config.json"])
    return pod


def _env(pod: dict[str, Any]) -> dict[str, Any]:
    container = pod["containers"][0]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def test_s3_pods_get_the_endpoint_region_and_keys_by_reference() -> None:
    pod = _pod(S3)
    env = _env(pod)
    assert env["AWS_ACCESS_KEY_ID"] == {
        "secretKeyRef": {"name": "kubetrade-s3", "key": "AWS_ACCESS_KEY_ID"}
    }
    assert env["AWS_SECRET_ACCESS_KEY"] == {
        "secretKeyRef": {"name": "kubetrade-s3", "key": "AWS_SECRET_ACCESS_KEY"}
    }
    assert env["AWS_ENDPOINT_URL"] == "http://s3.kubetrade-system:7070"
    assert env["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert pod["config"]["outputUri"].startswith("s3://kubetrade/artifacts/research/")
    # Nothing to mount: the PVC is for file:// roots.
    assert [v["name"] for v in pod["volumes"]] == ["config"]
    assert [m["name"] for m in pod["containers"][0]["volumeMounts"]] == ["config"]


def test_the_secrets_key_names_are_settings() -> None:
    settings = S3.model_copy(
        update={"artifact_s3_access_key_key": "id", "artifact_s3_secret_key_key": "secret"}
    )
    env = _env(_pod(settings))
    assert env["AWS_ACCESS_KEY_ID"]["secretKeyRef"]["key"] == "id"
    assert env["AWS_SECRET_ACCESS_KEY"]["secretKeyRef"]["key"] == "secret"


def test_without_s3_settings_pods_get_no_aws_variables_and_keep_the_volume() -> None:
    pod = _pod(OperatorSettings())
    assert not [name for name in _env(pod) if name.startswith("AWS_")]
    assert "artifacts" in [v["name"] for v in pod["volumes"]]


def test_an_endpoint_alone_leaves_the_pods_own_credentials() -> None:
    env = _env(_pod(OperatorSettings(artifact_s3_endpoint="http://minio:9000")))
    assert env["AWS_ENDPOINT_URL"] == "http://minio:9000"
    assert "AWS_ACCESS_KEY_ID" not in env and "AWS_DEFAULT_REGION" not in env


def test_a_templates_own_env_comes_after_and_wins() -> None:
    pod = _pod(S3, {"template": {"env": {"AWS_DEFAULT_REGION": "us-east-1"}}})
    region = [e for e in pod["containers"][0]["env"] if e["name"] == "AWS_DEFAULT_REGION"]
    # Kubernetes takes the last of a name given twice.
    assert [e["value"] for e in region] == ["eu-west-1", "us-east-1"]


def test_the_settings_come_from_the_operators_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBETRADE_ARTIFACT_S3_ENDPOINT", "http://s3:7070")
    monkeypatch.setenv("KUBETRADE_ARTIFACT_S3_SECRET", "kubetrade-s3")
    monkeypatch.setenv("KUBETRADE_ARTIFACT_S3_REGION", "us-east-1")
    settings = OperatorSettings()
    assert settings.artifact_s3_endpoint == "http://s3:7070"
    assert settings.artifact_s3_secret == "kubetrade-s3"
    assert settings.artifact_s3_region == "us-east-1"
