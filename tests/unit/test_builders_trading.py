import asyncio
import datetime as dt
import json
from typing import Any

import pytest

from kubetrade_operator import kube
from kubetrade_operator.api import TradingSessionSpec
from kubetrade_operator.api.common import Phase
from kubetrade_operator.builders.common import Owner
from kubetrade_operator.builders.trading_session import (
    FLATTEN_GRACE_SECONDS,
    build_trader_access,
    build_trading_children,
    model_blocker,
    session_state,
    trader_revision,
)
from kubetrade_operator.conditions import Cond, merge
from kubetrade_operator.handlers import job_owner
from kubetrade_operator.handlers import trading_session as session_handler
from kubetrade_operator.settings import OperatorSettings
from kubetrade_testing import factories

OWNER = Owner("TradingSession", "paper", "desk", "uid-s", 3)
NOW = dt.datetime(2026, 1, 2, 12, 0, tzinfo=dt.UTC)


def _spec(**extra: Any) -> TradingSessionSpec:
    return TradingSessionSpec.model_validate({"modelRef": {"name": "ppo"}, **extra})


def _by_type(conds: list[Cond]) -> dict[str, Cond]:
    return {c.type: c for c in conds}


def test_one_trader_deployment_with_recreate_and_the_trade_config() -> None:
    cm, deployment = build_trading_children(
        OWNER, _spec(), "file:///m", "file:///d/manifest.json", OperatorSettings(), 1
    )
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    pod = deployment["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Always"
    assert pod["containers"][0]["command"][3] == "trade"
    assert {"name": "KUBETRADE_LEASE", "value": "paper-trader"} in pod["containers"][0]["env"]
    # A crash's last log lines reach the session's conditions as its termination message.
    assert pod["containers"][0]["terminationMessagePolicy"] == "FallbackToLogsOnError"
    assert "terminationMessagePolicy" not in pod["containers"][0]["securityContext"]
    config = json.loads(cm["data"]["config.json"])
    assert config["sessionId"] == "desk/paper/uid-s" and config["modelUri"] == "file:///m"
    assert config["trading"]["mode"] == "paper"


def test_the_trader_runs_as_its_own_account_limited_to_its_session_and_lease() -> None:
    _, deployment = build_trading_children(
        OWNER, _spec(), "file:///m", None, OperatorSettings(workload_service_account="shared"), 1
    )
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == "paper-trader"
    account, role, binding = build_trader_access(OWNER)
    assert account["kind"] == "ServiceAccount" and account["metadata"]["name"] == "paper-trader"
    for obj in (account, role, binding):
        assert obj["metadata"]["namespace"] == "desk"
        assert obj["metadata"]["ownerReferences"][0]["uid"] == "uid-s"  # collected with it
    named = {
        (rule["resources"][0], verb): rule.get("resourceNames")
        for rule in role["rules"]
        for verb in rule["verbs"]
    }
    assert named == {
        ("tradingsessions", "get"): ["paper"],
        ("tradingsessions/status", "patch"): ["paper"],
        ("leases", "get"): ["paper-trader"],
        ("leases", "patch"): ["paper-trader"],
        ("leases", "create"): None,
    }
    assert binding["roleRef"]["name"] == "paper-trader"
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "paper-trader", "namespace": "desk"}
    ]


def test_a_templates_own_account_wins_over_the_traders() -> None:
    spec = _spec(template={"serviceAccountName": "desk-trader"})
    _, deployment = build_trading_children(OWNER, spec, "file:///m", None, OperatorSettings(), 1)
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == "desk-trader"


def test_live_edits_do_not_roll_the_trader_but_a_broker_change_does() -> None:
    base = trader_revision(_spec())
    assert trader_revision(_spec(risk={"profile": "conservative"})) == base
    assert trader_revision(_spec(suspend=True)) == base
    # A pin (a rollback) and the promotion policy: the trader swaps at a bar instead.
    assert trader_revision(_spec(modelRef={"name": "ppo", "version": 3})) == base
    assert trader_revision(_spec(promotion={"mode": "Shadow"})) == base
    assert trader_revision(_spec(drift={"maxPsi": 0.1})) == base
    assert trader_revision(_spec(broker={"type": "ccxt", "exchange": "kraken"})) != base
    assert trader_revision(_spec(modelRef={"name": "other"})) != base


def test_running_halted_and_breached_states() -> None:
    deployment = {"status": {"availableReplicas": 1}}
    phase, conds, replicas = session_state(_spec(), {}, deployment, NOW)
    assert (phase, replicas) == (Phase.RUNNING, 1)
    assert (
        _by_type(conds)["Ready"].status == "True"
        and _by_type(conds)["RiskBreached"].status == "False"
    )
    halted = {"trading": {"tradingState": "HALTED"}}
    phase, conds, _ = session_state(_spec(), halted, deployment, NOW)
    assert phase == Phase.HALTED and _by_type(conds)["RiskBreached"].status == "True"
    mismatch = {
        "trading": {
            "tradingState": "ACTIVE",
            "reconciled": False,
            "reconcileMessage": "AAPL 10 vs 12",
        }
    }
    phase, conds, _ = session_state(_spec(), mismatch, deployment, NOW)
    assert phase == Phase.HALTED
    assert (_by_type(conds)["Reconciled"].status, _by_type(conds)["Reconciled"].message) == (
        "False",
        "AAPL 10 vs 12",
    )
    phase, _, _ = session_state(_spec(), {}, None, NOW)
    assert phase == Phase.PENDING


