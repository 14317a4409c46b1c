"""Dataset: collect bars, clean them, engineer features, split, publish."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from kubetrade_workloads.config import DataConfig, SecretRef

from .common import ArtifactUri, CommonStatus, JobPolicy, PodTemplate, Schedule, ScheduleStatus


class DatasetSpec(DataConfig):
    """A Dataset is its data config plus where to publish it and how its Job runs."""

    storage_uri: ArtifactUri | None = None
    """file:// or s3:// URI to publish to; the operator's artifact root when unset."""
    credentials_secret_ref: SecretRef | None = None
    """Secret with the data source's API keys, mounted into the pod."""
    suspend: bool = False
    rolling_window_days: Annotated[int, Field(ge=1, le=36500)] | None = None
    """For a requested run (a schedule's, say): read `source` over this many days
    ending on the run's day instead of `source.start`/`source.end`."""
    schedule: Schedule | None = None
    """Refresh on a cron schedule: each due time builds the dataset again, over a
    window that rolls with it, into a new location."""
    template: PodTemplate = PodTemplate()
    job: JobPolicy = JobPolicy()


class DatasetStatus(CommonStatus, ScheduleStatus):
    rows: int | None = None
    symbols: list[str] | None = None
    features: int | None = None
    manifest_uri: str | None = None
    checksum: str | None = None
    """sha256 of the manifest: what Models record as their dataset lineage."""
    quality: dict[str, float] | None = None
    """Counts and ratios from cleaning and validation."""
