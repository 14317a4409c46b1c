"""The Helm chart: it lints and renders, installs into a real API server under the
`restricted` Pod Security Standard, and its RBAC is both enough and no more.

The operator runs in-process with a token of the chart's own ServiceAccount
(TokenRequest API), so every API call it makes is authorised by the chart's
ClusterRole, exactly as in a cluster; access reviews show what stays forbidden.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from lightkube import ApiError, Client
from lightkube.generic_resource import create_global_resource
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import Namespace, Pod
from lightkube.types import PatchType
from typer.testing import CliRunner

import gen_kustomize
from kubetrade_dev.controlplane import find_bin_dir
from kubetrade_operator.__main__ import build_parser
from kubetrade_operator.api import API_VERSION
from kubetrade_operator.cli.main import app
from kubetrade_testing.accounts import (
    Access,
    allowed,
    assert_trader_reaches_only_its_own_session,
    operator_may,
    operator_may_not,
    request_token,
    write_token_kubeconfig,
)
from kubetrade_testing.cluster import TEST_NAMESPACE_LABEL, Cluster, wait_until
from kubetrade_testing.factories import (
    create,
    dataset,
    get,
    mark_evaluated,
    model,
    trading_session,
    training_run,
)
from kubetrade_testing.operator import running_operator
from kubetrade_workloads import owner_status
from kubetrade_workloads.config.jobs import OwnerRef

pytestmark = pytest.mark.integration

CHART = Path(__file__).resolve().parents[2] / "charts" / "kubetrade"
KUBE_VERSION = "1.36.3"
HANDLERS = ["-m", "kubetrade_operator.handlers"]
ClusterKopfPeering = create_global_resource(
    "kopf.dev", "v1", "ClusterKopfPeering", "clusterkopfpeerings"
)


def helm(
    *args: str, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run the helm built with the control plane."""
    return subprocess.run(
        [str(find_bin_dir() / "helm"), *args],
        env=env,
        capture_output=True,
        text=True,
        check=check,
        timeout=120,
    )


