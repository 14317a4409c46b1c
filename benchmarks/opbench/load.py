"""Write N items into a namespace at a fixed concurrency and time when each item's Job appears.

An *item* is what one Dataset stands for: the operator workload writes only the
Dataset and lets the operator make the rest; the ceiling workloads write the
objects themselves with a plain client. Either way the item's Job carries the
label ``kubetrade.io/dataset=<item>``, and a watch on Jobs opened before the first
write records when each one arrives, so every workload is timed the same way.
"""

from __future__ import annotations

import asyncio
import copy
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2
from lightkube import AsyncClient, codecs
from lightkube.core.exceptions import ApiError
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import Namespace
from lightkube.types import PatchType

from kubetrade_operator.api import DatasetSpec
from kubetrade_operator.builders.common import Owner
from kubetrade_operator.builders.dataset import build_dataset_children
from kubetrade_operator.builders.job_status import PENDING, bounded_status
from kubetrade_operator.settings import OperatorSettings
from kubetrade_testing.factories import RESOURCES, dataset

from .probes import ApiCounters, CpuMeter, CpuUsage

KEY_LABEL = "kubetrade.io/dataset"
SENTINEL = "bench-sentinel"
NAMESPACE_LABEL = "kubetrade.dev/bench"

#: Does every write of one item and returns when the last one was acknowledged.
Submit = Callable[[AsyncClient, str], Awaitable[None]]
#: Builds the manifests of a workload before the timed window: (namespace, items) -> Submit.
Workload = Callable[[str, list[str]], Submit]


def item_names(n: int, prefix: str = "ds") -> list[str]:
    """``n`` distinct Dataset names."""
    return [f"{prefix}-{i:05d}" for i in range(n)]


# --- workloads -------------------------------------------------------------------


def _in(manifest: dict[str, Any], namespace: str) -> dict[str, Any]:
    manifest["metadata"]["namespace"] = namespace
    return manifest


def _children(namespace: str, name: str, uid: str) -> list[dict[str, Any]]:
    """The ConfigMap and Job the operator would make for ``dataset(name)``."""
    spec = DatasetSpec.model_validate(dataset(name)["spec"])
    owner = Owner("Dataset", name, namespace, uid, 1)
    # Read from this process' environment, which the operator's also starts
    # from: the same image, artifact root and pull policy go into the Jobs.
    return build_dataset_children(owner, spec, OperatorSettings(metrics_port=0))


def operator_workload(namespace: str, items: list[str]) -> Submit:
    """Create Datasets only; the operator writes the rest."""
    manifests = {n: codecs.from_dict(_in(dataset(n), namespace)) for n in items}

    async def submit(client: AsyncClient, name: str) -> None:
        await client.create(manifests[name])

    return submit


def _orphans(namespace: str, items: list[str]) -> dict[str, list[Any]]:
    # No Dataset exists to own these, and the garbage collector deletes children
    # whose owner is gone, which would add deletes to the measured load.
    out: dict[str, list[Any]] = {}
    for name in items:
        children = _children(namespace, name, str(uuid.uuid4()))
        for child in children:
            child["metadata"].pop("ownerReferences", None)
        out[name] = [codecs.from_dict(c) for c in children]
    return out


def jobs_workload(namespace: str, items: list[str]) -> Submit:
    """Ceiling: only the Jobs the builder makes, created directly."""
    objs = _orphans(namespace, items)

    async def submit(client: AsyncClient, name: str) -> None:
        await client.create(objs[name][1])

    return submit


def children_workload(namespace: str, items: list[str]) -> Submit:
    """Ceiling: what the operator writes per Dataset, ConfigMap then Job, created directly."""
    objs = _orphans(namespace, items)

    async def submit(client: AsyncClient, name: str) -> None:
        for obj in objs[name]:
            await client.create(obj)

    return submit


def full_path_workload(namespace: str, items: list[str]) -> Submit:
    """Ceiling: every write of the operator path done by one client without watching:
    Dataset, ConfigMap, Job (owned by the Dataset), then the Pending status."""
    placeholder = "00000000-0000-0000-0000-000000000000"
    datasets = {n: codecs.from_dict(_in(dataset(n), namespace)) for n in items}
    children = {n: _children(namespace, n, placeholder) for n in items}
    res = RESOURCES["Dataset"]

    async def submit(client: AsyncClient, name: str) -> None:
        created = await client.create(datasets[name])
        uid = created.metadata.uid if created.metadata else None
        job_name = ""
        for manifest in children[name]:
            # Only the owner's uid is known late; the rest was built ahead.
            child = copy.deepcopy(manifest)
            child["metadata"]["ownerReferences"][0]["uid"] = uid
            job_name = child["metadata"]["name"]
            await client.create(codecs.from_dict(child))
        status = bounded_status({}, 1, job_name, PENDING)  # what the operator writes first
        await client.patch(
            res.Status, name, {"status": status}, namespace=namespace, patch_type=PatchType.MERGE
        )

    return submit


# --- observing Jobs ----------------------------------------------------------------


