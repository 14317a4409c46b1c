"""Dataset: collect bars, clean them, engineer features, split, publish."""

from __future__ import annotations

from kubetrade_workloads.config import DataConfig, SecretRef

from .common import ArtifactUri, CommonStatus, JobPolicy, PodTemplate


class DatasetSpec(DataConfig):
    """A Dataset is its data config plus where to publish it and how its Job runs."""

    storage_uri: ArtifactUri | None = None
    """file:// or s3:// URI to publish to; the operator's artifact root when unset."""
    credentials_secret_ref: SecretRef | None = None
    """Secret with the data source's API keys, mounted into the pod."""
    suspend: bool = False
    template: PodTemplate = PodTemplate()
    job: JobPolicy = JobPolicy()


class DatasetStatus(CommonStatus):
    rows: int | None = None
    symbols: list[str] | None = None
    features: int | None = None
    manifest_uri: str | None = None
    checksum: str | None = None
    """sha256 of the manifest: what Models record as their dataset lineage."""
    quality: dict[str, float] | None = None
    """Counts and ratios from cleaning and validation."""
