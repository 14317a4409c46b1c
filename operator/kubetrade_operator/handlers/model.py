"""Model → evaluation Job once its Dataset succeeded and its TrainingRun (when it names
one) published it; gates decide Ready or Rejected."""

from __future__ import annotations

from typing import Any

import kopf

from ..api import GROUP, MODEL, VERSION, ModelSpec
from ..api.common import Phase
from ..builders.common import Owner
from ..builders.dataset import manifest_uri
from ..builders.job_status import JobOutcome, bounded_status, dataset_blocker, training_blocker
from ..builders.model import (
    build_evaluation_children,
    checksum_mismatch,
    job_name,
    not_ready,
    promotion,
    trained_checksum,
)
from ..builders.training_run import TRAINING_JOB_ANNOTATION
from ..builders.versions import record_version
from ..conditions import merge, now
from ..settings import get_settings
from .indexes import latest, snapshot
from .job_owner import follow_job, going, outdated, parse, reconciling, write_status

KIND = MODEL.kind
EVALUATED = "Evaluated"


@kopf.on.event(GROUP, VERSION, MODEL.plural)
async def model_event(*, event: kopf.RawEvent, body: kopf.Body, **kwargs: Any) -> None:
    """Reconcile a Model on every change of it."""
    if going(event, body):
        return
    await reconcile(snapshot(body), kwargs)


async def reconcile(body: dict[str, Any], indexes: dict[str, Any]) -> None:
    """Evaluate this revision of the model and judge it by the spec's gates."""
    async with reconciling(KIND, body) as status:
        if outdated(body, status):
            return  # a newer generation was reconciled meanwhile
        owner = Owner.from_body(KIND, body)
        spec = parse(ModelSpec, body)
        if isinstance(spec, JobOutcome):
            return await _write(owner, status, status.get("jobName") or "", spec, None)
        dataset = latest(indexes["datasets"], (owner.namespace, spec.dataset_ref.name))
        blocked = dataset_blocker(dataset, spec.dataset_ref.name)
        if blocked is not None or dataset is None:
            if not status.get("jobName"):
                return await _write(
                    owner, status, "", blocked or JobOutcome(Phase.PENDING, "", ""), None
                )
            if dataset is None:
                return
        if spec.training_run_ref is not None and not status.get("jobName"):
            run_name = spec.training_run_ref.name
            run = latest(indexes["trainingruns"], (owner.namespace, run_name))
            if (untrained := training_blocker(run, run_name)) is not None:
                return await _write(owner, status, "", untrained, None)
        settings = get_settings()
        name = job_name(owner, spec)
        trained = trained_checksum(body["metadata"].get("annotations") or {}, status, name)
        # Judged only before this revision's Job: an evaluation that ran on the data the
        # model was trained on stays true when the Dataset is republished later.
        mismatch = (
            None
            if status.get("jobName") == name
            else (checksum_mismatch(trained, dataset, spec.dataset_ref.name))
        )
        if mismatch is not None:  # no evaluation on data the model was not trained on
            job = status.get("jobName") or ""
            return await _write(owner, status, job, mismatch, None, spec, trained=trained)
        followed = await follow_job(
            KIND,
            owner,
            status,
            name,
            lambda: build_evaluation_children(
                owner, spec, manifest_uri(dataset, settings), settings
            ),
            spec.suspend,
            indexes,
        )
        if followed is not None:
            outcome, failure, restarts = followed
            trainer = (body["metadata"].get("annotations") or {}).get(TRAINING_JOB_ANNOTATION)
            await _write(
                owner, status, name, outcome, failure, spec, restarts, trained=trained, by=trainer
            )


async def _write(
    owner: Owner,
    status: dict[str, Any],
    job: str,
    outcome: JobOutcome,
    failure: str | None,
    spec: ModelSpec | None = None,
    restarts: int | None = None,
    *,
    trained: str | None = None,
    by: str | None = None,
) -> None:
    desired = bounded_status(status, owner.generation, job, outcome, failure, success=EVALUATED)
    if trained is not None or job != status.get("jobName"):
        desired["datasetChecksum"] = trained  # a new Job: the last revision's value is stale
    if job != status.get("jobName"):
        # The pod merge-patches its fields, so an evaluation with no folds would leave
        # the last revision's label standing, and minFoldSharpe would pass on its metrics.
        desired["foldMetricsSample"] = None
        desired["reportUri"] = None  # and the last revision's report is not this one's
    if restarts is not None:
        desired["restarts"] = restarts
    verdict = Phase.EVALUATING
    if outcome.phase == Phase.SUCCEEDED and spec is not None:
        verdict, ready, gates = promotion(spec, status)
        desired.update(phase=verdict.value, message=ready.message, gates=gates)
    elif outcome.phase == Phase.RUNNING:
        desired["phase"] = Phase.EVALUATING.value
        ready = not_ready("Evaluating", "the evaluation Job is running")
    else:
        verdict = Phase.FAILED if outcome.phase == Phase.FAILED else Phase.EVALUATING
        ready = not_ready(outcome.reason, outcome.message)
    if spec is not None:
        desired.update(
            record_version(
                status,
                spec,
                training_job=by,
                phase=verdict,
                now=now(),
                dataset_checksum=trained,
                gates_passed=verdict == Phase.READY,
            )
        )
    desired["conditions"] = merge(desired["conditions"], [ready], owner.generation)
    await write_status(KIND, owner, status, desired)