class JobWatch:
    """A watch on the Jobs of one namespace, recording when each item's Job arrives.

    Entering creates a suspended sentinel Job (so the Job controller makes no pod
    for it) and waits for the watch to deliver it: only then is the stream known
    to be open, so no arrival is timed late by a watch still connecting.
    """

    def __init__(self, client: AsyncClient, namespace: str) -> None:
        self.client = client
        self.namespace = namespace
        self.seen: dict[str, float] = {}
        self._pending: set[str] = set()
        self._all_seen = asyncio.Event()
        self._sentinel = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> JobWatch:
        self._task = asyncio.create_task(self._run(), name=f"watch-{self.namespace}")
        await self.client.create(_sentinel_job(self.namespace))
        await asyncio.wait_for(self._sentinel.wait(), timeout=30)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    def expect(self, items: list[str]) -> None:
        """Wait for these items from now on."""
        self._pending = set(items) - set(self.seen)
        self._check()

    def forget(self, item: str) -> None:
        """An item whose writes failed will never show up."""
        self._pending.discard(item)
        self._check()

    async def wait(self, timeout: float) -> bool:
        """Whether every expected item arrived within ``timeout`` seconds."""
        try:
            await asyncio.wait_for(self._all_seen.wait(), timeout=timeout)
        except TimeoutError:
            return False
        return True

    def _check(self) -> None:
        if not self._pending:
            self._all_seen.set()

    async def _run(self) -> None:
        async for _, job in self.client.watch(Job, namespace=self.namespace):
            now = time.perf_counter()
            meta = job.metadata
            if meta is None:
                continue
            if meta.name == SENTINEL:
                self._sentinel.set()
                continue
            key = (meta.labels or {}).get(KEY_LABEL)
            if key and key not in self.seen:
                self.seen[key] = now
                self._pending.discard(key)
                self._check()


def _sentinel_job(namespace: str) -> Any:
    return codecs.from_dict(
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": SENTINEL, "namespace": namespace},
            "spec": {
                "suspend": True,
                "template": {
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [{"name": "noop", "image": "noop"}],
                    }
                },
            },
        }
    )


# --- running a load ----------------------------------------------------------------


@dataclass
class LoadResult:
    """What one workload of ``n`` items did; times in seconds."""

    n: int
    elapsed_s: float
    """First write sent → last item's Job seen (or the timeout)."""
    submit_s: float
    """First write sent → last item's writes acknowledged."""
    latencies_s: list[float]
    """Per item seen: its writes acknowledged → its Job seen."""
    cpu: CpuUsage
    api_requests: dict[str, float] = field(default_factory=dict)
    """Requests the API server served in the window, by ``"VERB resource code"``."""
    errors: list[str] = field(default_factory=list)
    timed_out: bool = False

    @property
    def seen(self) -> int:
        """Items whose Job arrived."""
        return len(self.latencies_s)

    @property
    def throughput(self) -> float:
        """Items per second whose Job arrived, over the whole window."""
        return self.seen / self.elapsed_s if self.elapsed_s > 0 else 0.0


async def run_load(
    client: AsyncClient,
    watch: JobWatch,
    submit: Submit,
    items: list[str],
    *,
    concurrency: int,
    timeout: float,
    meter: CpuMeter,
    api: ApiCounters,
) -> LoadResult:
    """Submit every item with ``concurrency`` writers and wait for all their Jobs."""
    done: dict[str, float] = {}
    errors: list[str] = []
    queue = iter(items)  # shared: each writer takes the next item when it is free
    watch.expect(items)

    async def writer() -> None:
        for name in queue:
            try:
                await submit(client, name)
            except (ApiError, httpx2.HTTPError) as exc:
                errors.append(f"{name}: {type(exc).__name__}: {exc}"[:300])
                watch.forget(name)
                continue
            done[name] = time.perf_counter()

    # /metrics is read outside the CPU window: rendering it costs the API server too.
    requests_before = await asyncio.to_thread(api.read)
    before = meter.snapshot()
    start = before.at
    await asyncio.gather(*(writer() for _ in range(concurrency)))
    submitted = time.perf_counter()
    remaining = max(timeout - (submitted - start), 1.0)
    complete = await watch.wait(remaining)
    after = meter.snapshot()
    requests = ApiCounters.delta(requests_before, await asyncio.to_thread(api.read))
    last = max((watch.seen[n] for n in done if n in watch.seen), default=after.at)
    return LoadResult(
        n=len(items),
        elapsed_s=(last if complete else after.at) - start,
        submit_s=submitted - start,
        latencies_s=[watch.seen[n] - done[n] for n in done if n in watch.seen],
        cpu=CpuMeter.usage(before, after),
        api_requests=requests,
        errors=errors,
        timed_out=not complete,
    )


# --- namespaces ----------------------------------------------------------------------


async def create_namespace(client: AsyncClient, prefix: str) -> str:
    """A fresh, labelled namespace ``<prefix>-<random>``."""
    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    meta = ObjectMeta(name=name, labels={NAMESPACE_LABEL: "true"})
    await client.create(Namespace(metadata=meta))
    return name


async def delete_namespace(client: AsyncClient, name: str) -> None:
    """Start deleting a namespace (the namespace controller finishes it later)."""
    await client.delete(Namespace, name)


async def wait_gone(client: AsyncClient, names: list[str], timeout: float) -> float | None:
    """Wait until none of these namespaces exists; the seconds that took, or None
    if one was still terminating after ``timeout``."""
    start = time.perf_counter()
    left = list(names)
    while left:
        if time.perf_counter() - start > timeout:
            return None
        try:
            await client.get(Namespace, left[0])
        except ApiError as exc:
            if exc.status.code != 404:
                raise
            left.pop(0)
            continue
        await asyncio.sleep(0.5)
    return time.perf_counter() - start
