"""TrainingRun → the training Job, and on success the Model it names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubetrade_workloads.config import EvaluationConfig, TrainingConfig, TrainJob

from ..api import API_VERSION, TrainingRunSpec
from ..settings import OperatorSettings
from .common import (
    Owner,
    artifact_uri,
    child_name,
    job_children,
    owner_ref,
    revision,
    run_revision,
    shorten,
)
from .distributed import build_distributed_children
from .tuning import build_tuning_children

COMPONENT = "train"


def model_name(owner: Owner, spec: TrainingRunSpec) -> str:
    """The Model the run publishes: `spec.modelName`, else the run's own name."""
    return spec.model_name or owner.name


TRAINING_JOB_ANNOTATION = "kubetrade.io/training-job"
"""On a Model: the training Job whose policy it holds."""


def published_by(model: Mapping[str, Any] | None) -> str | None:
    """The training Job whose policy a Model holds (None: no such Model yet)."""
    if model is None:
        return None
    return str((model["metadata"].get("annotations") or {}).get(TRAINING_JOB_ANNOTATION) or "")


def output_uri(
    owner: Owner, spec: TrainingRunSpec, settings: OperatorSettings, run: str | None = None
) -> str:
    """Where this revision's policy, checkpoints and logs go: `<run>-<revision>`, plus
    `-<stamp>` for a requested run, so each retrain is a Model version of its own.

    Under `spec.artifactUri` too: a fixed folder would be overwritten by the next
    revision, replacing a version sessions may trade with a policy no gate judged."""
    folder = f"{owner.name}-{run_revision(revision(spec), run)}"
    if spec.artifact_uri:
        return f"{spec.artifact_uri.rstrip('/')}/{folder}"
    return artifact_uri(settings, owner.namespace, "models", model_name(owner, spec), folder)


def job_name(owner: Owner, spec: TrainingRunSpec, run: str | None = None) -> str:
    """The deterministic name of the training Job for this spec and run request."""
    return child_name(owner, COMPONENT, run_revision(revision(spec), run))


def build_training_children(
    owner: Owner,
    spec: TrainingRunSpec,
    dataset_uri: str,
    settings: OperatorSettings,
    run: str | None = None,
) -> list[dict[str, Any]]:
    """The ConfigMap with the TrainJob config and the (GPU, when asked) Job, plus the
    headless Service of a distributed run; `run` is the stamp of the newest run
    request, if any."""
    training = TrainingConfig.model_validate(
        spec.model_dump(include=set(TrainingConfig.model_fields))
    )
    config = TrainJob(
        owner=owner_ref(owner),
        dataset_uri=dataset_uri,
        output_uri=output_uri(owner, spec, settings, run),
        resume_from=spec.resume_from,
        training=training,
    )
    if spec.search is not None:
        # A search runs the same way, as an Indexed Job of tuning workers.
        return build_tuning_children(owner, spec, config, settings, COMPONENT, run)
    children = job_children(
        owner,
        COMPONENT,
        spec,
        config,
        template=spec.template,
        policy=spec.job,
        suspend=spec.suspend,
        settings=settings,
        run=run,
    )
    if spec.distributed is not None:
        config_map, job = children
        return build_distributed_children(owner, config_map, job, spec.distributed)
    return children


def build_model(
    owner: Owner,
    spec: TrainingRunSpec,
    settings: OperatorSettings,
    dataset_checksum: str | None,
    run: str | None = None,
) -> dict[str, Any]:
    """The Model a successful run creates or updates, with lineage labels.

    No ownerReference: deleting a finished run must not delete the model that
    came out of it (and may be trading).
    """
    labels = {
        "app.kubernetes.io/managed-by": "kubetrade",
        "kubetrade.io/trainingrun": shorten(owner.name),
        "kubetrade.io/dataset": shorten(spec.dataset_ref.name),
    }
    annotations = {TRAINING_JOB_ANNOTATION: job_name(owner, spec, run)}
    if dataset_checksum:
        annotations["kubetrade.io/dataset-checksum"] = dataset_checksum
    evaluation = (spec.evaluation or EvaluationConfig()).to_wire()
    return {
        "apiVersion": API_VERSION,
        "kind": "Model",
        "metadata": {
            "name": model_name(owner, spec),
            "namespace": owner.namespace,
            "labels": labels,
            "annotations": annotations,
        },
        "spec": {
            **evaluation,
            "artifactUri": output_uri(owner, spec, settings, run),
            "datasetRef": {"name": spec.dataset_ref.name},
            "trainingRunRef": {"name": owner.name},
        },
    }


POD_REPORTED = ("progress", "search", "metrics", "checkpointUri")
"""What a run's pods write on its status (merge patches), not the operator."""


def new_run_reset(status: Mapping[str, Any], job_name: str) -> dict[str, Any]:
    """The last run's pod-reported fields set to None (merge-patch: removed) when
    `job_name` replaces the Job `status` names (a spec edit's revision, a requested
    run); else nothing.

    The pods merge-patch these fields, so the last run's progress, metrics and
    search counts (its `bestParams` keys too, which a new space never overwrites)
    would stand until, or mix into, the new run's first report; and for ever when
    the new revision reports no such field (a search dropped). Written once, with
    the new `jobName`.
    """
    previous = status.get("jobName")
    if not previous or previous == job_name:
        return {}
    return {field: None for field in POD_REPORTED if field in status}
