"""On a real cluster (kind, via `make kind-e2e`): what the kubelet and the API
server really do, and what kubetrade then says and may do.

- The operator's permissions, asked as `kubectl auth can-i --as=<its account>`.
- A trader's real token reaches its own session and gets 403 on another's.
- A trader pod's real reason reaches the session's conditions: a credentials
  Secret that does not exist (FailedMount, seen only in an Event), a crash loop
  (the crash's last log lines), a trader that reports its own error, an image
  that cannot be pulled, no node that fits.
- No secret value appears in any status, Event or log of the run.

Skipped unless KUBETRADE_E2E_NAMESPACE names the namespace the chart serves.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from lightkube import ApiError, Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Pod, Secret, ServiceAccount

from kubetrade_testing.accounts import (
    assert_trader_reaches_only_its_own_session,
    operator_may,
    operator_may_not,
    request_token,
    write_token_kubeconfig,
)
from kubetrade_testing.cluster import Cluster, wait_until
from kubetrade_testing.factories import RESOURCES, condition, create, mark_evaluated, model, status
from kubetrade_testing.factories import trading_session as session

NAMESPACE = os.environ.get("KUBETRADE_E2E_NAMESPACE", "")
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not NAMESPACE, reason="in-cluster suite: run by `make kind-e2e`"),
]
SYSTEM = "kubetrade-system"
OPERATOR = f"system:serviceaccount:{SYSTEM}:kubetrade"
SECRET_VALUE = f"e2e-{secrets.token_hex(16)}"
TRUTH_SESSIONS = ("bad-model", "crash", "no-secret", "no-image", "no-node")


def test_operator_permissions_as_kubectl_auth_can_i(control_plane: Cluster) -> None:
    expected = [(a, "yes") for a in operator_may(NAMESPACE)]
    expected += [(a, "no") for a in operator_may_not(NAMESPACE)]
    wrong = []
    for access, answer in expected:
        said = control_plane.run_kubectl(*access.can_i(), f"--as={OPERATOR}").stdout.strip()
        print(f"{answer:>3}  {access}")  # the matrix, in the run's log
        if said != answer:
            wrong.append(f"{access}: {said!r}, expected {answer!r}")
    assert not wrong, wrong


@pytest.fixture(scope="module")
def sessions(lightkube_client: Client) -> Iterator[dict[str, str]]:
    """Traders that cannot run, each for its own reason, on a Model whose
    artifact does not exist (so a trader that starts dies at once)."""
    c = lightkube_client
    _remove(c)  # what a kept cluster (KEEP_CLUSTER=1) still has from an earlier run
    create(c, model("truth", dataset_name="elsewhere", artifactUri="file:///nowhere"), NAMESPACE)
    wait_until(
        lambda: mark_evaluated(c, "truth", NAMESPACE), timeout=60, interval=3, what="a Ready Model"
    )
    keys = Secret(
        metadata=ObjectMeta(name="truth-keys"),
        stringData={"APCA_API_KEY_ID": SECRET_VALUE, "APCA_API_SECRET_KEY": SECRET_VALUE},
    )
    c.create(keys, namespace=NAMESPACE)
    made: dict[str, dict[str, Any]] = {
        # The trader starts, fails to load the model, says so itself and exits.
        "bad-model": {"credentialsSecretRef": {"name": "truth-keys"}},
        # Python itself dies at start: nothing reports but the kubelet.
        "crash": {"template": {"env": {"PYTHONHOME": "/nonexistent"}}},
        "no-secret": {"credentialsSecretRef": {"name": "absent-keys"}},
        "no-image": {"template": {"image": "kubetrade.local/absent:v0"}},
        "no-node": {"template": {"nodeSelector": {"kubetrade.io/e2e-none": "x"}}},
    }
    assert set(made) == set(TRUTH_SESSIONS)
    for name, spec in made.items():
        create(c, session(f"truth-{name}", "truth", barSeconds=0.1, **spec), NAMESPACE)
    yield {name: f"truth-{name}" for name in made}
    _remove(c)


def _remove(c: Client) -> None:
    """Delete this module's objects and wait until they are gone."""
    deletes: list[Callable[[], None]] = [
        *(
            partial(c.delete, RESOURCES["TradingSession"], f"truth-{n}", namespace=NAMESPACE)
            for n in TRUTH_SESSIONS
        ),
        partial(c.delete, RESOURCES["Model"], "truth", namespace=NAMESPACE),
        partial(c.delete, Secret, "truth-keys", namespace=NAMESPACE),
    ]
    for delete in deletes:
        try:
            delete()
        except ApiError as err:
            if err.status.code != 404:
                raise

    def gone() -> bool:
        return not any(
            s.metadata is not None and (s.metadata.name or "").startswith("truth-")
            for s in c.list(RESOURCES["TradingSession"], namespace=NAMESPACE)
        )

    wait_until(gone, timeout=120, what="the earlier truth sessions to go")


