"""The local node's Node object and its Lease: registration and heartbeats.

The node lifecycle controller in kube-controller-manager marks a node whose
Lease is not renewed NotReady (after ~40-50 s), taints it and evicts its pods;
PodGC deletes pods bound to a Node that does not exist. Registering a Node and
renewing its Lease every 10 s, as the kubelet does, keeps bound pods alive.
"""

from __future__ import annotations

import logging
import os
import platform
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from lightkube import ApiError, Client
from lightkube.resources.coordination_v1 import Lease
from lightkube.resources.core_v1 import Node, NodeStatus
from lightkube.types import PatchType

from kubetrade_dev.pod_status import now

log = logging.getLogger(__name__)

LEASE_NAMESPACE = "kube-node-lease"
LEASE_SECONDS = 40  # the kubelet's default
HOST_IP = "127.0.0.1"
_CONDITIONS = ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure")
#: Extended resources the node advertises; pods asking for more stay Pending.
EXTENDED_RESOURCES = {"nvidia.com/gpu": 0}


def _arch() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def node_manifest(name: str, max_pods: int, workdir: Path) -> dict[str, Any]:
    """The Node this process registers, status included (allowed on create)."""
    memory_kib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 1024
    disk_kib = shutil.disk_usage(workdir).total // 1024
    capacity = {
        "cpu": str(os.cpu_count() or 1),
        "memory": f"{memory_kib}Ki",
        "ephemeral-storage": f"{disk_kib}Ki",
        "pods": str(max_pods),
        **{name: str(amount) for name, amount in EXTENDED_RESOURCES.items()},
    }
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": node_labels(name)},
        "status": {
            "capacity": capacity,
            "allocatable": capacity,
            "conditions": node_conditions(),
            "addresses": [
                {"type": "InternalIP", "address": HOST_IP},
                {"type": "Hostname", "address": name},
            ],
            "nodeInfo": {
                "machineID": _read("/etc/machine-id"),
                "systemUUID": "",
                "bootID": _read("/proc/sys/kernel/random/boot_id"),
                "kernelVersion": platform.release(),
                "osImage": platform.platform(),
                "containerRuntimeVersion": "local://kubetrade-local-node",
                "kubeletVersion": "v0.0.0-kubetrade-local",
                "kubeProxyVersion": "",
                "operatingSystem": "linux",
                "architecture": _arch(),
            },
        },
    }


def node_labels(name: str) -> dict[str, str]:
    """Labels a kubelet would set, plus one that marks the local node."""
    return {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": _arch(),
        "kubetrade.io/local-node": "true",
    }


def node_conditions() -> list[dict[str, str]]:
    """Ready, and no pressure of any kind, as of now."""
    stamp = now()

    def cond(kind: str, status: str, reason: str, message: str) -> dict[str, str]:
        return {
            "type": kind,
            "status": status,
            "reason": reason,
            "message": message,
            "lastHeartbeatTime": stamp,
            "lastTransitionTime": stamp,
        }

    return [
        cond("Ready", "True", "KubeletReady", "local node is posting ready status"),
        cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "no memory pressure"),
        cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "no disk pressure"),
        cond("PIDPressure", "False", "KubeletHasSufficientPID", "no PID pressure"),
    ]


def _micro_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class NodeRegistration:
    """Creates (or refreshes) the Node and keeps its Lease and status current."""

    def __init__(self, client: Client, name: str, max_pods: int, workdir: Path) -> None:
        self.client = client
        self.name = name
        self.max_pods = max_pods
        self.workdir = workdir
        self._uid = ""

    def register(self) -> None:
        """Create the Node with its status, or take over an existing one of that name."""
        manifest = node_manifest(self.name, self.max_pods, self.workdir)
        try:
            node = self.client.create(cast(Node, Node.from_dict(manifest)))
        except ApiError as err:
            if err.status.code != 409:
                raise
            # A node of that name from an earlier run: refresh what it says.
            node = self.client.patch(Node, self.name, {"metadata": manifest["metadata"]})
            self.client.patch(NodeStatus, self.name, {"status": manifest["status"]})
        self._uid = (node.metadata.uid if node.metadata else None) or ""
        self.renew_lease()
        log.info("node %s registered", self.name)

    def renew_lease(self) -> None:
        """Renew the node's Lease (create it if missing)."""
        spec = {
            "holderIdentity": self.name,
            "leaseDurationSeconds": LEASE_SECONDS,
            "renewTime": _micro_now(),
        }
        try:
            self.client.patch(
                Lease,
                self.name,
                {"spec": spec},
                namespace=LEASE_NAMESPACE,
                patch_type=PatchType.MERGE,
            )
            return
        except ApiError as err:
            if err.status.code != 404:
                raise
        owner = {"apiVersion": "v1", "kind": "Node", "name": self.name, "uid": self._uid}
        lease = {
            "metadata": {
                "name": self.name,
                "namespace": LEASE_NAMESPACE,
                "ownerReferences": [owner],
            },
            "spec": spec,
        }
        self.client.create(cast(Lease, Lease.from_dict(lease)))

    def heartbeat(self) -> None:
        """Refresh lastHeartbeatTime of the node's conditions; re-register a deleted node."""
        stamp = now()
        conditions = [{"type": kind, "lastHeartbeatTime": stamp} for kind in _CONDITIONS]
        try:
            self.client.patch(NodeStatus, self.name, {"status": {"conditions": conditions}})
        except ApiError as err:
            if err.status.code != 404:
                raise
            log.warning("node %s was deleted; registering it again", self.name)
            self.register()
