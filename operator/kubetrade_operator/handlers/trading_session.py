"""TradingSession: traders arrive with the trading issue; until then it waits."""

from __future__ import annotations

from typing import Any

import kopf

from ..api import GROUP, TRADING_SESSION, VERSION
from .indexes import snapshot
from .pending import write_waiting


@kopf.on.event(GROUP, VERSION, TRADING_SESSION.plural)
async def trading_session_event(*, event: kopf.RawEvent, body: kopf.Body, **_: Any) -> None:
    """Write conditions and observedGeneration."""
    if event["type"] == "DELETED":
        return
    await write_waiting(
        TRADING_SESSION.kind,
        snapshot(body),
        ("Ready", "RiskBreached", "Reconciled"),
        "TraderNotAvailable",
        "this operator version does not run traders yet",
    )
