"""TradingSession → a ConfigMap and a single-replica Deployment running one trader;
the trader's reports → phase and conditions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from kubetrade_workloads.config import TradeJob, TradingConfig
from kubetrade_workloads.config.jobs import METRICS_PORT, STATE_DIR

from ..api import GROUP, TradingSessionSpec
from ..api.common import Phase
from ..api.trading_session import ModelRef
from ..conditions import FALSE, TRUE, UNKNOWN, Cond, find
from ..settings import OperatorSettings
from .common import (
    Owner,
    child_name,
    config_map,
    labels,
    metadata,
    owner_ref,
    pod_spec,
    revision,
    shorten,
)

COMPONENT = "trade"
# Risk edits reach the running trader through the API within seconds, and
# suspend is the kill switch: neither may restart the trader.
LIVE_FIELDS = frozenset({"suspend", "risk", "promotion", "drift"})
HALTING = ("REDUCING", "HALTED")
FLATTEN_GRACE_SECONDS = 120.0


def trader_revision(spec: TradingSessionSpec) -> str:
    """Changes to the Model, broker, feed or pod roll the trader; risk, suspend, the
    promotion policy, drift thresholds and a version pin do not (the trader swaps
    versions at a bar; the operator alone judges drift)."""
    unpinned = spec.model_copy(update={"model_ref": ModelRef(name=spec.model_ref.name)})
    return revision(unpinned, ignore=LIVE_FIELDS)


def deployment_name(owner: Owner) -> str:
    """One Deployment per session, whatever its revision."""
    return shorten(f"{owner.name}-trader")


def lease_name(owner: Owner) -> str:
    """The coordination Lease the trader must hold before it trades."""
    return shorten(f"{owner.name}-trader")


def account_name(owner: Owner) -> str:
    """The trader's own ServiceAccount (and its Role and RoleBinding)."""
    return shorten(f"{owner.name}-trader")


def build_trader_access(owner: Owner) -> list[dict[str, Any]]:
    """The trader's identity: a ServiceAccount allowed to read its own session,
    patch its own session's status and hold its own Lease, nothing else.

    One per session because RBAC scopes by resource name only within a Role: with
    the workload pods' shared account, one session's trader could rewrite another
    session's status (equity, positions, breaches). Lease creation cannot be
    narrowed by name (the API checks `create` before a name exists).
    """
    name = account_name(owner)
    rules = [
        {
            "apiGroups": [GROUP],
            "resources": ["tradingsessions"],
            "resourceNames": [owner.name],
            "verbs": ["get"],
        },
        {
            "apiGroups": [GROUP],
            "resources": ["tradingsessions/status"],
            "resourceNames": [owner.name],
            "verbs": ["patch"],
        },
        {
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "resourceNames": [lease_name(owner)],
            "verbs": ["get", "patch"],
        },
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
    ]
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": metadata(owner, name, COMPONENT),
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": metadata(owner, name, COMPONENT),
            "rules": rules,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": metadata(owner, name, COMPONENT),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": owner.namespace}],
        },
    ]


def build_trading_children(
    owner: Owner,
    spec: TradingSessionSpec,
    model_uri: str,
    dataset_uri: str | None,
    settings: OperatorSettings,
    replicas: int,
) -> list[dict[str, Any]]:
    """The trader's ConfigMap (per revision) and its Deployment (Recreate, ≤ 1 replica)."""
    rev = trader_revision(spec)
    cm_name = child_name(owner, COMPONENT, rev)
    trading = TradingConfig.model_validate(spec.model_dump(include=set(TradingConfig.model_fields)))
    config = TradeJob(
        owner=owner_ref(owner),
        model_uri=model_uri,
        dataset_uri=dataset_uri,
        # The UID keeps a re-created session of the same name from finding (and
        # resuming) the client order ids and store rows of the one deleted.
        session_id=f"{owner.namespace}/{owner.name}/{owner.uid}",
        trading=trading,
        state_dir=STATE_DIR,
        metrics_port=METRICS_PORT,
    )
    secret = spec.credentials_secret_ref.name if spec.credentials_secret_ref else None
    pod = pod_spec(
        owner,
        cm_name,
        COMPONENT,
        spec.template,
        settings,
        credentials_secret=secret,
        restart_policy="Always",
    )
    _add_trader_parts(pod, owner, trading)
    # A template's own account wins (its owner grants it what the trader needs).
    pod["serviceAccountName"] = spec.template.service_account_name or account_name(owner)
    selector = {
        "app.kubernetes.io/instance": shorten(owner.name),
        "app.kubernetes.io/component": COMPONENT,
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(owner, deployment_name(owner), COMPONENT, rev),
        "spec": {
            "replicas": replicas,
            # Recreate: the old trader is gone before the new one starts; the
            # Lease guards the gap a slow kubelet could leave.
            "strategy": {"type": "Recreate"},
            "selector": {
                "matchLabels": {**selector, "kubetrade.io/tradingsession": shorten(owner.name)}
            },
            "template": {"metadata": {"labels": labels(owner, COMPONENT, rev)}, "spec": pod},
        },
    }
    return [config_map(owner, cm_name, COMPONENT, rev, config), deployment]


