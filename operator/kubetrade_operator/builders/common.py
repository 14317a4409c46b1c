"""Pieces every builder shares: names, labels, owner references, the pod shape.

Builders are pure: a spec and settings in, a manifest dict out. Child names are
deterministic, so an operator that restarts mid-reconcile finds what it made
instead of making it twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubetrade_workloads import storage
from kubetrade_workloads.config import OwnerRef
from kubetrade_workloads.config.base import Frozen

from ..api.common import API_VERSION, JobPolicy, PodTemplate, Resources
from ..settings import OperatorSettings
from .object_store import s3_env

CONFIG_DIR = "/etc/kubetrade"
CONFIG_FILE = f"{CONFIG_DIR}/config.json"
CREDENTIALS_DIR = "/etc/kubetrade/credentials"
# The canonical artifact mount; workloads resolve it (see kubetrade_workloads.storage).
ARTIFACTS_DIR = storage.ARTIFACTS_DIR
# Job names become a label value on their pods, so they must fit in 63 characters.
MAX_NAME = 63


@dataclass(frozen=True)
class Owner:
    """The custom resource that owns the children being built."""

    kind: str
    name: str
    namespace: str
    uid: str
    generation: int

    @classmethod
    def from_body(cls, kind: str, body: Mapping[str, Any]) -> Owner:
        """Read the owner's identity from a resource body."""
        meta = body["metadata"]
        return cls(
            kind, meta["name"], meta["namespace"], meta["uid"], int(meta.get("generation", 1))
        )


def child_name(owner: Owner, component: str, rev: str) -> str:
    """`<owner>-<component>-<revision>`, shortened with a hash when too long."""
    return shorten(f"{owner.name}-{component}-{rev}")


def shorten(value: str, limit: int = MAX_NAME) -> str:
    """`value` cut to `limit` characters, with a hash suffix so cut names stay distinct."""
    if len(value) <= limit:
        return value
    digest = hashlib.sha256(value.encode()).hexdigest()[:8]
    return f"{value[: limit - 9].rstrip('-.')}-{digest}"


def revision(spec: Frozen, *, ignore: frozenset[str] = frozenset({"suspend", "schedule"})) -> str:
    """A short hash of the spec fields that decide what a child does.

    Suspending or resuming does not change the revision, so it pauses the same
    Job instead of starting a new one; nor does editing a schedule, which says
    when runs start, not what they do. Any other edit starts a new revision.
    """
    wire = {k: v for k, v in spec.to_wire().items() if k not in ignore}
    return hashlib.sha256(json.dumps(wire, sort_keys=True).encode()).hexdigest()[:8]


def run_revision(rev: str, run: str | None) -> str:
    """A revision, with the stamp of a requested run when there is one."""
    return f"{rev}-{run}" if run else rev


def labels(owner: Owner, component: str, rev: str | None = None) -> dict[str, str]:
    """Recommended app labels plus `kubetrade.io/<kind>: <name>` for lookups."""
    out = {
        "app.kubernetes.io/name": "kubetrade",
        "app.kubernetes.io/instance": shorten(owner.name),
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/managed-by": "kubetrade",
        f"kubetrade.io/{owner.kind.lower()}": shorten(owner.name),
    }
    if rev:
        out["kubetrade.io/revision"] = rev
    return out


def owner_ref(owner: Owner) -> OwnerRef:
    """The owner as a workload config names it, for the pod's status reports."""
    return OwnerRef(
        api_version=API_VERSION,
        kind=owner.kind,
        name=owner.name,
        namespace=owner.namespace,
        uid=owner.uid,
    )


