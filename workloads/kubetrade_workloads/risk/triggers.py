"""What currently keeps the manager out of ACTIVE.

Two kinds of trigger:
- latched ones hold until a time passes (a breaker's cool-down, the end of
  the day for the daily loss) or until a person acts (the drawdown halt, a
  manual halt): `until` is None for those;
- level ones (VaR, gross exposure) hold exactly while their condition does.

The trading state is the most severe state any trigger asks for.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .events import SEVERITY, TradingState, Trigger


@dataclass(frozen=True)
class Latch:
    trigger: Trigger
    state: TradingState
    since: dt.datetime
    until: dt.datetime | None
    """When the latch lifts by itself; None: only a person or a config change lifts it."""
    detail: str


class TriggerBook:
    """The active latches and level triggers, and the state they add up to."""

    def __init__(self) -> None:
        self.latches: dict[Trigger, Latch] = {}
        self.levels: dict[Trigger, tuple[TradingState, str]] = {}

    def latch(self, latch: Latch) -> bool:
        """Set a latch; False when that trigger was already latched (nothing changes)."""
        if latch.trigger in self.latches:
            return False
        self.latches[latch.trigger] = latch
        return True

    def expire(self, now: dt.datetime) -> list[Latch]:
        """Lift and return the latches whose time has come."""
        done = [la for la in self.latches.values() if la.until is not None and la.until <= now]
        for la in done:
            del self.latches[la.trigger]
        return done

    def release(self, *triggers: Trigger) -> list[Latch]:
        """Lift the named latches (those set); return them."""
        return [self.latches.pop(t) for t in triggers if t in self.latches]

    def release_all(self) -> list[Latch]:
        """Lift every latch; return them."""
        return self.release(*self.latches)

    def level(self, trigger: Trigger, state: TradingState, detail: str | None) -> bool | None:
        """Set (detail given) or clear (None) a level trigger.

        Returns True when it starts, False when it ends, None when unchanged.
        """
        was = trigger in self.levels
        if detail is None:
            self.levels.pop(trigger, None)
            return False if was else None
        self.levels[trigger] = (state, detail)
        return None if was else True

    def state(self) -> TradingState:
        """The most severe state any active trigger asks for."""
        states = [la.state for la in self.latches.values()]
        states += [state for state, _ in self.levels.values()]
        return max(states, key=SEVERITY.__getitem__, default=TradingState.ACTIVE)

    def reasons(self) -> list[str]:
        """One line per active trigger, latches first."""
        out = [f"{la.trigger.value}: {la.detail}" for la in self.latches.values()]
        out += [f"{t.value}: {detail}" for t, (_, detail) in self.levels.items()]
        return out

    def breakers(self) -> str:
        """The breaker state for status: `ok`, or each tripped breaker and when it resets."""
        tripped = [
            f"{la.trigger.value} until {la.until.isoformat()}"
            for la in self.latches.values()
            if la.trigger in (Trigger.MARKET_DROP, Trigger.CONSECUTIVE_LOSSES)
            and la.until is not None
        ]
        return "; ".join(tripped) or "ok"
