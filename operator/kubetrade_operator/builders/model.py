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
from .job_status import JobOutcome

COMPONENT = "evaluate"
CHECKSUM_ANNOTATION = "kubetrade.io/dataset-checksum"
"""Set by the TrainingRun that made the Model: its Dataset's checksum when it succeeded."""
NOT_EVALUATED = frozenset({"suspend", "versionHistoryLimit"})
"""Spec fields whose edits do not call for a new evaluation."""


def job_name(owner: Owner, spec: ModelSpec) -> str:
    """The deterministic name of the evaluation Job for this spec."""
    return child_name(owner, COMPONENT, revision(spec, ignore=NOT_EVALUATED))


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
        output_uri=f"{spec.artifact_uri.rstrip('/')}/evaluation/{revision(spec, ignore=NOT_EVALUATED)}",
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
    results = evaluate(
        spec.gates,
        metrics,
        status.get("benchmarkMetrics") or {},
        status.get("foldMetricsSample"),
    )
    gates = [{"name": r.name, "passed": r.passed, "message": r.message} for r in results]
    failed = [r for r in results if not r.passed]
    if failed:
        message = "; ".join(r.message for r in failed)
        return Phase.REJECTED, Cond("Ready", FALSE, "GatesFailed", message), gates
    return Phase.READY, Cond("Ready", TRUE, "GatesPassed", f"{len(results)} gate(s) passed"), gates


def not_ready(reason: str, message: str) -> Cond:
    """Ready while there is no verdict yet."""
    return Cond("Ready", UNKNOWN, reason, message)


def trained_checksum(
    annotations: Mapping[str, str], status: Mapping[str, Any], job: str
) -> str | None:
    """The checksum of the Dataset the model was trained on: the model card's, as this
    revision's evaluation reported it, else the TrainingRun's record. A value reported
    for an earlier revision's Job is stale (the model may have been retrained since)."""
    reported = status.get("datasetChecksum") if status.get("jobName") == job else None
    return reported or annotations.get(CHECKSUM_ANNOTATION) or None


def checksum_mismatch(
    trained: str | None, dataset: Mapping[str, Any] | None, name: str
) -> JobOutcome | None:
    """Failed when the Dataset no longer has the checksum the model was trained on:
    it was republished, and evaluating on it could score the model on its training bars."""
    current = ((dataset or {}).get("status") or {}).get("checksum")
    if not trained or not current or trained == current:
        return None
    return JobOutcome(
        Phase.FAILED,
        "DatasetChecksumMismatch",
        f"Dataset {name!r} has checksum {current} but the model card records {trained}: "
        "the Dataset was republished after the model was trained; retrain the model on it, "
        "or point datasetRef at the Dataset it was trained on",
    )
