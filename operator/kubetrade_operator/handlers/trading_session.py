"""TradingSession → one trader Deployment once its Model is Ready; the trader's
reports → phase, conditions and Events."""

from __future__ import annotations

import datetime as dt
from typing import Any

import kopf

from .. import kube, metrics
from ..api import GROUP, TRADING_SESSION, VERSION, TradingSessionSpec
from ..api.common import Phase
from ..builders.common import Owner, shorten
from ..builders.dataset import manifest_uri
from ..builders.job_status import JobOutcome
from ..builders.promotion import ModelPlan, breach_start, plan_models
from ..builders.trading_session import (
    build_trader_access,
    build_trading_children,
    deployment_name,
    model_blocker,
    session_state,
    trader_revision,
)
from ..conditions import FALSE, TRUE, UNKNOWN, Cond, find, merge, now
from ..pods import PodsReport, report
from ..settings import get_settings
from .drift import watch_drift
from .indexes import latest, pod_warnings, session_pods, snapshot
from .job_owner import going, outdated, parse, reconciling, write_status

KIND = TRADING_SESSION.kind


@kopf.on.event(GROUP, VERSION, TRADING_SESSION.plural)
async def trading_session_event(*, event: kopf.RawEvent, body: kopf.Body, **kwargs: Any) -> None:
    """Reconcile a TradingSession on every change of it."""
    if going(event, body):
        chosen = (body.status.get("model") or {}).get("name")
        if chosen:  # no series left behind for a session that is gone
            metrics.forget_session(body.metadata["namespace"], body.metadata["name"], chosen)
        return  # garbage collection removes the Deployment; the trader stops
    await reconcile(snapshot(body), kwargs)


async def reconcile(body: dict[str, Any], indexes: dict[str, Any]) -> None:
    """Wait for a Ready Model, keep one trader at this revision, mirror its state."""
    async with reconciling(KIND, body) as status:
        if outdated(body, status):
            return  # a newer generation was reconciled meanwhile
        owner = Owner.from_body(KIND, body)
        spec = parse(TradingSessionSpec, body)
        if isinstance(spec, JobOutcome):
            return await _waiting(owner, status, Cond("Ready", FALSE, spec.reason, spec.message))
        if spec.suspend and not status.get("deploymentName"):
            # Never started, so nothing to flatten: Suspended whatever its Model's state
            # (it read Pending while the Model was not Ready; Argo CD showed Progressing).
            message = "spec.suspend is true: no trader was started"
            return await _waiting(
                owner,
                status,
                Cond("Ready", FALSE, "Suspended", message),
                Cond("Suspended", TRUE, "NeverStarted", message),
            )
        model = latest(indexes["models"], (owner.namespace, spec.model_ref.name))
        if model is None:
            missing = model_blocker(model, spec.model_ref.name)
            return await _waiting(owner, status, missing or Cond("Ready", UNKNOWN, "ModelNotFound"))
        plan = plan_models(spec, model, status, now(), breach_start(status.get("conditions")))
        if plan.model is None and not status.get("deploymentName"):
            blocked = model_blocker(model, spec.model_ref.name) or Cond(
                "Ready", FALSE, plan.condition.reason, plan.condition.message
            )
            return await _waiting(owner, status, blocked)
        settings = get_settings()
        dataset = latest(
            indexes["datasets"], (owner.namespace, model["spec"]["datasetRef"]["name"])
        )
        name = deployment_name(owner)
        deployment = latest(indexes["kubetrade_deployments"], (owner.namespace, name))
        phase, conds, replicas = session_state(spec, status, deployment, dt.datetime.now(dt.UTC))
        live = (plan.model or {}).get("artifactUri") or model["spec"]["artifactUri"]
        await _ensure_trader(owner, spec, live, dataset, deployment, replicas, settings)
        heartbeat = (status.get("trading") or {}).get("heartbeat")
        pods = report(
            session_pods(indexes, owner.namespace, shorten(owner.name)),
            long_running=True,
            reported=heartbeat,
            warnings=pod_warnings,
        )
        if replicas:
            phase, conds = with_pod_trouble(phase, conds, pods)
        desired = {
            "observedGeneration": owner.generation,
            "phase": phase.value,
            "deploymentName": name,
            "message": conds[0].message,
            "conditions": merge(
                status.get("conditions"), [*conds, plan.condition], owner.generation
            ),
            "restarts": pods.restarts,
            **plan.status(),
        }
        desired |= await watch_drift(body, spec, status, model, desired)
        _announce_breach(body, status, conds)
        _announce_models(body, plan)
        await write_status(KIND, owner, status, desired)