def _secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def trader_env(owner: Owner, trading: TradingConfig) -> list[dict[str, Any]]:
    """The Lease to hold and the secrets the trader reads from its environment.

    The operator names Secrets but never reads them: the kubelet resolves the
    references when it starts the pod.
    """
    env = [{"name": "KUBETRADE_LEASE", "value": lease_name(owner)}]
    store, alerts = trading.store, trading.alerts
    if store.url_secret_ref:
        env.append(_secret_env("KUBETRADE_STORE_URL", store.url_secret_ref.name, "url"))
    if store.redis_secret_ref:
        env.append(_secret_env("KUBETRADE_REDIS_URL", store.redis_secret_ref.name, "url"))
    if alerts.slack:
        env.append(
            _secret_env("KUBETRADE_SLACK_WEBHOOK_URL", alerts.slack.webhook_secret_ref.name, "url")
        )
    if alerts.email and alerts.email.credentials_secret_ref:
        smtp = alerts.email.credentials_secret_ref.name
        env.append(_secret_env("KUBETRADE_SMTP_USERNAME", smtp, "username"))
        env.append(_secret_env("KUBETRADE_SMTP_PASSWORD", smtp, "password"))
    return env


def _add_trader_parts(pod: dict[str, Any], owner: Owner, trading: TradingConfig) -> None:
    """Environment, the metrics port and the state volume the trade store lives on."""
    container = pod["containers"][0]
    container["env"].extend(trader_env(owner, trading))
    container["ports"] = [{"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"}]
    container["volumeMounts"].append({"name": "state", "mountPath": STATE_DIR})
    claim = trading.store.state_claim_name
    source: dict[str, Any] = (
        {"persistentVolumeClaim": {"claimName": claim}} if claim else {"emptyDir": {}}
    )
    pod["volumes"].append({"name": "state", **source})


def flattening_for(status: Mapping[str, Any], now: dt.datetime) -> float:
    """Seconds since the operator asked the trader to flatten (0 when it has not)."""
    cond = find(status.get("conditions"), "Suspended")
    if cond is None or cond.get("reason") != "Flattening":
        return 0.0
    since = dt.datetime.fromisoformat(str(cond["lastTransitionTime"]).replace("Z", "+00:00"))
    return (now - since).total_seconds()


def session_state(
    spec: TradingSessionSpec,
    status: Mapping[str, Any],
    deployment: Mapping[str, Any] | None,
    now: dt.datetime,
) -> tuple[Phase, list[Cond], int]:
    """Phase, conditions and the replicas the Deployment should have.

    Suspending is two steps: the trader (watching its own spec) flattens and
    reports `flat`, then the operator scales it to zero; a trader that never
    reports is scaled down after FLATTEN_GRACE_SECONDS with a loud reason.
    """
    trading = status.get("trading") or {}
    available = int(((deployment or {}).get("status") or {}).get("availableReplicas") or 0)
    state = trading.get("tradingState")
    breached = Cond(
        "RiskBreached", TRUE if state in HALTING else FALSE, f"Trader{(state or 'Unknown').title()}"
    )
    reconciled = trading.get("reconciled")
    message = str(trading.get("reconcileMessage") or "")
    if reconciled is None:
        recon = Cond("Reconciled", UNKNOWN, "NotReported", message)
    elif reconciled:
        recon = Cond("Reconciled", TRUE, "PositionsMatch", message)
    else:
        recon = Cond("Reconciled", FALSE, "PositionsMismatch", message)
    if spec.suspend:
        ready = Cond("Ready", FALSE, "Suspended", "spec.suspend is true: the trader is stopped")
        if bool(trading.get("flat")) or available == 0:
            suspended = Cond(
                "Suspended", TRUE, "Flattened", "positions flattened, trader scaled to zero"
            )
            return Phase.SUSPENDED, [ready, breached, recon, suspended], 0
        if flattening_for(status, now) > FLATTEN_GRACE_SECONDS:
            message = "the trader did not report flat positions in time: scaled to zero, positions may remain open"
            suspended = Cond("Suspended", TRUE, "FlattenTimedOut", message)
            return Phase.SUSPENDED, [ready, breached, recon, suspended], 0
        suspended = Cond("Suspended", FALSE, "Flattening", "the trader is closing every position")
        return Phase.SUSPENDING, [ready, breached, recon, suspended], 1
    suspended = Cond("Suspended", FALSE, "NotSuspended")
    if trading.get("error"):
        # Refused keys or an unloadable model: the pod restarts with backoff, and
        # its first report once it trades clears the error.
        ready = Cond("Ready", FALSE, "TraderError", str(trading["error"]))
        return Phase.FAILED, [ready, breached, recon, suspended], 1
    if available < 1:
        ready = Cond(
            "Ready", FALSE, "TraderStarting", "waiting for the trader pod to become available"
        )
        return Phase.PENDING, [ready, breached, recon, suspended], 1
    if state == "HALTED" or reconciled is False:
        ready = Cond(
            "Ready", FALSE, "TraderHalted", recon.message or "the risk manager halted trading"
        )
        return Phase.HALTED, [ready, breached, recon, suspended], 1
    return (
        Phase.RUNNING,
        [Cond("Ready", TRUE, "TraderRunning", "the trader is trading"), breached, recon, suspended],
        1,
    )


def model_blocker(model: Mapping[str, Any] | None, name: str) -> Cond | None:
    """Why the session cannot start trading its Model yet."""
    if model is None:
        return Cond("Ready", UNKNOWN, "ModelNotFound", f"Model {name!r} does not exist")
    phase = (model.get("status") or {}).get("phase")
    if phase != Phase.READY.value:
        return Cond(
            "Ready",
            FALSE,
            "ModelNotReady",
            f"Model {name!r} is {phase or 'not evaluated'}, not Ready",
        )
    return None
