"""Operator settings, typed and read from the environment (prefix `KUBETRADE_`)."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class OperatorSettings(BaseSettings):
    """What an installation configures; the Helm chart sets these as env vars."""

    model_config = SettingsConfigDict(env_prefix="KUBETRADE_", frozen=True, extra="ignore")

    namespace: str | None = None
    """Watch only this namespace; all namespaces when unset."""
    workload_image: str = "ghcr.io/kubetrade/workload:0.1.0"
    workload_gpu_image: str = "ghcr.io/kubetrade/workload-gpu:0.1.0"
    image_pull_policy: str = "IfNotPresent"
    artifact_root: str = "file:///var/lib/kubetrade/artifacts"
    """Where workloads publish artifacts when a resource names no URI."""
    artifact_pvc: str | None = "kubetrade-artifacts"
    """PersistentVolumeClaim mounted at the artifact root when it is a file:// URI."""
    artifact_s3_endpoint: str | None = None
    """S3 endpoint for s3:// artifacts (MinIO, versitygw, ...); AWS's own when unset."""
    artifact_s3_region: str | None = None
    """S3 region workload pods sign their requests for; botocore's default when unset."""
    artifact_s3_secret: str | None = None
    """Secret, in each workload namespace, with the S3 keys workload pods get; the pods'
    own credentials (an IAM role for the ServiceAccount, say) when unset."""
    artifact_s3_access_key_key: str = "AWS_ACCESS_KEY_ID"
    """The key of `artifact_s3_secret` that holds the access key ID."""
    artifact_s3_secret_key_key: str = "AWS_SECRET_ACCESS_KEY"  # noqa: S105 (a key name)
    """The key of `artifact_s3_secret` that holds the secret access key."""
    workload_service_account: str | None = None
    """ServiceAccount for workload pods (the chart's narrow one); the namespace default when unset."""
    metrics_port: Annotated[int, Field(ge=0, le=65535)] = 8080
    """Prometheus endpoint port; 0 turns it off."""
    max_workers: Annotated[int, Field(ge=1, le=1000)] = 100
    """Resources reconciled concurrently (also the API connections kept open)."""
    worker_idle_seconds: Annotated[float, Field(gt=0.0, le=60.0)] = 0.5
    """How long a resource's worker waits for its next event before it frees its
    slot; kopf's 5 s default caps throughput at max_workers / 5 per second."""


@lru_cache(maxsize=1)
def get_settings() -> OperatorSettings:
    """The process-wide settings, read once."""
    return OperatorSettings()
