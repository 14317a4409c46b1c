"""In-memory indexes kopf keeps from its watches, so handlers need no GETs.

Handlers are level-triggered: each event of a resource or of one of its Jobs
recomputes the resource's status from both, read from these indexes.
"""

from __future__ import annotations

from typing import Any

import kopf

from ..api import GROUP, VERSION
from ..pods import Trouble

MANAGED = {"app.kubernetes.io/managed-by": "kubetrade"}
# The newest Warning Event of each of our pods stuck creating, by pod UID. Events
# are not watched (too many); the stuck_pod timer asks for these few.
pod_warnings: dict[str, Trouble] = {}


def snapshot(body: kopf.Body) -> dict[str, Any]:
    """The parts of a body the handlers read, detached from kopf's live view."""
    meta = body.metadata
    return {
        "apiVersion": body.get("apiVersion"),
        "kind": body.get("kind"),
        "metadata": {
            "name": meta.name,
            "namespace": meta.namespace,
            "uid": meta.uid,
            "resourceVersion": meta.get("resourceVersion"),
            "generation": meta.get("generation", 1),
            "annotations": dict(meta.annotations),  # a Model's dataset checksum
        },
        "spec": dict(body.spec),
        "status": dict(body.status),
    }


@kopf.index("batch", "v1", "jobs", labels=MANAGED)
def kubetrade_jobs(
    *, namespace: str | None, name: str, body: kopf.Body, **_: Any
) -> dict[tuple[str, str], dict[str, Any]]:
    """Our Jobs by (namespace, name)."""
    return {
        (str(namespace), name): {
            "spec": {"suspend": body.spec.get("suspend")},
            "status": dict(body.status),
        }
    }


# Pods are found by what made them: a Job's by its name, a trader's by its session.
JOB_NAME = "batch.kubernetes.io/job-name"
SESSION_LABEL = "kubetrade.io/tradingsession"


def pod_key(labels: dict[str, str]) -> str | None:
    """The owner a pod of ours is indexed under: `job/<name>` or `session/<name>`."""
    job = labels.get(JOB_NAME) or labels.get("job-name")
    if job:
        return f"job/{job}"
    session = labels.get(SESSION_LABEL)
    return f"session/{session}" if session else None


@kopf.index("v1", "pods", labels=MANAGED)
def kubetrade_pods(
    *, namespace: str | None, name: str, body: kopf.Body, **_: Any
) -> dict[tuple[str, str], dict[str, Any]]:
    """Our pods by (namespace, owner key), with the status their reasons are read from."""
    key = pod_key(dict(body.metadata.labels))
    if key is None:
        return {}
    meta = body.metadata
    return {
        (str(namespace), key): {
            "metadata": {
                "name": name,
                "uid": meta.get("uid"),
                "creationTimestamp": meta.get("creationTimestamp"),
                "deletionTimestamp": meta.get("deletionTimestamp"),
            },
            "status": dict(body.status),
        }
    }


def job_pods(indexes: dict[str, Any], namespace: str, job: str) -> list[dict[str, Any]]:
    """The pods of one of our Jobs, as the pod watch last showed them."""
    return list(indexes["kubetrade_pods"].get((namespace, f"job/{job}"), ()))


def session_pods(indexes: dict[str, Any], namespace: str, label: str) -> list[dict[str, Any]]:
    """The trader pods of a session (`label`: its `kubetrade.io/tradingsession` value)."""
    return list(indexes["kubetrade_pods"].get((namespace, f"session/{label}"), ()))


@kopf.index(GROUP, VERSION, "datasets")
def datasets(
    *, namespace: str | None, name: str, body: kopf.Body, **_: Any
) -> dict[tuple[str, str], dict[str, Any]]:
    """Datasets by (namespace, name)."""
    return {(str(namespace), name): snapshot(body)}


@kopf.index(GROUP, VERSION, "trainingruns")
def trainingruns(
    *, namespace: str | None, name: str, body: kopf.Body, **_: Any
) -> dict[tuple[str, str], dict[str, Any]]:
    """TrainingRuns by (namespace, name)."""
    return {(str(namespace), name): snapshot(body)}


@kopf.index(GROUP, VERSION, "models")
def models(
    *, namespace: str | None, name: str, body: kopf.Body, **_: Any
) -> dict[tuple[str, str], dict[str, Any]]:
    """Models by (namespace, name)."""
    return {(str(namespace), name): snapshot(body)}


@kopf.index("apps", "v1", "deployments", labels=MANAGED)
def kubetrade_deployments(
    *, namespace: str | None, name: str, body: kopf.Body, **_: Any
) -> dict[tuple[str, str], dict[str, Any]]:
    """Our Deployments by (namespace, name)."""
    return {
        (str(namespace), name): {
            "metadata": {"labels": dict(body.metadata.labels)},
            "spec": {"replicas": body.spec.get("replicas")},
            "status": dict(body.status),
        }
    }


@kopf.index(GROUP, VERSION, "tradingsessions")
def tradingsessions(
    *, namespace: str | None, name: str, body: kopf.Body, **_: Any
) -> dict[tuple[str, str], dict[str, Any]]:
    """TradingSessions by (namespace, name)."""
    return {(str(namespace), name): snapshot(body)}


@kopf.index(GROUP, VERSION, "trainingruns")
def trainingruns_by_dataset(
    *, namespace: str | None, body: kopf.Body, **_: Any
) -> dict[tuple[str, str], dict[str, Any]]:
    """TrainingRuns by the Dataset they wait for."""
    return {(str(namespace), str(body.spec.get("datasetRef", {}).get("name"))): snapshot(body)}


@kopf.index(GROUP, VERSION, "models")
def models_by_dataset(
    *, namespace: str | None, body: kopf.Body, **_: Any
) -> dict[tuple[str, str], dict[str, Any]]:
    """Models by the Dataset they are evaluated on."""
    return {(str(namespace), str(body.spec.get("datasetRef", {}).get("name"))): snapshot(body)}


@kopf.index(GROUP, VERSION, "models")
def models_by_trainingrun(
    *, namespace: str | None, body: kopf.Body, **_: Any
) -> dict[tuple[str, str], dict[str, Any]]:
    """Models by the TrainingRun that makes them (those with a trainingRunRef)."""
    ref = body.spec.get("trainingRunRef") or {}
    return {(str(namespace), str(ref["name"])): snapshot(body)} if ref.get("name") else {}


@kopf.index(GROUP, VERSION, "tradingsessions")
def sessions_by_model(
    *, namespace: str | None, body: kopf.Body, **_: Any
) -> dict[tuple[str, str], dict[str, Any]]:
    """TradingSessions by the Model they trade."""
    return {(str(namespace), str(body.spec.get("modelRef", {}).get("name"))): snapshot(body)}


def latest(
    index: kopf.Index[tuple[str, str], dict[str, Any]], key: tuple[str, str]
) -> dict[str, Any] | None:
    """The one value stored under `key`, if any."""
    store = index.get(key)
    return next(iter(store), None) if store else None