def owner_reference(owner: Owner) -> dict[str, Any]:
    """A controller reference, so garbage collection removes the child with its owner."""
    return {
        "apiVersion": API_VERSION,
        "kind": owner.kind,
        "name": owner.name,
        "uid": owner.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def metadata(owner: Owner, name: str, component: str, rev: str | None = None) -> dict[str, Any]:
    """Metadata for a child object."""
    return {
        "name": name,
        "namespace": owner.namespace,
        "labels": labels(owner, component, rev),
        "ownerReferences": [owner_reference(owner)],
    }


def config_map(owner: Owner, name: str, component: str, rev: str, config: Frozen) -> dict[str, Any]:
    """The ConfigMap carrying a workload's config file."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(owner, name, component, rev),
        "data": {"config.json": json.dumps(config.to_wire(), indent=2, sort_keys=True)},
    }


def resources(spec: Resources) -> dict[str, Any]:
    """Container resources; nothing is requested unless the user asked."""
    out: dict[str, dict[str, Any]] = {}
    for key, rl in (("requests", spec.requests), ("limits", spec.limits)):
        if rl is not None:
            values = {
                k: str(v) for k, v in (("cpu", rl.cpu), ("memory", rl.memory)) if v is not None
            }
            if values:
                out[key] = values
    if spec.gpu:
        # Extended resources must be set as limits; requests default to limits.
        out.setdefault("limits", {})["nvidia.com/gpu"] = str(spec.gpu)
    return out


def pod_spec(
    owner: Owner,
    config_name: str,
    command: str,
    template: PodTemplate,
    settings: OperatorSettings,
    *,
    credentials_secret: str | None = None,
    restart_policy: str = "Never",
) -> dict[str, Any]:
    """The pod that runs `python -m kubetrade_workloads <command>` with its config mounted."""
    image = template.image or (
        settings.workload_gpu_image if template.resources.gpu else settings.workload_image
    )
    mounts: list[dict[str, Any]] = [{"name": "config", "mountPath": CONFIG_DIR, "readOnly": True}]
    volumes: list[dict[str, Any]] = [{"name": "config", "configMap": {"name": config_name}}]
    if settings.artifact_pvc and settings.artifact_root.startswith("file://"):
        mounts.append({"name": "artifacts", "mountPath": ARTIFACTS_DIR})
        volumes.append(
            {"name": "artifacts", "persistentVolumeClaim": {"claimName": settings.artifact_pvc}}
        )
    if credentials_secret:
        mounts.append({"name": "credentials", "mountPath": CREDENTIALS_DIR, "readOnly": True})
        volumes.append({"name": "credentials", "secret": {"secretName": credentials_secret}})
    env = [
        {"name": "KUBETRADE_CONFIG", "value": CONFIG_FILE},
        {"name": storage.ENV, "value": ARTIFACTS_DIR},
        *s3_env(settings),
    ]
    # The template's own env comes last: where it names a variable twice, it wins.
    env += [{"name": k, "value": v} for k, v in sorted((template.env or {}).items())]
    container: dict[str, Any] = {
        "name": "workload",
        "image": image,
        "imagePullPolicy": settings.image_pull_policy,
        "command": ["python", "-m", "kubetrade_workloads", command, "--config", CONFIG_FILE],
        "env": env,
        "volumeMounts": mounts,
        "resources": resources(template.resources),
        # A crash's last log lines become its termination message, which the
        # owner's conditions show (CrashLoopBackOff with the traceback's end).
        "terminationMessagePolicy": "FallbackToLogsOnError",
        # Meets the `restricted` Pod Security Standard.
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "runAsNonRoot": True,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }
    spec: dict[str, Any] = {
        "restartPolicy": restart_policy,
        "containers": [container],
        "volumes": volumes,
        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "fsGroup": 10001},
    }
    account = template.service_account_name or settings.workload_service_account
    if account:
        spec["serviceAccountName"] = account
    if template.node_selector:
        spec["nodeSelector"] = dict(template.node_selector)
    if template.tolerations:
        spec["tolerations"] = [t.to_wire() for t in template.tolerations]
    return spec


def job_children(
    owner: Owner,
    component: str,
    spec: Frozen,
    config: Frozen,
    *,
    template: PodTemplate,
    policy: JobPolicy,
    suspend: bool,
    settings: OperatorSettings,
    credentials_secret: str | None = None,
    run: str | None = None,
) -> list[dict[str, Any]]:
    """The ConfigMap with `config` and the Job that runs `component` on it, in creation order.

    Both are named `<owner>-<component>-<revision of spec>`, plus `-<run>` for a
    requested run (its stamp), so each request is a Job of its own.
    """
    rev = revision(spec)
    name = child_name(owner, component, run_revision(rev, run))
    job_spec: dict[str, Any] = {
        "backoffLimit": policy.backoff_limit,
        "suspend": suspend,
        "template": {
            "metadata": {"labels": labels(owner, component, rev)},
            "spec": pod_spec(
                owner, name, component, template, settings, credentials_secret=credentials_secret
            ),
        },
    }
    if policy.active_deadline_seconds is not None:
        job_spec["activeDeadlineSeconds"] = policy.active_deadline_seconds
    if policy.ttl_seconds_after_finished is not None:
        job_spec["ttlSecondsAfterFinished"] = policy.ttl_seconds_after_finished
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata(owner, name, component, rev),
        "spec": job_spec,
    }
    return [config_map(owner, name, component, rev, config), job]


def artifact_uri(settings: OperatorSettings, *parts: str) -> str:
    """A location under the configured artifact root."""
    return "/".join([settings.artifact_root.rstrip("/"), *parts])


def indexed(job: dict[str, Any], pods: int, role: str) -> dict[str, Any]:
    """`job` made an Indexed Job of `pods` pods at once (completions = parallelism),
    its pods labelled `kubetrade.io/<role>: worker`."""
    spec = job["spec"]
    spec["template"]["metadata"]["labels"][f"kubetrade.io/{role}"] = "worker"
    return job | {
        "spec": spec | {"completionMode": "Indexed", "completions": pods, "parallelism": pods}
    }
