"""The environment that points a workload pod's s3fs at the configured object store.

s3fs (through botocore) reads the standard AWS variables, so pods need no kubetrade
setting of their own: AWS_ENDPOINT_URL for an S3-compatible server, AWS_DEFAULT_REGION,
and the keys from a Secret by reference, never by value in the pod spec.
"""

from __future__ import annotations

from typing import Any

from ..settings import OperatorSettings


def s3_env(settings: OperatorSettings) -> list[dict[str, Any]]:
    """The pod env for S3 artifacts: empty when no S3 setting is made.

    Set whatever the artifact root is: a resource may name its own s3:// URI.
    """
    env: list[dict[str, Any]] = []
    if settings.artifact_s3_secret:
        for name, key in (
            ("AWS_ACCESS_KEY_ID", settings.artifact_s3_access_key_key),
            ("AWS_SECRET_ACCESS_KEY", settings.artifact_s3_secret_key_key),
        ):
            ref = {"name": settings.artifact_s3_secret, "key": key}
            env.append({"name": name, "valueFrom": {"secretKeyRef": ref}})
    if settings.artifact_s3_endpoint:
        env.append({"name": "AWS_ENDPOINT_URL", "value": settings.artifact_s3_endpoint})
    if settings.artifact_s3_region:
        env.append({"name": "AWS_DEFAULT_REGION", "value": settings.artifact_s3_region})
    return env
