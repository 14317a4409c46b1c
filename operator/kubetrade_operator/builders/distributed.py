"""A TrainingRun with `spec.distributed` → the forecaster trained data-parallel across
pods, the way Kubeflow's PyTorchJob does it, with plain Kubernetes objects:

- a headless Service, so each pod has a stable DNS name (`<job>-<index>.<service>`);
- one Indexed Job of `replicas` pods, each running torchrun with one process;
- c10d rendezvous at pod 0's name: the pods find each other there, torchrun assigns
  ranks, and a pod that is lost and replaced by the Job rejoins a new round, after
  which every rank resumes from the run's latest checkpoint.

The Job keeps the training Job's name, ConfigMap and output location, so the
handler follows it and publishes its Model exactly as it does a single pod's.
"""

from __future__ import annotations

from typing import Any

from ..api.training_run import Distributed
from .common import Owner, indexed, metadata, shorten

RDZV_PORT = 29400
"""torchrun's default c10d rendezvous port."""

RESTARTS = 3
"""Rendezvous rounds a group may restart in (a lost pod rejoining is one)."""


def service_name(job_name: str) -> str:
    """The headless Service of a distributed Job (a DNS-1035 label: starts with a letter)."""
    return shorten(job_name if job_name[:1].isalpha() else f"ddp-{job_name}")


def rendezvous_endpoint(job_name: str, namespace: str, port: int = RDZV_PORT) -> str:
    """Pod 0's DNS name and port: where the group meets."""
    return f"{job_name}-0.{service_name(job_name)}.{namespace}.svc:{port}"


def torchrun_command(
    nodes: int, endpoint: str, run_id: str, workload: list[str], *, restarts: int = RESTARTS
) -> list[str]:
    """`python -m torch.distributed.run` (torchrun) starting one `workload` process per pod.

    `--local-addr` is the pod's IP (from the downward API), so ranks reach each
    other by address even where a pod's own hostname does not resolve."""
    return [
        "python",
        "-m",
        "torch.distributed.run",
        f"--nnodes={nodes}",
        "--nproc-per-node=1",
        "--rdzv-backend=c10d",
        f"--rdzv-endpoint={endpoint}",
        f"--rdzv-id={run_id}",
        f"--max-restarts={restarts}",
        "--local-addr=$(POD_IP)",
        "-m",
        *workload[2:],  # `kubetrade_workloads train --config FILE`, without `python -m`
    ]


def headless_service(owner: Owner, job: dict[str, Any]) -> dict[str, Any]:
    """The Service that gives the Job's pods their DNS names (no cluster IP, no proxying)."""
    name = job["metadata"]["name"]
    meta = metadata(
        owner, service_name(name), job["metadata"]["labels"]["app.kubernetes.io/component"]
    )
    meta["labels"] = dict(job["metadata"]["labels"])
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta,
        "spec": {
            "clusterIP": "None",
            # Pods must find each other before any of them is Ready.
            "publishNotReadyAddresses": True,
            "selector": {"batch.kubernetes.io/job-name": name},
            "ports": [{"name": "rendezvous", "port": RDZV_PORT, "targetPort": RDZV_PORT}],
        },
    }


def distributed_job(job: dict[str, Any], distributed: Distributed) -> dict[str, Any]:
    """`job` made an Indexed Job of `replicas` torchrun pods behind its headless Service."""
    name, namespace = job["metadata"]["name"], job["metadata"]["namespace"]
    spec = job["spec"]
    pod = spec["template"]["spec"]
    container = pod["containers"][0]
    container["command"] = torchrun_command(
        distributed.replicas, rendezvous_endpoint(name, namespace), name, container["command"]
    )
    container["env"] = [
        {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        {"name": "KUBETRADE_DDP_BACKEND", "value": distributed.backend.lower()},
        *container["env"],
    ]
    container["ports"] = [{"name": "rendezvous", "containerPort": RDZV_PORT}]
    pod["subdomain"] = service_name(name)
    return indexed(job, distributed.replicas, "distributed")


def build_distributed_children(
    owner: Owner, config_map: dict[str, Any], job: dict[str, Any], distributed: Distributed
) -> list[dict[str, Any]]:
    """The ConfigMap, the headless Service and the Indexed Job, in creation order."""
    ddp_job = distributed_job(job, distributed)
    return [config_map, headless_service(owner, ddp_job), ddp_job]
