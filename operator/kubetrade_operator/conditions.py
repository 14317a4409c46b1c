"""Conditions as the Kubernetes API conventions describe them, computed purely.

`lastTransitionTime` moves only when a condition's status changes, so writing
the same state twice is a no-op and status is patched only when it changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

TRUE, FALSE, UNKNOWN = "True", "False", "Unknown"


@dataclass(frozen=True)
class Cond:
    """A desired condition; the time and generation are filled in by `merge`."""

    type: str
    status: str
    reason: str
    message: str = ""


def now() -> str:
    """The current time in the RFC 3339 form Kubernetes uses."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def merge(
    current: Sequence[Mapping[str, Any]] | None,
    desired: Iterable[Cond],
    generation: int,
    at: str | None = None,
) -> list[dict[str, Any]]:
    """Return the condition list with `desired` applied over `current`.

    Conditions not named in `desired` are kept as they are.
    """
    stamp = at or now()
    by_type = {c["type"]: dict(c) for c in current or ()}
    for cond in desired:
        old = by_type.get(cond.type)
        moved = old is None or old.get("status") != cond.status
        by_type[cond.type] = {
            "type": cond.type,
            "status": cond.status,
            "reason": cond.reason,
            "message": cond.message,
            "lastTransitionTime": stamp if moved or old is None else old["lastTransitionTime"],
            "observedGeneration": generation,
        }
    return list(by_type.values())


def find(conditions: Sequence[Mapping[str, Any]] | None, type_: str) -> Mapping[str, Any] | None:
    """The condition of the given type, if present."""
    return next((c for c in conditions or () if c.get("type") == type_), None)


def is_true(conditions: Sequence[Mapping[str, Any]] | None, type_: str) -> bool:
    """Whether the condition of the given type is True."""
    cond = find(conditions, type_)
    return cond is not None and cond.get("status") == TRUE


def status_diff(current: Mapping[str, Any] | None, desired: Mapping[str, Any]) -> dict[str, Any]:
    """The top-level status fields of `desired` that differ from `current`.

    Conditions compare without their timestamps, so an unchanged state writes nothing.
    """
    current = current or {}
    changed: dict[str, Any] = {}
    for key, value in desired.items():
        old = current.get(key)
        if key == "conditions":
            if _strip_times(old) != _strip_times(value):
                changed[key] = value
        elif old != value:
            changed[key] = value
    return changed


def _strip_times(conditions: Any) -> Any:
    if not isinstance(conditions, list):
        return conditions
    return sorted(
        ({k: v for k, v in c.items() if k != "lastTransitionTime"} for c in conditions),
        key=lambda c: str(c.get("type")),
    )