def test_suspend_flattens_first_then_scales_to_zero() -> None:
    running = {"status": {"availableReplicas": 1}}
    phase, conds, replicas = session_state(_spec(suspend=True), {}, running, NOW)
    assert (phase, replicas, _by_type(conds)["Suspended"].reason) == (
        Phase.SUSPENDING,
        1,
        "Flattening",
    )
    flat = {"trading": {"flat": True}}
    phase, conds, replicas = session_state(_spec(suspend=True), flat, running, NOW)
    assert (phase, replicas, _by_type(conds)["Suspended"].status) == (Phase.SUSPENDED, 0, "True")


def test_a_trader_that_never_reports_flat_is_scaled_down_after_the_grace() -> None:
    started = NOW - dt.timedelta(seconds=FLATTEN_GRACE_SECONDS + 1)
    conds = merge(
        None,
        [Cond("Suspended", "False", "Flattening")],
        1,
        at=started.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    phase, out, replicas = session_state(
        _spec(suspend=True), {"conditions": conds}, {"status": {"availableReplicas": 1}}, NOW
    )
    assert (phase, replicas, _by_type(out)["Suspended"].reason) == (
        Phase.SUSPENDED,
        0,
        "FlattenTimedOut",
    )


def test_model_blockers() -> None:
    assert model_blocker(None, "m").reason == "ModelNotFound"  # type: ignore[union-attr]
    assert model_blocker({"status": {"phase": "Rejected"}}, "m").reason == "ModelNotReady"  # type: ignore[union-attr]
    assert model_blocker({"status": {"phase": "Ready"}}, "m") is None


def test_trader_pod_gets_secret_refs_metrics_port_and_a_state_volume() -> None:
    spec = _spec(
        store={
            "urlSecretRef": {"name": "pg"},
            "redisSecretRef": {"name": "redis"},
            "stateClaimName": "trader-state",
        },
        alerts={
            "slack": {"webhookSecretRef": {"name": "slack"}},
            "email": {
                "smtpHost": "smtp.example.com",
                "sender": "kt@example.com",
                "recipients": ["desk@example.com"],
                "credentialsSecretRef": {"name": "smtp"},
            },
        },
    )
    cm, deployment = build_trading_children(OWNER, spec, "file:///m", None, OperatorSettings(), 1)
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    refs = {
        e["name"]: (e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"])
        for e in container["env"]
        if "valueFrom" in e
    }
    assert refs == {
        "KUBETRADE_STORE_URL": ("pg", "url"),
        "KUBETRADE_REDIS_URL": ("redis", "url"),
        "KUBETRADE_SLACK_WEBHOOK_URL": ("slack", "url"),
        "KUBETRADE_SMTP_USERNAME": ("smtp", "username"),
        "KUBETRADE_SMTP_PASSWORD": ("smtp", "password"),
    }
    assert container["ports"] == [{"name": "metrics", "containerPort": 9102, "protocol": "TCP"}]
    config = json.loads(cm["data"]["config.json"])
    assert {"name": "state", "mountPath": config["stateDir"]} in container["volumeMounts"]
    assert {"name": "state", "persistentVolumeClaim": {"claimName": "trader-state"}} in pod[
        "volumes"
    ]
    assert config["metricsPort"] == 9102


def test_without_a_claim_the_store_lives_in_an_empty_dir_and_no_secret_is_named() -> None:
    _, deployment = build_trading_children(OWNER, _spec(), "file:///m", None, OperatorSettings(), 1)
    pod = deployment["spec"]["template"]["spec"]
    assert {"name": "state", "emptyDir": {}} in pod["volumes"]
    assert not [e for e in pod["containers"][0]["env"] if "valueFrom" in e]


def test_session_id_carries_the_uid_so_a_recreated_session_starts_fresh() -> None:
    again = Owner("TradingSession", "paper", "desk", "uid-new", 1)
    ids = [
        json.loads(
            build_trading_children(o, _spec(), "file:///m", None, OperatorSettings(), 1)[0]["data"][
                "config.json"
            ]
        )["sessionId"]
        for o in (OWNER, again)
    ]
    assert ids == ["desk/paper/uid-s", "desk/paper/uid-new"]


def test_a_trader_that_cannot_trade_fails_the_session_with_its_reason() -> None:
    status = {"trading": {"error": "the venue refused the API key"}}
    phase, conds, replicas = session_state(_spec(), status, {"status": {}}, NOW)
    assert (phase, replicas) == (Phase.FAILED, 1)
    ready = _by_type(conds)["Ready"]
    assert (ready.status, ready.reason, ready.message) == (
        "False",
        "TraderError",
        "the venue refused the API key",
    )


def test_a_session_suspended_before_it_ever_started_is_suspended_without_a_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nothing to flatten, so its Model's state does not matter (it read Pending, and
    Argo CD showed Progressing, until its Model was Ready)."""
    written: list[dict[str, Any]] = []

    async def patch_status(
        kind: str, name: str, namespace: str, changed: dict[str, Any]
    ) -> tuple[dict[str, Any], str]:
        written.append(changed)
        return changed, "2"

    async def no_trader(*_: Any, **__: Any) -> None:
        raise AssertionError("no trader for a session suspended from the start")

    monkeypatch.setattr(kube, "patch_status", patch_status)
    monkeypatch.setattr(kube, "apply", no_trader)
    monkeypatch.setattr(job_owner, "announce_phase", lambda *_: None)
    body = factories.trading_session("parked", "not-ready-yet", suspend=True)
    body["metadata"].update(namespace="desk", uid="uid-p", generation=1, resourceVersion="1")
    body["status"] = {}

    asyncio.run(session_handler.reconcile(body, {"models": {}, "datasets": {}}))

    [status] = written
    assert status["phase"] == "Suspended"
    conds = {c["type"]: c for c in status["conditions"]}
    assert (conds["Suspended"]["status"], conds["Suspended"]["reason"]) == ("True", "NeverStarted")
    assert conds["Ready"]["reason"] == "Suspended"