# Phases a trader's pod can contradict: the Deployment's count of available
# replicas saw a container that runs, not one that stays up. A trader that
# reported an error of its own (Failed) says more than its pod does.
CONTRADICTED = frozenset({Phase.PENDING, Phase.RUNNING, Phase.HALTED})


def with_pod_trouble(phase: Phase, conds: list[Cond], pods: PodsReport) -> tuple[Phase, list[Cond]]:
    """The session's phase and conditions, with its trader pod's reason for not
    running (a missing Secret, a crash loop, an image that cannot be pulled, no
    node that fits, a trader not reported since it started) as the Ready
    condition: never Ready while the pod says otherwise."""
    trouble = pods.trouble
    if trouble is None or phase not in CONTRADICTED:
        return phase, conds
    ready = Cond("Ready", FALSE, trouble.reason, trouble.message)
    rest = [c for c in conds if c.type != "Ready"]
    return (Phase.FAILED if trouble.crashing else Phase.PENDING), [ready, *rest]


async def _ensure_trader(
    owner: Owner,
    spec: TradingSessionSpec,
    model_uri: str,
    dataset: dict[str, Any] | None,
    deployment: dict[str, Any] | None,
    replicas: int,
    settings: Any,
) -> None:
    """Create the ConfigMap; apply the Deployment when its revision or scale differ."""
    rev = trader_revision(spec)
    if deployment is not None:
        labels = deployment["metadata"]["labels"]
        if (
            labels.get("kubetrade.io/revision") == rev
            and deployment["spec"].get("replicas") == replicas
        ):
            return
    dataset_uri = manifest_uri(dataset, settings) if dataset else None
    # The ConfigMap names the live version at the time it was made; a trader started
    # later reads `status.model` first, so a promotion since then is not undone.
    cm, manifest = build_trading_children(owner, spec, model_uri, dataset_uri, settings, replicas)
    if await kube.ensure(cm):
        metrics.CHILDREN_CREATED.labels(KIND, "ConfigMap").inc()
    if not spec.template.service_account_name:
        for access in build_trader_access(owner):
            await kube.apply(access)
    await kube.apply(manifest)


def _announce_breach(body: dict[str, Any], status: dict[str, Any], conds: list[Cond]) -> None:
    """A Kubernetes Event when the risk manager starts reducing or halts."""
    breach = next(c for c in conds if c.type == "RiskBreached")
    before = find(status.get("conditions"), "RiskBreached")
    if breach.status == "True" and (before is None or before.get("status") != "True"):
        trading = status.get("trading") or {}
        kopf.warn(
            kopf.Body(body),  # type: ignore[arg-type]  # a snapshot is a raw body
            reason="RiskBreached",
            message=f"trading state {trading.get('tradingState')}",
        )


def _announce_models(body: dict[str, Any], plan: ModelPlan) -> None:
    """An Event and a count for each change of the live version or the challenger,
    and the versions as gauges for dashboards."""
    meta = body["metadata"]
    if plan.model is not None:
        labels = (meta["namespace"], meta["name"], plan.model["name"])
        metrics.LIVE_VERSION.labels(*labels).set(plan.model.get("version") or 0)
        metrics.CHALLENGER_VERSION.labels(*labels).set((plan.challenger or {}).get("version") or 0)
    for event in plan.events:
        metrics.MODEL_CHANGES.labels(event.reason).inc()
        kopf.event(
            kopf.Body(body),  # type: ignore[arg-type]  # a snapshot is a raw body
            type=event.type,
            reason=event.reason,
            message=event.message,
        )


NOT_SUSPENDED = Cond("Suspended", FALSE, "NotSuspended")


async def _waiting(
    owner: Owner,
    status: dict[str, Any],
    ready: Cond,
    suspended: Cond = NOT_SUSPENDED,
) -> None:
    """No trader runs: Pending on `ready`'s reason, or Suspended before one started."""
    conds = [
        ready,
        Cond("RiskBreached", UNKNOWN, "NotTrading"),
        Cond("Reconciled", UNKNOWN, "NotTrading"),
        suspended,
    ]
    phase = Phase.SUSPENDED if suspended.status == TRUE else Phase.PENDING
    desired = {
        "observedGeneration": owner.generation,
        "phase": phase.value,
        "message": ready.message,
        "conditions": merge(status.get("conditions"), conds, owner.generation),
    }
    await write_status(KIND, owner, status, desired)
