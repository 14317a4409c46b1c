"""One trader per session: a coordination.k8s.io Lease the trader holds while it trades.

The protocol is client-go's leader election, for one candidate at a time:

- acquire: create the Lease `<session>-trader` (holder = this pod's name), or
  take it over when its holder released it (empty holder) or stopped renewing
  it for a whole `leaseDurationSeconds` as this process observed it (local
  time, so clock skew between pods does not matter). Every write carries the
  resourceVersion it read, so of two candidates only one wins.
- renew every `renew_every` seconds; `held` turns False the moment a renewal
  finds another holder, or when no renewal has succeeded for `renew_deadline`
  seconds (shorter than the lease, so a successor can never overlap).
- release on a clean stop: holder emptied, so a successor need not wait.

Without Kubernetes (`trading-cli trade --local`), `NoLease` is always held.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from .kube import client, micro_time

log = logging.getLogger(__name__)
LEASE_ENV = "KUBETRADE_LEASE"


def holder_identity() -> str:
    """This pod's name (HOSTNAME in a pod), else the host name."""
    return os.environ.get("HOSTNAME") or socket.gethostname()


class LeaseGuard(Protocol):
    """What the trader asks before it trades."""

    @property
    def held(self) -> bool:
        """True while this process may trade."""
        ...

    def acquire(self, stop: threading.Event) -> bool:
        """Block until held (True) or `stop` is set (False)."""
        ...

    def release(self) -> None:
        """Give the lease up (a successor need not wait for it to expire)."""
        ...


class NoLease:
    """Local runs: no cluster, nothing to coordinate."""

    held = True

    def acquire(self, stop: threading.Event) -> bool:
        """Held at once."""
        return True

    def release(self) -> None:
        """Nothing to release."""


