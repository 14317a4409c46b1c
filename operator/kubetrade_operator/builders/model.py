"""Model → the evaluation Job; its metrics and the spec's gates → Ready or Rejected."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubetrade_workloads.config import EvalJob, EvaluationConfig
from kubetrade_workloads.evaluation.gates import evaluate

from ..api import ModelSpec
from ..api.common import Phase
from ..conditions import FALSE, TRUE, UNKNOWN, Cond
from ..settings import OperatorSettings
from .common import Owner, child_name, job_children, owner_ref, revision

COMPONENT = "evaluate"


def job_name(owner: Owner, spec: ModelSpec) -> str:
    """The deterministic name of the evaluation Job for this spec."""
    return child_name(owner, COMPONENT, revision(spec))


def build_evaluation_children(
    owner: Owner, spec: ModelSpec, dataset_uri: str, settings: OperatorSettings
) -> list[dict[str, Any]]:
    """The ConfigMap with the EvalJob config and the Job that backtests the model."""
    evaluation = EvaluationConfig.model_validate(
        spec.model_dump(include=set(EvaluationConfig.model_fields))
    )
    config = EvalJob(
        owner=owner_ref(owner),
        dataset_uri=dataset_uri,
        model_uri=spec.artifact_uri,
        output_uri=f"{spec.artifact_uri.rstrip('/')}/evaluation/{revision(spec)}",
        evaluation=evaluation,
    )
    return job_children(
        owner,
        COMPONENT,
        spec,
        config,
        template=spec.template,
        policy=spec.job,
        suspend=spec.suspend,
        settings=settings,
    )


def promotion(
    spec: ModelSpec, status: Mapping[str, Any]
) -> tuple[Phase, Cond, list[dict[str, Any]]]:
    """After a successful evaluation: the phase, the Ready condition and gate results."""
    metrics = status.get("metrics")
    if not metrics:
        return (
            Phase.REJECTED,
            Cond("Ready", FALSE, "NoMetrics", "the evaluation reported no metrics"),
            [],
        )
    results = evaluate(spec.gates, metrics, status.get("benchmarkMetrics") or {})
    gates = [{"name": r.name, "passed": r.passed, "message": r.message} for r in results]
    failed = [r for r in results if not r.passed]
    if failed:
        message = "; ".join(r.message for r in failed)
        return Phase.REJECTED, Cond("Ready", FALSE, "GatesFailed", message), gates
    return Phase.READY, Cond("Ready", TRUE, "GatesPassed", f"{len(results)} gate(s) passed"), gates


def not_ready(reason: str, message: str) -> Cond:
    """Ready while there is no verdict yet."""
    return Cond("Ready", UNKNOWN, reason, message)
