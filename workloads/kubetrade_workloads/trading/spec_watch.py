"""Live edits: the trader follows its own TradingSession's `spec.risk` and `spec.suspend`.

Tightening a limit in a crisis must not wait for a redeploy, so risk edits do
not roll the trader (the operator leaves them out of the trader's revision);
instead this thread reads the session every `every` seconds and hands what
changed to the trading loop, which applies it between bars. An edit the
trader cannot parse is reported and ignored: the limits in force stay.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from .. import owner_status
from ..config.jobs import OwnerRef
from ..config.risk import RiskConfig
from .kube import client

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SpecChange:
    """A new risk config, a new suspend flag, or an edit that could not be used."""

    risk: RiskConfig | None = None
    suspend: bool | None = None
    error: str = ""


def _read(kube: Any, owner: OwnerRef) -> dict[str, Any]:
    obj = kube.get(owner_status.resource(owner), owner.name, namespace=owner.namespace)
    spec: dict[str, Any] = dict(obj.get("spec") or {})
    return spec


class SpecWatcher:
    """Polls the owner's spec; queues a SpecChange when `risk` or `suspend` changes."""

    def __init__(
        self,
        owner: OwnerRef,
        risk: RiskConfig,
        *,
        every: float = 2.0,
        make_client: Callable[[], Any] = client,
    ) -> None:
        self.owner = owner
        self.changes: queue.Queue[SpecChange] = queue.Queue()
        self._risk = risk.to_wire()
        self._suspend = False
        self._every = every
        self._make_client = make_client
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="spec-watch", daemon=True)

    def start(self) -> None:
        """Start polling in the background (not at all when `every` is 0)."""
        if self._every > 0:
            self._thread.start()

    def stop(self) -> None:
        """Stop polling."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self._every + 2)

    def _loop(self) -> None:
        with self._make_client() as kube:
            while True:
                try:
                    self.poll(_read(kube, self.owner))
                except Exception as err:  # noqa: BLE001 - the API may be briefly away
                    log.warning(
                        "reading %s/%s failed: %s", self.owner.namespace, self.owner.name, err
                    )
                if self._stop.wait(self._every):
                    return

    def poll(self, spec: dict[str, Any]) -> None:
        """Compare one read of the spec with what is in force; queue the differences."""
        raw_risk = spec.get("risk") or {}
        try:
            risk: RiskConfig | None = RiskConfig.model_validate(raw_risk)
        except ValidationError as err:
            risk, error = None, f"spec.risk edit ignored, the limits in force stay: {err}"
        # Compared in canonical form: defaults the API server filled in are no edit.
        seen = risk.to_wire() if risk is not None else raw_risk
        if seen != self._risk:
            self._risk = seen
            self.changes.put(SpecChange(risk=risk) if risk else SpecChange(error=error))
        suspend = bool(spec.get("suspend", False))
        if suspend != self._suspend:
            self._suspend = suspend
            self.changes.put(SpecChange(suspend=suspend))