def render(*sets: str, namespace: str = "kubetrade-system") -> list[dict[str, Any]]:
    """`helm template` with `--set` values, as a list of objects."""
    flags = [f"--set={s}" for s in sets]
    out = helm(
        "template", "kt", str(CHART), "-n", namespace, "--kube-version", KUBE_VERSION, *flags
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def one(docs: Sequence[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind]
    assert len(found) == 1, f"{len(found)} {kind}s"
    return found[0]


def operator_args(docs: Sequence[dict[str, Any]]) -> list[str]:
    args: list[str] = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]
    return args


# --- rendering --------------------------------------------------------------------------------

ALL_FEATURES = [
    "replicaCount=2",
    "workloadNamespaces={team-a,team-b}",
    "networkPolicy.enabled=true",
    "networkPolicy.brokerEndpoints[0].cidr=0.0.0.0/0",
    "networkPolicy.brokerEndpoints[0].except={10.0.0.0/8}",
    "networkPolicy.brokerEndpoints[0].ports={443}",
    "networkPolicy.apiServerEndpoints[0].cidr=10.0.0.1/32",
    "metrics.serviceMonitor.enabled=true",
    "resources.requests.cpu=100m",
]


@pytest.mark.parametrize("sets", [[], ALL_FEATURES], ids=["defaults", "all-features"])
def test_helm_lint_is_clean(sets: list[str]) -> None:
    result = helm("lint", "--strict", str(CHART), *[f"--set={s}" for s in sets], check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[WARNING]" not in result.stdout and "[ERROR]" not in result.stdout, result.stdout


def test_defaults_render_a_standalone_operator_with_no_optional_objects() -> None:
    docs = render()
    assert sorted(d["kind"] for d in docs) == [
        "ClusterRole",
        "ClusterRoleBinding",
        "Deployment",
        "Service",
        "ServiceAccount",
    ]
    deployment = one(docs, "Deployment")
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    parsed = build_parser().parse_args(operator_args(docs))
    assert parsed.standalone and parsed.log_format == "json"
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert "resources" not in container, "no default requests or limits"


def test_two_replicas_peer_through_kopf_and_keep_one_available() -> None:
    docs = render("replicaCount=2", "peeringName=kt-peers")
    parsed = build_parser().parse_args(operator_args(docs))
    assert not parsed.standalone and parsed.peering == "kt-peers"
    assert parsed.priority is None, "replicas rank themselves by age, never by a shared value"
    assert one(docs, "ClusterKopfPeering")["metadata"]["name"] == "kt-peers"
    assert one(docs, "PodDisruptionBudget")["spec"]["maxUnavailable"] == 1
    assert one(docs, "Deployment")["spec"]["strategy"]["type"] == "RollingUpdate"
    rules = one(docs, "ClusterRole")["rules"]
    assert any("clusterkopfpeerings" in r["resources"] for r in rules)
    namespaced = render("replicaCount=2", "watchNamespace=trading")
    peering = one(namespaced, "KopfPeering")
    assert peering["metadata"]["namespace"] == "trading"


def test_workload_rbac_and_trader_policy_go_to_every_workload_namespace() -> None:
    docs = render(*ALL_FEATURES)
    for kind in ("ServiceAccount", "Role", "RoleBinding", "NetworkPolicy"):
        namespaces = sorted(
            d["metadata"]["namespace"]
            for d in docs
            if d["kind"] == kind and d["metadata"]["name"].endswith(("-workload", "-egress"))
        )
        assert namespaces == ["team-a", "team-b"], kind
    env = {
        e["name"]: e["value"]
        for e in one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["KUBETRADE_WORKLOAD_SERVICE_ACCOUNT"] == "kt-kubetrade-workload"
    policy = next(d for d in docs if d["kind"] == "NetworkPolicy")
    assert policy["spec"]["policyTypes"] == ["Egress"]
    assert policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "trade"
    blocks = [
        t["ipBlock"] for rule in policy["spec"]["egress"] for t in rule["to"] if "ipBlock" in t
    ]
    assert {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]} in blocks
    assert {"cidr": "10.0.0.1/32"} in blocks
    monitor = one(docs, "PodMonitor")
    assert monitor["spec"]["namespaceSelector"]["matchNames"] == ["team-a", "team-b"]
    assert monitor["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] == "trade"
    assert monitor["spec"]["podMetricsEndpoints"][0]["port"] == "metrics"


def test_cluster_role_never_reads_secrets_nor_uses_wildcards() -> None:
    for rule in one(render("replicaCount=2"), "ClusterRole")["rules"]:
        assert "secrets" not in rule["resources"]
        assert "*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"]
        assert not {"escalate", "bind", "impersonate", "deletecollection"} & set(rule["verbs"])


def test_operator_pod_is_restricted_by_the_rendered_spec() -> None:
    pod = one(render(), "Deployment")["spec"]["template"]["spec"]
    sc = pod["securityContext"]
    assert sc["runAsNonRoot"] is True and sc["seccompProfile"]["type"] == "RuntimeDefault"
    for container in pod["containers"]:
        csc = container["securityContext"]
        assert csc["allowPrivilegeEscalation"] is False
        assert csc["capabilities"]["drop"] == ["ALL"]
        assert csc["readOnlyRootFilesystem"] is True


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (["replicaCount=-1"], "replicaCount"),
        (["unknownValue=1"], "unknownValue"),
        (["logFormat=xml"], "logFormat"),
        (["networkPolicy.enabled=true"], "needs workloadNamespaces"),
    ],
)
def test_bad_values_are_rejected_with_the_value_named(sets: list[str], message: str) -> None:
    flags = [f"--set={s}" for s in sets]
    result = helm("template", "kt", str(CHART), "--kube-version", KUBE_VERSION, *flags, check=False)
    assert result.returncode != 0
    assert message in result.stderr


def _undescribed(values: dict[str, Any], schema: dict[str, Any], prefix: str = "") -> Iterator[str]:
    """Paths in `values` the schema does not name and describe (free-form maps end the walk)."""
    props = schema.get("properties")
    if props is None:
        return
    for key, value in values.items():
        path = f"{prefix}.{key}" if prefix else key
        node = props.get(key)
        if node is None or not node.get("description"):
            yield path
        elif isinstance(value, dict):
            yield from _undescribed(value, node, path)


def test_values_schema_describes_every_value() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    schema = json.loads((CHART / "values.schema.json").read_text())
    assert schema["additionalProperties"] is False
    assert not list(_undescribed(values, schema))


# --- a release in the local control plane -----------------------------------------------------


@dataclass(frozen=True)
class Release:
    name: str
    namespace: str
    workloads: str
    operator_account: str
    workload_account: str
    peering: str
    env: dict[str, str]


def _namespace(client: Client, name: str, labels: dict[str, str] | None = None) -> None:
    meta = ObjectMeta(name=name, labels={TEST_NAMESPACE_LABEL: "true", **(labels or {})})
    client.create(Namespace(metadata=meta))


