"""Dataset → a ConfigMap with the data config and the Job that builds the dataset."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from kubetrade_workloads.config import DataConfig, DataJob

from ..api import DatasetSpec
from ..settings import OperatorSettings
from .common import (
    Owner,
    artifact_uri,
    child_name,
    job_children,
    owner_ref,
    revision,
    run_revision,
)
from .schedule import STAMP_FORMAT, run_for

COMPONENT = "data"


def storage_uri(
    owner: Owner, spec: DatasetSpec, settings: OperatorSettings, run: str | None = None
) -> str:
    """Where this revision of the dataset is published; a requested run (`run`, its
    stamp) publishes beside it, to a location no other run uses."""
    if spec.storage_uri:
        return f"{spec.storage_uri.rstrip('/')}-{run}" if run else spec.storage_uri
    rev = run_revision(revision(spec), run)
    return artifact_uri(settings, owner.namespace, "datasets", owner.name, rev)


def manifest_uri(dataset: Mapping[str, Any], settings: OperatorSettings) -> str:
    """The manifest of a Succeeded Dataset: as its pod reported it, else where it must be."""
    reported = (dataset.get("status") or {}).get("manifestUri")
    if reported:
        return str(reported)
    owner = Owner.from_body("Dataset", dataset)
    spec = DatasetSpec.model_validate(dataset["spec"])
    uri = storage_uri(owner, spec, settings, run_for(dataset, dataset.get("status") or {}))
    return uri.rstrip("/") + "/manifest.json"


def job_name(owner: Owner, spec: DatasetSpec, run: str | None = None) -> str:
    """The deterministic name of the Job (and its ConfigMap) for this spec and run."""
    return child_name(owner, COMPONENT, run_revision(revision(spec), run))


def data_config(spec: DatasetSpec, run: str | None = None) -> DataConfig:
    """The data config the Job runs: the spec's, with the source window rolled to
    end on the requested run's day when `rollingWindowDays` is set."""
    fields = spec.model_dump(include=set(DataConfig.model_fields))
    data = DataConfig.model_validate(fields)
    if run is None or spec.rolling_window_days is None:
        return data
    # The day after the run's (UTC) date: sources read [start, end), so the run's
    # own day is in; a stamp, not today, fixes it, so a re-made Job reads the same.
    end = dt.datetime.strptime(run, STAMP_FORMAT).date() + dt.timedelta(days=1)
    start = end - dt.timedelta(days=spec.rolling_window_days)
    source = data.source.model_copy(update={"start": start, "end": end})
    return DataConfig.model_validate({**data.to_wire(), "source": source.to_wire()})


def build_dataset_children(
    owner: Owner, spec: DatasetSpec, settings: OperatorSettings, run: str | None = None
) -> list[dict[str, Any]]:
    """The ConfigMap and the Job, in the order they must be created (`run`: the
    stamp of the newest run request, if any)."""
    config = DataJob(
        owner=owner_ref(owner),
        output_uri=storage_uri(owner, spec, settings, run),
        data=data_config(spec, run),
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
        run=run,
    )
