"""Dataset → a ConfigMap with the data config and the Job that builds the dataset."""

from __future__ import annotations

from typing import Any

from kubetrade_workloads.config import DataConfig, DataJob, OwnerRef

from ..api import API_VERSION, DatasetSpec
from ..settings import OperatorSettings
from .common import Owner, child_name, config_map, labels, metadata, pod_spec, revision

COMPONENT = "data"


def storage_uri(owner: Owner, spec: DatasetSpec, settings: OperatorSettings) -> str:
    """Where this revision of the dataset is published."""
    if spec.storage_uri:
        return spec.storage_uri
    root = settings.artifact_root.rstrip("/")
    return f"{root}/{owner.namespace}/datasets/{owner.name}/{revision(spec)}"


def job_name(owner: Owner, spec: DatasetSpec) -> str:
    """The deterministic name of the Job (and its ConfigMap) for this spec."""
    return child_name(owner, COMPONENT, revision(spec))


def data_job_config(owner: Owner, spec: DatasetSpec, settings: OperatorSettings) -> DataJob:
    """The workload config the data pod reads."""
    data = DataConfig.model_validate(spec.model_dump(include=set(DataConfig.model_fields)))
    return DataJob(
        owner=OwnerRef(
            api_version=API_VERSION,
            kind=owner.kind,
            name=owner.name,
            namespace=owner.namespace,
            uid=owner.uid,
        ),
        output_uri=storage_uri(owner, spec, settings),
        data=data,
    )


def build_dataset_children(
    owner: Owner, spec: DatasetSpec, settings: OperatorSettings
) -> list[dict[str, Any]]:
    """The ConfigMap and the Job, in the order they must be created."""
    rev = revision(spec)
    name = child_name(owner, COMPONENT, rev)
    cm = config_map(owner, name, COMPONENT, rev, data_job_config(owner, spec, settings))
    job_spec: dict[str, Any] = {
        "backoffLimit": spec.job.backoff_limit,
        "suspend": spec.suspend,
        "template": {
            "metadata": {"labels": labels(owner, COMPONENT, rev)},
            "spec": pod_spec(
                owner,
                name,
                COMPONENT,
                spec.template,
                settings,
                credentials_secret=spec.credentials_secret_ref.name
                if spec.credentials_secret_ref
                else None,
            ),
        },
    }
    if spec.job.active_deadline_seconds is not None:
        job_spec["activeDeadlineSeconds"] = spec.job.active_deadline_seconds
    if spec.job.ttl_seconds_after_finished is not None:
        job_spec["ttlSecondsAfterFinished"] = spec.job.ttl_seconds_after_finished
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata(owner, name, COMPONENT, rev),
        "spec": job_spec,
    }
    return [cm, job]