class KubeLease:
    """A Lease in the session's namespace, renewed by a background thread."""

    def __init__(
        self,
        name: str,
        namespace: str,
        identity: str | None = None,
        *,
        duration: float = 15.0,
        renew_every: float = 5.0,
        renew_deadline: float = 10.0,
        retry_every: float = 2.0,
        make_client: Callable[[], Any] = client,
    ) -> None:
        self.name, self.namespace = name, namespace
        self.identity = identity or holder_identity()
        self.duration, self.renew_every = duration, renew_every
        self.renew_deadline, self.retry_every = renew_deadline, retry_every
        self._make_client = make_client
        self._renewed = 0.0  # monotonic time of the last successful write
        self._lost = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._observed: tuple[Any, ...] | None = None
        self._observed_at = 0.0
        self.lost_reason = ""

    @property
    def held(self) -> bool:
        """Held, renewed recently, and not found taken."""
        fresh = time.monotonic() - self._renewed < self.renew_deadline
        return self._renewed > 0 and fresh and not self._lost.is_set()

    def acquire(self, stop: threading.Event) -> bool:
        """Try until held or `stop`; then renew in the background."""
        with self._make_client() as kube:
            while not stop.is_set():
                try:
                    if self._try_acquire(kube):
                        break
                except Exception as err:  # noqa: BLE001 - the API may be briefly away
                    log.warning("lease %s: %s", self.name, err)
                stop.wait(self.retry_every)
            else:
                return False
        log.info("lease %s/%s held by %s", self.namespace, self.name, self.identity)
        self._thread = threading.Thread(target=self._renew_loop, name="lease", daemon=True)
        self._thread.start()
        return True

    def _try_acquire(self, kube: Any) -> bool:
        from lightkube import ApiError
        from lightkube.models.coordination_v1 import LeaseSpec
        from lightkube.models.meta_v1 import ObjectMeta
        from lightkube.resources.coordination_v1 import Lease

        try:
            lease = kube.get(Lease, self.name, namespace=self.namespace)
        except ApiError as err:
            if err.status.code != 404:
                raise
            spec = LeaseSpec(
                holderIdentity=self.identity,
                leaseDurationSeconds=int(self.duration),
                leaseTransitions=0,
            )
            meta = ObjectMeta(name=self.name, namespace=self.namespace)
            try:
                lease = kube.create(Lease(metadata=meta, spec=spec))
            except ApiError as exc:
                if exc.status.code == 409:
                    return False  # another candidate created it first
                raise
            return self._write(kube, lease.metadata.resourceVersion, acquired=True)
        spec = lease.spec
        holder = spec.holderIdentity or ""
        if holder and holder != self.identity and not self._expired(spec):
            return False
        transitions = (spec.leaseTransitions or 0) + (0 if holder == self.identity else 1)
        return self._write(
            kube, lease.metadata.resourceVersion, acquired=True, transitions=transitions
        )

    def _expired(self, spec: Any) -> bool:
        # Measured on our clock from when we saw the record last change.
        record = (spec.holderIdentity, spec.renewTime, spec.acquireTime)
        now = time.monotonic()
        if record != self._observed:
            self._observed, self._observed_at = record, now
            return False
        duration = spec.leaseDurationSeconds or self.duration
        return now - self._observed_at > duration

    def _write(
        self,
        kube: Any,
        resource_version: str,
        *,
        acquired: bool = False,
        transitions: int | None = None,
        release: bool = False,
    ) -> bool:
        from lightkube import ApiError
        from lightkube.resources.coordination_v1 import Lease
        from lightkube.types import PatchType

        now = micro_time(dt.datetime.now(dt.UTC))
        spec: dict[str, Any] = {"renewTime": now}
        if acquired:
            spec |= {
                "holderIdentity": self.identity,
                "acquireTime": now,
                "leaseDurationSeconds": int(self.duration),
            }
        if transitions is not None:
            spec["leaseTransitions"] = transitions
        if release:
            spec |= {"holderIdentity": None, "leaseDurationSeconds": 1}
        # The resourceVersion makes the write conditional: 409 if anyone wrote since.
        patch = {"metadata": {"resourceVersion": resource_version}, "spec": spec}
        started = time.monotonic()
        try:
            kube.patch(
                Lease, self.name, patch, namespace=self.namespace, patch_type=PatchType.MERGE
            )
        except ApiError as err:
            if err.status.code == 409:
                return False
            raise
        if not release:
            self._renewed = started
        return True

    def _renew_loop(self) -> None:
        from lightkube.resources.coordination_v1 import Lease

        with self._make_client() as kube:
            while not self._stop.wait(self.renew_every):
                try:
                    lease = kube.get(Lease, self.name, namespace=self.namespace)
                    holder = lease.spec.holderIdentity or ""
                    if holder != self.identity:
                        self._lose(f"lease taken by {holder or 'nobody'}")
                        return
                    if not self._write(kube, lease.metadata.resourceVersion):
                        continue  # a concurrent write: look again next beat
                except Exception as err:  # noqa: BLE001 - keep trying until the deadline
                    log.warning("lease %s renewal failed: %s", self.name, err)
                if time.monotonic() - self._renewed >= self.renew_deadline:
                    self._lose(f"no renewal for {self.renew_deadline:g}s")
                    return

    def _lose(self, reason: str) -> None:
        self.lost_reason = reason
        self._lost.set()
        log.error("lease %s lost: %s; trading stops", self.name, reason)

    def release(self) -> None:
        """Stop renewing and hand the lease back if still ours."""
        from lightkube.resources.coordination_v1 import Lease

        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.renew_every + 1)
        if self._lost.is_set() or self._renewed == 0:
            return
        try:
            with self._make_client() as kube:
                lease = kube.get(Lease, self.name, namespace=self.namespace)
                if (lease.spec.holderIdentity or "") == self.identity:
                    self._write(kube, lease.metadata.resourceVersion, release=True)
        except Exception as err:  # noqa: BLE001 - a lease left behind expires on its own
            log.warning("lease %s release failed: %s", self.name, err)
        self._lost.set()
