"""The chart's console: off by default; when on, its own ServiceAccount with only
the rights the console uses (no write of its own, no Secrets), a Deployment that
meets the restricted Pod Security Standard, and a Service."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import yaml

from kubetrade_console.settings import ConsoleSettings
from kubetrade_dev.controlplane import find_bin_dir

CHART = Path(__file__).resolve().parents[2] / "charts" / "kubetrade"


def helm_template(*sets: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(find_bin_dir() / "helm"),
            "template",
            "kt",
            str(CHART),
            "-n",
            "kt-system",
            "--kube-version",
            "1.36.3",
            *[f"--set={s}" for s in sets],
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def render(*sets: str) -> list[dict[str, Any]]:
    done = helm_template(*sets)
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def console_objects(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        d["kind"]: d
        for d in docs
        if d["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "console"
    }


def test_the_console_is_off_by_default() -> None:
    assert console_objects(render()) == {}


def test_the_console_has_least_privilege_and_runs_restricted() -> None:
    objs = console_objects(render("console.enabled=true", "console.storeUrlSecret.name=store"))
    assert set(objs) == {
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Deployment",
        "Service",
    }
    rules = {
        (g, r, v)
        for rule in objs["ClusterRole"]["rules"]
        for g in rule["apiGroups"]
        for r in rule["resources"]
        for v in rule["verbs"]
    }
    assert ("authentication.k8s.io", "tokenreviews", "create") in rules
    assert ("authorization.k8s.io", "subjectaccessreviews", "create") in rules
    assert ("", "users", "impersonate") in rules and ("", "groups", "impersonate") in rules
    assert not {r for r in rules if r[1] == "secrets"}, "the console never reads a Secret"
    assert not {
        r
        for r in rules
        if r[2] in ("create", "update", "patch", "delete") and r[0] == "kubetrade.io"
    }
    pod = objs["Deployment"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == objs["ServiceAccount"]["metadata"]["name"]
    assert objs["ClusterRoleBinding"]["subjects"][0]["name"] == pod["serviceAccountName"]
    container = pod["containers"][0]
    assert container["command"] == ["python", "-m", "kubetrade_console"]
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    env = {e["name"]: e for e in container["env"]}
    assert env["KUBETRADE_CONSOLE_STORE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "store"
    assert (
        objs["Service"]["spec"]["selector"] == objs["Deployment"]["spec"]["selector"]["matchLabels"]
    )


def test_the_console_reads_artifacts_read_only_from_the_pvc_and_s3_it_is_given() -> None:
    objs = console_objects(
        render(
            "console.enabled=true",
            "console.artifacts.pvc=shared-artifacts",
            "console.artifacts.roots={s3://models/desk}",
            "artifactS3.endpoint=http://s3.local:7070",
            "artifactS3.secretName=s3-keys",
        )
    )
    pod = objs["Deployment"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["volumeMounts"] == [
        {"name": "artifacts", "mountPath": "/var/lib/kubetrade/artifacts", "readOnly": True}
    ]
    assert pod["volumes"][0]["persistentVolumeClaim"] == {
        "claimName": "shared-artifacts",
        "readOnly": True,
    }
    env = {e["name"]: e for e in container["env"]}
    assert json.loads(env["KUBETRADE_CONSOLE_ARTIFACT_ROOTS"]["value"]) == ["s3://models/desk"]
    assert ConsoleSettings.model_validate(
        {"artifact_roots": json.loads(env["KUBETRADE_CONSOLE_ARTIFACT_ROOTS"]["value"])}
    ).artifact_roots == ("s3://models/desk",)
    assert env["AWS_ENDPOINT_URL"]["value"] == "http://s3.local:7070"
    assert env["AWS_SECRET_ACCESS_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "s3-keys"
    plain = console_objects(render("console.enabled=true"))["Deployment"]["spec"]["template"]
    assert "volumes" not in plain["spec"] and "AWS_ENDPOINT_URL" not in str(plain)


def test_a_bad_console_value_is_refused_by_the_schema() -> None:
    result = helm_template("console.enabled=true", "console.port=0")
    assert result.returncode != 0 and "/console/port" in result.stderr
    bad_root = helm_template("console.enabled=true", "console.artifacts.roots={/etc}")
    assert bad_root.returncode != 0 and "/console/artifacts/roots/0" in bad_root.stderr


def test_the_console_serves_https_from_a_tls_secret() -> None:
    objs = console_objects(render("console.enabled=true", "console.tls.secretName=console-tls"))
    pod = objs["Deployment"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    settings = ConsoleSettings.model_validate(
        {
            "tls_cert_file": env["KUBETRADE_CONSOLE_TLS_CERT_FILE"],
            "tls_key_file": env["KUBETRADE_CONSOLE_TLS_KEY_FILE"],
        }
    )
    assert settings.scheme == "https"
    mount = next(m for m in container["volumeMounts"] if m["name"] == "tls")
    assert str(settings.tls_cert_file).startswith(mount["mountPath"]) and mount["readOnly"]
    assert {"name": "tls", "secret": {"secretName": "console-tls"}} in pod["volumes"]
    assert container["readinessProbe"]["httpGet"]["scheme"] == "HTTPS"
    plain = console_objects(render("console.enabled=true"))["Deployment"]["spec"]["template"]
    assert plain["spec"]["containers"][0]["readinessProbe"]["httpGet"]["scheme"] == "HTTP"
