"""Binding kubetrade's unbound Pods to the local node: the scheduler's job.

There is no kube-scheduler in the development control plane, so the node binds
pods to itself through ``pods/binding``, as the scheduler would, when they fit:
``nodeSelector`` matches the node's labels, extended resources (``nvidia.com/gpu``)
are available and the node has room (``--max-pods``). A pod that does not fit
stays Pending with ``PodScheduled=False``/``Unschedulable`` and the scheduler's
message, so ``kubectl describe`` tells why. Affinity and cpu/memory requests are
not considered.
"""

from __future__ import annotations

import logging

import httpx2
import msgspec
from lightkube import ApiError, Client
from lightkube.models.core_v1 import Container, ObjectReference
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Pod, PodBinding, PodStatus

from kubetrade_dev.node_registration import EXTENDED_RESOURCES, node_labels
from kubetrade_dev.pod_status import now

log = logging.getLogger(__name__)

_BASE_RESOURCES = ("cpu", "memory", "pods", "ephemeral-storage")


def extended_requests(container: Container) -> dict[str, int]:
    """Extended resources (``nvidia.com/gpu`` ...) a container asks for."""
    wanted: dict[str, int] = {}
    res = container.resources
    for table in (res.requests, res.limits) if res else ():
        for name, quantity in (table or {}).items():
            if name in _BASE_RESOURCES or name.startswith("hugepages-"):
                continue
            try:
                amount = int(str(quantity))
            except ValueError:
                amount = 1  # extended resources are whole numbers; be conservative
            wanted[name] = max(wanted.get(name, 0), amount)
    return wanted


class PodBinder:
    """Decides which unbound pods this node takes, and binds them."""

    def __init__(self, client: Client, node_name: str, max_pods: int) -> None:
        self.client = client
        self.node_name = node_name
        self.max_pods = max_pods
        self.binding: set[str] = set()  # bound by us, not yet seen bound
        self._waiting: dict[str, Pod] = {}  # unbound and not fitting (yet)
        self._unschedulable: dict[str, str] = {}  # message last written, by uid

    def consider(self, pod: Pod, running: int) -> None:
        """Bind an unbound pod if it fits next to ``running`` pods, else keep it waiting."""
        meta, spec = pod.metadata, pod.spec
        if meta is None or spec is None or not meta.uid:
            return
        uid = meta.uid
        if meta.deletionTimestamp is not None or spec.schedulingGates:
            self._waiting.pop(uid, None)
            return
        if spec.schedulerName not in (None, "", "default-scheduler"):
            return  # another scheduler's pod
        reason = self.unfit(pod)
        if reason is None and running + len(self.binding) >= self.max_pods:
            reason = "Too many pods"
        if reason is not None:
            self._waiting[uid] = pod
            self._mark_unschedulable(pod, f"0/1 nodes are available: 1 {reason}.")
            return
        self._waiting.pop(uid, None)
        if uid not in self.binding:
            self._bind(pod)

    def seen_bound(self, uid: str) -> None:
        """The pod is bound now (to this node or another)."""
        self._waiting.pop(uid, None)
        self.binding.discard(uid)

    def forget(self, uid: str) -> None:
        """The pod was deleted."""
        self.seen_bound(uid)
        self._unschedulable.pop(uid, None)

    def keep_only(self, uids: set[str]) -> None:
        """Drop state of pods that no longer exist (after a fresh list)."""
        self._waiting = {uid: pod for uid, pod in self._waiting.items() if uid in uids}
        self.binding &= uids
        self._unschedulable = {u: m for u, m in self._unschedulable.items() if u in uids}

    def retry(self, running: int) -> None:
        """Try the waiting pods again, oldest first (room may have been freed)."""
        for pod in sorted(self._waiting.values(), key=created):
            self.consider(pod, running)

    def unfit(self, pod: Pod) -> str | None:
        """Why the pod cannot run on this node, in the scheduler's words; None if it can."""
        spec = pod.spec
        if spec is None:
            return None
        labels = node_labels(self.node_name)
        for key, value in (spec.nodeSelector or {}).items():
            if labels.get(key) != value:
                return "node(s) didn't match Pod's node affinity/selector"
        for container in [*(spec.initContainers or []), *spec.containers]:
            for name, amount in extended_requests(container).items():
                if amount > EXTENDED_RESOURCES.get(name, 0):
                    return f"Insufficient {name}"
        return None

    def _bind(self, pod: Pod) -> None:
        meta = pod.metadata
        if meta is None or not meta.name or not meta.uid:
            return
        target = ObjectReference(apiVersion="v1", kind="Node", name=self.node_name)
        binding = PodBinding(metadata=ObjectMeta(name=meta.name), target=target)
        try:
            self.client.create(binding, meta.name, namespace=meta.namespace)
            self.binding.add(meta.uid)
        except msgspec.ValidationError:
            # The API answers a binding with a Status, which lightkube fails to
            # read as a Binding: the pod is bound all the same.
            self.binding.add(meta.uid)
        except ApiError as err:
            if err.status.code not in (404, 409):  # gone, or bound meanwhile
                log.warning("pod %s: binding failed: %s", key(pod), err)
                self._waiting[meta.uid] = pod
        except httpx2.HTTPError as err:
            log.warning("pod %s: binding failed: %s", key(pod), err)
            self._waiting[meta.uid] = pod

    def _mark_unschedulable(self, pod: Pod, message: str) -> None:
        meta = pod.metadata
        if meta is None or not meta.uid or self._unschedulable.get(meta.uid) == message:
            return
        log.info("pod %s: not bound: %s", key(pod), message)
        cond = {
            "type": "PodScheduled",
            "status": "False",
            "reason": "Unschedulable",
            "message": message,
            "lastTransitionTime": now(),
        }
        try:
            body = {"status": {"conditions": [cond]}}
            self.client.patch(PodStatus, meta.name or "", body, namespace=meta.namespace)
            self._unschedulable[meta.uid] = message
        except (ApiError, httpx2.HTTPError) as err:
            log.debug("pod %s: cannot mark unschedulable: %s", key(pod), err)


def created(pod: Pod) -> str:
    """Sort key: the pod's creation time."""
    stamp = pod.metadata.creationTimestamp if pod.metadata else None
    return stamp.isoformat() if stamp is not None else ""


def key(pod: Pod) -> str:
    """``namespace/name`` of a pod, for logs."""
    meta = pod.metadata
    return f"{meta.namespace}/{meta.name}" if meta else "?"
