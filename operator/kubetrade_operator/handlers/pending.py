"""Status for kinds whose workloads have not landed yet: honest, and Unknown.

TrainingRun, Model and TradingSession get their conditions and
observedGeneration on the first reconcile, as every kind must; the reason says
what they are waiting for.
"""

from __future__ import annotations

from typing import Any

from .. import kube, metrics
from ..api.common import Phase
from ..conditions import FALSE, TRUE, UNKNOWN, Cond, merge, status_diff


async def write_waiting(
    kind: str, body: dict[str, Any], condition_types: tuple[str, ...], reason: str, message: str
) -> None:
    """Phase Pending, every condition Unknown with `reason`, Suspended from the spec."""
    with metrics.reconciling(kind):
        meta, status = body["metadata"], body["status"]
        suspended = bool(body["spec"].get("suspend"))
        conds = [Cond(t, UNKNOWN, reason, message) for t in condition_types]
        conds.append(
            Cond(
                "Suspended",
                TRUE if suspended else FALSE,
                "SuspendedBySpec" if suspended else "NotSuspended",
            )
        )
        generation = int(meta["generation"])
        desired = {
            "observedGeneration": generation,
            "phase": (Phase.SUSPENDED if suspended else Phase.PENDING).value,
            "message": message,
            "conditions": merge(status.get("conditions"), conds, generation),
        }
        changed = status_diff(status, desired)
        if changed:
            await kube.patch_status(kind, meta["name"], meta["namespace"], changed)
