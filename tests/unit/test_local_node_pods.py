"""How the local node turns a Pod into a local process: env, volumes, paths, status."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import pytest
from lightkube.core.selector import build_selector
from lightkube.resources.core_v1 import Pod

from kubetrade_dev.local_node import parse_selector
from kubetrade_dev.pod_env import MissingReference, PodFacts, PodSpecError, expand, resolve_env
from kubetrade_dev.pod_plan import PlanContext, build_plan, first_container
from kubetrade_dev.pod_status import (
    ConditionClock,
    ContainerState,
    PodAddress,
    Terminated,
    status_patch,
)
from kubetrade_dev.pod_volumes import PathMapper

FACTS = PodFacts(node_name="kubetrade-local", pod_ip="127.0.0.1", host_ip="127.0.0.1")


class Objects:
    """ConfigMaps and Secrets held in memory."""

    def __init__(
        self,
        config_maps: Mapping[str, Mapping[str, str]] | None = None,
        secrets: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self.config_maps = dict(config_maps or {})
        self.secrets = dict(secrets or {})

    def config_map(self, namespace: str, name: str) -> Mapping[str, bytes] | None:
        data = self.config_maps.get(name)
        return None if data is None else {k: v.encode() for k, v in data.items()}

    def secret(self, namespace: str, name: str) -> Mapping[str, bytes] | None:
        data = self.secrets.get(name)
        return None if data is None else {k: v.encode() for k, v in data.items()}


def make_pod(container: dict[str, Any], volumes: list[dict[str, Any]] | None = None) -> Pod:
    """A pod in namespace ``ns`` with one container."""
    manifest = {
        "metadata": {"name": "p", "namespace": "ns", "uid": "0123456789", "labels": {"a": "b"}},
        "spec": {"containers": [{"name": "main", **container}], "volumes": volumes or []},
    }
    return cast(Pod, Pod.from_dict(manifest))


def plan_context(tmp_path: Path) -> PlanContext:
    return PlanContext(
        pod_dir=tmp_path / "pod",
        claims_dir=tmp_path / "claims",
        base_env={"PATH": "/usr/bin", "FROM_NODE": "1"},
        facts=FACTS,
    )


# -- $(VAR) expansion ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$(A)/x", "va/x"),
        ("$$(A)", "$(A)"),
        ("$(MISSING)", "$(MISSING)"),
        ("pre$(A)$(B)post", "prevavbpost"),
        ("$(A", "$(A"),
        ("cost $5", "cost $5"),
        ("end$", "end$"),
        ("$$$(A)", "$va"),
    ],
)
def test_expand_follows_kubernetes_rules(text: str, expected: str) -> None:
    assert expand(text, {"A": "va", "B": "vb"}) == expected


# -- path mapping -------------------------------------------------------------------------


def test_path_mapper_rewrites_whole_leading_paths_longest_first() -> None:
    mapper = PathMapper(
        {"/data": Path("/l/data"), "/data/models": Path("/l/models"), "/etc/kt/": Path("/l/cfg")}
    )

    assert mapper.rewrite("/data") == "/l/data"
    assert mapper.rewrite("/data/x.parquet") == "/l/data/x.parquet"
    assert mapper.rewrite("/data/models/m.zip") == "/l/models/m.zip"
    assert mapper.rewrite("--config=/etc/kt/config.json") == "--config=/l/cfg/config.json"
    assert mapper.rewrite("file:///data/ds") == "file:///l/data/ds"
    assert mapper.rewrite("a:/data:/etc/kt") == "a:/l/data:/l/cfg"
    assert mapper.rewrite("/database") == "/database"
    assert mapper.rewrite("/srv/data/x") == "/srv/data/x"


def test_path_mapper_without_mounts_changes_nothing() -> None:
    assert PathMapper({}).rewrite("/data/x") == "/data/x"


# -- environment --------------------------------------------------------------------------


def test_env_from_sources_then_env_entries_in_order() -> None:
    objects = Objects(
        config_maps={"cm": {"MODE": "paper", "LEVEL": "1"}}, secrets={"s": {"KEY": "k"}}
    )
    pod = make_pod(
        {
            "envFrom": [
                {"configMapRef": {"name": "cm"}},
                {"secretRef": {"name": "s"}, "prefix": "X_"},
            ],
            "env": [
                {"name": "LEVEL", "value": "2"},
                {"name": "URL", "value": "http://$(HOST):$(PORT)/$(MODE)"},
                {"name": "HOST", "value": "localhost"},
                {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "KEY"}}},
                {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                {"name": "LBL", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['a']"}}},
                {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
                {
                    "name": "OPT",
                    "valueFrom": {
                        "configMapKeyRef": {"name": "nope", "key": "k", "optional": True}
                    },
                },
            ],
        }
    )

    env = resolve_env(pod, first_container(pod), objects, FACTS)

    assert env == {
        "MODE": "paper",
        "LEVEL": "2",
        "X_KEY": "k",
        # HOST is defined after URL, so it stays unexpanded, as in Kubernetes.
        "URL": "http://$(HOST):$(PORT)/paper",
        "HOST": "localhost",
        "TOKEN": "k",
        "IP": "127.0.0.1",
        "LBL": "b",
        "NODE": "kubetrade-local",
    }


def test_missing_secret_key_is_a_missing_reference() -> None:
    pod = make_pod(
        {"env": [{"name": "T", "valueFrom": {"secretKeyRef": {"name": "s", "key": "x"}}}]}
    )

    with pytest.raises(MissingReference, match="key 'x' in Secret 's'"):
        resolve_env(pod, first_container(pod), Objects(secrets={"s": {"y": "1"}}), FACTS)


def test_unknown_field_ref_is_a_pod_spec_error() -> None:
    pod = make_pod({"env": [{"name": "T", "valueFrom": {"fieldRef": {"fieldPath": "spec.bogus"}}}]})

    with pytest.raises(PodSpecError) as err:
        resolve_env(pod, first_container(pod), Objects(), FACTS)
    assert err.value.reason == "UnsupportedFieldRef"


# -- the launch plan ----------------------------------------------------------------------


def test_plan_maps_python_volumes_and_paths(tmp_path: Path) -> None:
    objects = Objects(
        config_maps={"cfg": {"config.json": "{}", "other": "x"}}, secrets={"s": {"k": "v"}}
    )
    pod = make_pod(
        {
            "command": ["python3", "-m", "kubetrade_workloads", "data"],
            "args": ["--config", "/etc/kubetrade/config.json", "--out", "$(OUT)"],
            "env": [
                {"name": "OUT", "value": "/data/out"},
                {"name": "SECRET_DIR", "value": "/creds"},
            ],
            "workingDir": "/data",
            "volumeMounts": [
                {"name": "cfg", "mountPath": "/etc/kubetrade"},
                {"name": "data", "mountPath": "/data"},
                {"name": "creds", "mountPath": "/creds"},
                {"name": "data", "mountPath": "/models", "subPath": "models"},
            ],
        },
        volumes=[
            {
                "name": "cfg",
                "configMap": {
                    "name": "cfg",
                    "items": [{"key": "config.json", "path": "config.json"}],
                },
            },
            {"name": "data", "persistentVolumeClaim": {"claimName": "artifacts"}},
            {"name": "creds", "secret": {"secretName": "s"}},
        ],
    )

    plan = build_plan(pod, objects, plan_context(tmp_path))

    cfg = tmp_path / "pod" / "volumes" / "cfg"
    claim = tmp_path / "claims" / "ns" / "artifacts"
    assert plan.argv == [
        sys.executable, "-m", "kubetrade_workloads", "data",
        "--config", f"{cfg}/config.json", "--out", f"{claim}/out",
    ]  # fmt: skip
    assert (cfg / "config.json").read_text() == "{}"
    assert not (cfg / "other").exists()  # items choose the keys
    assert (tmp_path / "pod" / "volumes" / "creds" / "k").read_text() == "v"
    assert (claim / "models").is_dir()
    assert plan.cwd == claim
    assert plan.env["OUT"] == f"{claim}/out"
    assert plan.env["SECRET_DIR"] == str(tmp_path / "pod" / "volumes" / "creds")
    assert plan.env["FROM_NODE"] == "1"
    assert plan.mounts["/models"] == claim / "models"


def test_plan_without_command_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(PodSpecError) as err:
        build_plan(make_pod({"image": "x"}), Objects(), plan_context(tmp_path))
    assert err.value.reason == "NoCommand"


def test_plan_with_unsupported_volume_is_rejected(tmp_path: Path) -> None:
    pod = make_pod(
        {"command": ["true"]}, volumes=[{"name": "n", "nfs": {"server": "s", "path": "/"}}]
    )

    with pytest.raises(PodSpecError) as err:
        build_plan(pod, Objects(), plan_context(tmp_path))
    assert err.value.reason == "UnsupportedVolume"


def test_a_metrics_port_is_served_on_a_free_port_unless_the_pod_sets_one(
    tmp_path: Path,
) -> None:
    ports = [{"name": "metrics", "containerPort": 9102}]
    ctx = plan_context(tmp_path)
    first = build_plan(make_pod({"command": ["true"], "ports": ports}), Objects(), ctx)
    second = build_plan(make_pod({"command": ["true"], "ports": ports}), Objects(), ctx)
    mapped = {first.env["KUBETRADE_METRICS_PORT"], second.env["KUBETRADE_METRICS_PORT"]}
    assert "9102" not in mapped and all(int(p) > 0 for p in mapped)
    fixed = make_pod(
        {
            "command": ["true"],
            "ports": ports,
            "env": [{"name": "KUBETRADE_METRICS_PORT", "value": "0"}],
        }
    )
    assert build_plan(fixed, Objects(), ctx).env["KUBETRADE_METRICS_PORT"] == "0"
    assert (
        "KUBETRADE_METRICS_PORT"
        not in build_plan(make_pod({"command": ["true"]}), Objects(), ctx).env
    )


def test_plan_waits_for_a_missing_config_map(tmp_path: Path) -> None:
    pod = make_pod({"command": ["true"]}, volumes=[{"name": "c", "configMap": {"name": "later"}}])

    with pytest.raises(MissingReference, match="configmap 'later' not found"):
        build_plan(pod, Objects(), plan_context(tmp_path))


# -- selectors and status -----------------------------------------------------------------


def test_parse_selector_understands_every_form() -> None:
    text = (
        "app.kubernetes.io/managed-by=kubetrade, tier!=web,env,!legacy,zone in (a, b),x notin (c)"
    )

    encoded = build_selector(parse_selector(text))

    assert encoded == (
        "app.kubernetes.io/managed-by=kubetrade,tier!=web,env,!legacy,zone in (a,b),x notin (c)"
    )


def test_status_while_running_and_after_success() -> None:
    container = ContainerState(name="main", image="img")
    address = PodAddress(host_ip="127.0.0.1", pod_ip="127.0.0.1", start_time="2024-01-01T00:00:00Z")
    clock = ConditionClock()
    container.set_running("2024-01-01T00:00:01Z", "local://42")

    running = status_patch("Running", container, address, clock)["status"]

    conditions = {c["type"]: c for c in running["conditions"]}
    assert conditions["Ready"]["status"] == "True"
    assert running["containerStatuses"][0]["state"] == {
        "running": {"startedAt": "2024-01-01T00:00:01Z"}
    }
    assert running["podIPs"] == [{"ip": "127.0.0.1"}]
    scheduled_since = conditions["PodScheduled"]["lastTransitionTime"]

    container.set_terminated(
        Terminated(0, "Completed", "", "2024-01-01T00:00:01Z", "2024-01-01T00:00:09Z")
    )
    done = status_patch("Succeeded", container, address, clock)["status"]

    conditions = {c["type"]: c for c in done["conditions"]}
    assert (conditions["Ready"]["status"], conditions["Ready"]["reason"]) == (
        "False",
        "PodCompleted",
    )
    assert conditions["PodScheduled"]["lastTransitionTime"] == scheduled_since
    assert done["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 0
    assert done["containerStatuses"][0]["ready"] is False
