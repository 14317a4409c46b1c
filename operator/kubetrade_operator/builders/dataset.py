"""Dataset → a ConfigMap with the data config and the Job that builds the dataset."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubetrade_workloads.config import DataConfig, DataJob

from ..api import DatasetSpec
from ..settings import OperatorSettings
from .common import Owner, artifact_uri, child_name, job_children, owner_ref, revision

COMPONENT = "data"


def storage_uri(owner: Owner, spec: DatasetSpec, settings: OperatorSettings) -> str:
    """Where this revision of the dataset is published."""
    return spec.storage_uri or artifact_uri(
        settings, owner.namespace, "datasets", owner.name, revision(spec)
    )


def manifest_uri(dataset: Mapping[str, Any], settings: OperatorSettings) -> str:
    """The manifest of a Succeeded Dataset: as its pod reported it, else where it must be."""
    reported = (dataset.get("status") or {}).get("manifestUri")
    if reported:
        return str(reported)
    owner = Owner.from_body("Dataset", dataset)
    spec = DatasetSpec.model_validate(dataset["spec"])
    return storage_uri(owner, spec, settings).rstrip("/") + "/manifest.json"


def job_name(owner: Owner, spec: DatasetSpec) -> str:
    """The deterministic name of the Job (and its ConfigMap) for this spec."""
    return child_name(owner, COMPONENT, revision(spec))


def build_dataset_children(
    owner: Owner, spec: DatasetSpec, settings: OperatorSettings
) -> list[dict[str, Any]]:
    """The ConfigMap and the Job, in the order they must be created."""
    data = DataConfig.model_validate(spec.model_dump(include=set(DataConfig.model_fields)))
    config = DataJob(
        owner=owner_ref(owner), output_uri=storage_uri(owner, spec, settings), data=data
    )
    secret = spec.credentials_secret_ref.name if spec.credentials_secret_ref else None
    return job_children(
        owner,
        COMPONENT,
        spec,
        config,
        template=spec.template,
        policy=spec.job,
        suspend=spec.suspend,
        settings=settings,
        credentials_secret=secret,
    )