@pytest.fixture(scope="module")
def release(control_plane: Cluster, lightkube_client: Client, crds: list[str]) -> Iterator[Release]:
    """The chart installed with two replicas into a namespace that enforces the
    `restricted` Pod Security Standard, with one workload namespace."""
    suffix = secrets.token_hex(3)
    name, system, workloads = f"kt-{suffix}", f"kt-system-{suffix}", f"kt-work-{suffix}"
    _namespace(lightkube_client, system, {"pod-security.kubernetes.io/enforce": "restricted"})
    _namespace(lightkube_client, workloads)
    env = control_plane.env()
    sets = ["replicaCount=2", f"peeringName={name}", f"workloadNamespaces={{{workloads}}}"]
    helm("install", name, str(CHART), "-n", system, *[f"--set={s}" for s in sets], env=env)
    try:
        yield Release(
            name=name,
            namespace=system,
            workloads=workloads,
            operator_account=f"{name}-kubetrade",
            workload_account=f"{name}-kubetrade-workload",
            peering=name,
            env=env,
        )
    finally:
        helm("uninstall", name, "-n", system, env=env, check=False)
        for ns in (system, workloads):
            try:
                lightkube_client.delete(Namespace, ns)
            except ApiError as exc:
                if exc.status.code != 404:
                    raise


def _token_kubeconfig(
    client: Client, control_plane: Cluster, namespace: str, account: str, path: Path
) -> Path:
    return write_token_kubeconfig(
        control_plane.kubeconfig, request_token(client, namespace, account), path
    )