def _ready_false(c: Client, name: str, *reasons: str) -> dict[str, Any] | None:
    found = status(c, "TradingSession", name, NAMESPACE)
    ready = condition({"status": found}, "Ready")
    return found if ready and ready["status"] == "False" and ready["reason"] in reasons else None


@pytest.mark.parametrize(
    ("case", "reasons", "phase", "says"),
    [
        ("no-secret", ("FailedMount",), "Pending", 'secret "absent-keys" not found'),
        ("crash", ("CrashLoopBackOff",), "Failed", "Fatal Python error"),
        ("bad-model", ("TraderError",), "Failed", "cannot load the model at file:///nowhere"),
        # The chart's pull policy here is Never (images are loaded, no registry):
        # ErrImageNeverPull; with a registry, ErrImagePull then ImagePullBackOff.
        (
            "no-image",
            ("ErrImageNeverPull", "ErrImagePull", "ImagePullBackOff"),
            "Pending",
            "kubetrade.local/absent:v0",
        ),
        ("no-node", ("Unschedulable",), "Pending", "node(s) didn't match"),
    ],
)
def test_a_trader_pods_real_reason_reaches_the_session(
    lightkube_client: Client,
    sessions: dict[str, str],
    case: str,
    reasons: tuple[str, ...],
    phase: str,
    says: str,
) -> None:
    name = sessions[case]
    found = wait_until(
        lambda: _ready_false(lightkube_client, name, *reasons),
        timeout=300,
        interval=2,
        what=f"{name}: Ready=False with {reasons}",
    )
    ready = condition({"status": found}, "Ready")
    assert ready is not None and says in ready["message"], found
    assert found["phase"] == phase and says in found["message"], found
    if case in ("crash", "bad-model"):
        assert found["restarts"] >= 1, found


def test_a_traders_token_reaches_only_its_own_session(
    control_plane: Cluster, lightkube_client: Client, sessions: dict[str, str], tmp_path: Path
) -> None:
    own, other = sessions["bad-model"], sessions["no-secret"]

    def account() -> ServiceAccount | None:
        try:
            return lightkube_client.get(ServiceAccount, f"{own}-trader", namespace=NAMESPACE)
        except ApiError as err:
            if err.status.code == 404:
                return None
            raise

    wait_until(account, what="the trader's own ServiceAccount")
    token = request_token(lightkube_client, NAMESPACE, f"{own}-trader")
    as_trader = write_token_kubeconfig(control_plane.kubeconfig, token, tmp_path / "kubeconfig")
    assert_trader_reaches_only_its_own_session(as_trader, NAMESPACE, own, other=other)
    pods = lightkube_client.list(
        Pod, namespace=NAMESPACE, labels={"kubetrade.io/tradingsession": own}
    )
    for pod in pods:
        assert pod.spec is not None and pod.spec.serviceAccountName == f"{own}-trader"


def test_no_secret_value_in_any_status_event_or_log(
    control_plane: Cluster, lightkube_client: Client, sessions: dict[str, str]
) -> None:
    """Runs after the traders above failed: the mounted Secret's value must not
    have reached a status, an Event, the operator's logs or any workload pod's log."""
    wait_until(
        lambda: _ready_false(lightkube_client, sessions["bad-model"], "TraderError"),
        timeout=300,
        what="the trader that cannot load its model",
    )
    texts = {
        "statuses": control_plane.run_kubectl(
            "get", "datasets,trainingruns,models,tradingsessions", "-A", "-o", "yaml"
        ),
        "events": control_plane.run_kubectl("get", "events", "-A", "-o", "yaml"),
    }
    for ns in (SYSTEM, NAMESPACE):
        for pod in lightkube_client.list(Pod, namespace=ns):
            assert pod.metadata is not None and pod.metadata.name
            texts[f"log {ns}/{pod.metadata.name}"] = control_plane.run_kubectl(
                "logs",
                "-n",
                ns,
                pod.metadata.name,
                "--all-containers",
                "--previous=false",
            )
    read = {where: done.stdout for where, done in texts.items() if done.returncode == 0}
    assert "statuses" in read and "events" in read and len(read) > 3, texts
    leaked = [where for where, text in read.items() if SECRET_VALUE in text]
    assert not leaked, leaked