@pytest.fixture(scope="module")
def operator_kubeconfig(
    release: Release,
    control_plane: Cluster,
    lightkube_client: Client,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """A kubeconfig authenticating as the chart's operator ServiceAccount."""
    path = tmp_path_factory.mktemp("operator-account") / "kubeconfig"
    return _token_kubeconfig(
        lightkube_client, control_plane, release.namespace, release.operator_account, path
    )


@pytest.fixture(scope="module")
def workload_kubeconfig(
    release: Release,
    control_plane: Cluster,
    lightkube_client: Client,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """A kubeconfig authenticating as the chart's workload ServiceAccount."""
    path = tmp_path_factory.mktemp("workload-account") / "kubeconfig"
    return _token_kubeconfig(
        lightkube_client, control_plane, release.workloads, release.workload_account, path
    )


def test_install_runs_operator_pods_under_the_restricted_standard(
    release: Release, lightkube_client: Client
) -> None:
    # The ReplicaSet controller's pod creations pass PodSecurity admission only if
    # the chart's pod spec is `restricted`; nothing runs them here, which is fine.
    # The ReplicaSet controller creates the two replicas one after the other.
    pods = wait_until(
        lambda: (
            (ps := list(lightkube_client.list(Pod, namespace=release.namespace)))
            and len(ps) >= 2
            and ps
        ),
        timeout=60,
        what="both operator pods admitted under enforce=restricted",
    )
    assert len(pods) == 2
    # The namespace really enforces: a pod without a securityContext is refused.
    bare = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "bare"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }
    result = subprocess.run(
        ["kubectl", "create", "--dry-run=server", "-n", release.namespace, "-f", "-"],
        input=json.dumps(bare),
        env=release.env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode != 0 and "violates PodSecurity" in result.stderr
    peering = lightkube_client.get(ClusterKopfPeering, release.peering)
    assert peering.metadata is not None


def test_operator_with_the_chart_account_reconciles_every_kind(
    release: Release,
    control_plane: Cluster,
    operator_kubeconfig: Path,
    lightkube_client: Client,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    ns = release.workloads
    env = {"KUBETRADE_WORKLOAD_SERVICE_ACCOUNT": release.workload_account}
    # A Model evaluated elsewhere (Ready, its Job long gone) lets a TradingSession
    # start its trader at once: the Deployment and ConfigMap by server-side apply.
    create(lightkube_client, model("ready", dataset_name="elsewhere"), ns)
    assert mark_evaluated(lightkube_client, "ready", ns) is None  # no operator runs yet
    assert mark_evaluated(lightkube_client, "ready", ns) is not None
    create(lightkube_client, trading_session("trader", model_name="ready"), ns)
    with running_operator(operator_kubeconfig, env) as runner:
        create(lightkube_client, dataset("prices"), ns)
        create(lightkube_client, training_run("run", dataset_name="prices"), ns)
        create(lightkube_client, model("mdl", dataset_name="prices"), ns)
        create(lightkube_client, trading_session("paper", model_name="mdl"), ns)
        job = wait_until(
            lambda: next(iter(lightkube_client.list(Job, namespace=ns)), None),
            what="the Dataset's Job",
        )
        for kind, name in (
            ("Dataset", "prices"),
            ("TrainingRun", "run"),
            ("Model", "mdl"),
            ("TradingSession", "paper"),
        ):

            def conditions(k: str = kind, n: str = name) -> list[dict[str, Any]] | None:
                found: list[dict[str, Any]] | None = (
                    get(lightkube_client, k, n, ns).get("status") or {}
                ).get("conditions")
                return found

            status = wait_until(
                conditions,
                what=f"{kind} conditions written with the chart's credentials",
            )
            assert status
        trader = wait_until(
            lambda: next(iter(lightkube_client.list(Deployment, namespace=ns)), None),
            what="the trader Deployment",
        )
    assert job.spec is not None and job.spec.template.spec is not None
    assert job.spec.template.spec.serviceAccountName == release.workload_account
    assert trader.metadata is not None and trader.metadata.name == "trader-trader"
    assert trader.spec is not None and trader.spec.template.spec is not None
    # The trader runs as its own account (made by the operator under the chart's
    # RBAC, which lets it grant only what it holds), not the shared workload one.
    assert trader.spec.template.spec.serviceAccountName == "trader-trader"
    assert "Handler 'dataset_event' succeeded" in caplog.text
    assert "Forbidden" not in caplog.text + runner.output, caplog.text[-3000:]
    as_trader = _token_kubeconfig(
        lightkube_client, control_plane, ns, "trader-trader", tmp_path / "kubeconfig"
    )
    assert_trader_reaches_only_its_own_session(as_trader, ns, "trader", other="paper")


def test_operator_account_may_do_its_work_and_nothing_more(operator_kubeconfig: Path) -> None:
    wrongly_allowed = [
        str(a) for a in operator_may_not("default") if allowed(operator_kubeconfig, a)
    ]
    wrongly_denied = [
        str(a) for a in operator_may("default") if not allowed(operator_kubeconfig, a)
    ]
    assert not wrongly_allowed and not wrongly_denied, (wrongly_allowed, wrongly_denied)


def test_workload_account_may_only_report_status_in_its_namespace(
    release: Release, workload_kubeconfig: Path
) -> None:
    ns = release.workloads
    may = [
        Access("patch", "datasets", "kubetrade.io", namespace=ns, subresource="status"),
        Access("patch", "models", "kubetrade.io", namespace=ns, subresource="status"),
    ]
    may_not = [
        # Sessions and Leases are the traders' own accounts' business.
        Access("patch", "tradingsessions", "kubetrade.io", namespace=ns, subresource="status"),
        Access("get", "tradingsessions", "kubetrade.io", namespace=ns),
        Access("patch", "leases", "coordination.k8s.io", namespace=ns),
        Access("patch", "datasets", "kubetrade.io", namespace=ns),
        Access("update", "tradingsessions", "kubetrade.io", namespace=ns),
        Access("delete", "tradingsessions", "kubetrade.io", namespace=ns),
        Access(
            "patch", "datasets", "kubetrade.io", namespace=release.namespace, subresource="status"
        ),
        Access("get", "secrets", namespace=ns),
        Access("create", "jobs", "batch", namespace=ns),
        Access("list", "pods", namespace=ns),
        Access("get", "datasets", "kubetrade.io", namespace=ns),
        Access("delete", "leases", "coordination.k8s.io", namespace=ns),
    ]
    wrongly_denied = [str(a) for a in may if not allowed(workload_kubeconfig, a)]
    wrongly_allowed = [str(a) for a in may_not if allowed(workload_kubeconfig, a)]
    assert not wrongly_allowed and not wrongly_denied, (wrongly_allowed, wrongly_denied)


def test_kubectl_auth_can_i_agrees(release: Release) -> None:
    user = f"system:serviceaccount:{release.namespace}:{release.operator_account}"
    for verb, resource, expected in (
        ("get", "secrets", "no"),
        ("delete", "namespaces", "no"),
        ("create", "jobs.batch", "yes"),
    ):
        result = subprocess.run(
            ["kubectl", "auth", "can-i", verb, resource, "-n", release.workloads, f"--as={user}"],
            env=release.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert result.stdout.strip() == expected, (verb, resource, result.stdout, result.stderr)


def _peers(client: Client, name: str) -> dict[str, Any]:
    peering: Any = client.get(ClusterKopfPeering, name)
    status: dict[str, Any] = peering.to_dict().get("status") or {}
    return status


def test_peered_operator_pauses_for_a_senior_peer_and_resumes_when_it_leaves(
    release: Release,
    operator_kubeconfig: Path,
    lightkube_client: Client,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ns = release.workloads
    args = ["run", "-A", f"--peering={release.peering}", "--priority=10", *HANDLERS]
    rival = "senior@elsewhere"
    with running_operator(operator_kubeconfig, args=args) as runner:
        # Once the operator has announced itself, a senior peer appears.
        wait_until(
            lambda: _peers(lightkube_client, release.peering), what="the operator's keep-alive"
        )
        now = dt.datetime.now(dt.UTC).isoformat()
        lightkube_client.patch(
            ClusterKopfPeering,
            release.peering,
            {"status": {rival: {"priority": 100, "lifetime": 60, "lastseen": now}}},
            patch_type=PatchType.MERGE,
        )
        wait_until(lambda: "Pausing operations" in caplog.text, what="the operator to pause")
        create(lightkube_client, dataset("while-paused"), ns)

        def jobs_of(owner: str) -> list[Job]:
            return [
                j
                for j in lightkube_client.list(Job, namespace=ns)
                if j.metadata and j.metadata.name and j.metadata.name.startswith(f"{owner}-")
            ]

        assert not jobs_of("while-paused")
        lightkube_client.patch(
            ClusterKopfPeering,
            release.peering,
            {"status": {rival: None}},
            patch_type=PatchType.MERGE,
        )
        wait_until(lambda: jobs_of("while-paused"), what="the resumed operator to make the Job")
    assert "Resuming operations" in caplog.text.split("Pausing operations", 1)[1]
    assert "Forbidden" not in caplog.text + runner.output, caplog.text[-3000:]


def test_trading_cli_status_lists_the_namespace_from_the_kubeconfig(
    release: Release, kubeconfig: Path, lightkube_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    create(lightkube_client, dataset("listed"), release.workloads)
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    result = CliRunner().invoke(app, ["status", "-n", release.workloads, "-o", "json"])
    assert result.exit_code == 0, result.output
    listed = {(r["kind"], r["name"]): r for r in json.loads(result.output)}
    assert ("Dataset", "listed") in listed
    assert all(r["namespace"] == release.workloads for r in listed.values())


# --- Kustomize: the same install without Helm -------------------------------------------------


def test_kustomize_base_is_the_chart_at_its_defaults() -> None:
    assert gen_kustomize.main(["--check"]) == 0, "run `make docs`"


def test_kubectl_kustomize_renders_the_base(control_plane: Cluster) -> None:
    out = subprocess.run(
        [str(control_plane.kubectl), "kustomize", str(gen_kustomize.BASE)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    docs = [d for d in yaml.safe_load_all(out) if d]
    kinds = sorted(d["kind"] for d in docs)
    assert kinds == sorted(
        [
            "Namespace",
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "Service",
            "Deployment",
        ]
        + ["CustomResourceDefinition"] * 4
    )
    for doc in docs:
        labels = doc["metadata"].get("labels") or {}
        assert (
            "helm.sh/chart" not in labels and labels.get("app.kubernetes.io/managed-by") != "Helm"
        )
        if doc["kind"] in {"ServiceAccount", "Service", "Deployment"}:
            assert doc["metadata"]["namespace"] == "kubetrade-system"
    binding = one(docs, "ClusterRoleBinding")
    assert binding["subjects"][0]["namespace"] == "kubetrade-system"
    assert (
        one(docs, "Namespace")["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
        == "restricted"
    )


def test_a_workload_pod_reports_status_with_the_workload_account(
    release: Release,
    workload_kubeconfig: Path,
    lightkube_client: Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The same call a Dataset's pod makes, with the token a pod of the chart's
    # workload ServiceAccount would have.
    create(lightkube_client, dataset("reported"), release.workloads)
    uid = str(get(lightkube_client, "Dataset", "reported", release.workloads)["metadata"]["uid"])
    monkeypatch.setenv(owner_status.KUBECONFIG_ENV, str(workload_kubeconfig))
    own = OwnerRef(
        api_version=API_VERSION,
        kind="Dataset",
        name="reported",
        namespace=release.workloads,
        uid=uid,
    )
    assert owner_status.report(own, {"rows": 42})
    assert get(lightkube_client, "Dataset", "reported", release.workloads)["status"]["rows"] == 42
    elsewhere = own.model_copy(update={"namespace": release.namespace})
    assert not owner_status.report(elsewhere, {"rows": 1}), "no reports outside its namespace"
