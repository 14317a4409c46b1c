"""Which version of its Model a session trades, which one shadows it, and when that changes.

The operator decides; the trader follows (it reads `status.model` and
`status.challenger` and swaps at a bar boundary) and reports what it trades and
how the challenger did (`status.trading.model`, `status.trading.shadow`). One
pure function, `plan_models`, turns the Model's versions, the session's spec and
the trader's reports into the next `status.model`, `status.challenger`, history
rows and Events:

- a pin (`spec.modelRef.version`) wins, once that version passed its gates;
- otherwise the session follows the Model's newest Ready version that it has not
  refused: at once (`Immediate`), or through a challenger that shadows the live
  version and is promoted when it wins (`Shadow`) or when a person pins it (`Manual`);
- a risk breach within `rollbackWindowBars` of an automatic promotion rolls back
  to the version it replaced, and that version is not followed again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..api import TradingSessionSpec
from ..api.common import Phase
from ..api.trading_session import PromotionMode, PromotionPolicy
from ..conditions import FALSE, TRUE, UNKNOWN, Cond, find
from .versions import find_version

HISTORY_LIMIT = 20
AUTOMATIC = ("Followed", "Promoted")
WARNINGS = ("RolledBack", "TraderRefused")
"""History reasons a breach may roll back (a person's pin is theirs to undo)."""


@dataclass(frozen=True)
class Event:
    type: str
    """Normal or Warning."""
    reason: str
    message: str


@dataclass
class ModelPlan:
    """The session's model fields after this reconcile, and what to announce."""

    model: dict[str, Any] | None
    challenger: dict[str, Any] | None
    previous: dict[str, Any] | None
    refused: list[int]
    history: list[dict[str, Any]]
    condition: Cond
    events: list[Event] = field(default_factory=list)

    def status(self) -> dict[str, Any]:
        """The status fields this plan owns."""
        return {
            "model": self.model,
            "challenger": self.challenger,
            "previousModel": self.previous,
            "refusedVersions": self.refused or None,
            "modelHistory": self.history or None,
        }


def _choice(model_name: str, entry: Mapping[str, Any], now: str) -> dict[str, Any]:
    choice = {"name": model_name, "artifactUri": entry["artifactUri"], "since": now}
    return _numbered(choice, "version", entry.get("version"))


def _numbered(row: dict[str, Any], key: str, number: Any) -> dict[str, Any]:
    """`row` with `key` set when `number` is known: status drops nulls, and a null
    kept here would differ from what is stored and rewrite status each reconcile."""
    return {**row, key: number} if number is not None else row


def _ready(entry: Mapping[str, Any] | None) -> bool:
    return entry is not None and entry.get("phase") == Phase.READY.value


def newest_ready(
    versions: Sequence[Mapping[str, Any]], refused: set[int]
) -> Mapping[str, Any] | None:
    """The newest version that passed its gates and that the session has not refused."""
    ready = [v for v in versions if _ready(v) and _number(v) not in refused]
    return max(ready, key=_number) if ready else None


def _number(entry: Mapping[str, Any] | None) -> int:
    """A version's number; 0 for a Model written before versions were recorded."""
    return int((entry or {}).get("version") or 0)


def versions_of(model: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The Model's versions; a Ready Model that records none (evaluated before
    versions existed) counts as one unnumbered Ready version of its artifact."""
    status = model.get("status") or {}
    versions = list(status.get("versions") or ())
    if not versions and status.get("phase") == Phase.READY.value:
        return [{"artifactUri": model["spec"]["artifactUri"], "phase": Phase.READY.value}]
    return versions


class _Planner:
    """One reconcile's decisions, accumulated; `plan_models` is the entry point."""

    def __init__(
        self,
        spec: TradingSessionSpec,
        model: Mapping[str, Any],
        status: Mapping[str, Any],
        now: str,
    ) -> None:
        self.name = spec.model_ref.name
        self.now = now
        self.versions = versions_of(model)
        self.current: dict[str, Any] | None = status.get("model")
        if self.current is not None and self.current.get("name") != self.name:
            self.current = None  # modelRef now names another Model: start over on it
        self.challenger: dict[str, Any] | None = status.get("challenger") if self.current else None
        self.previous: dict[str, Any] | None = status.get("previousModel") if self.current else None
        self.refused = set(status.get("refusedVersions") or ()) if self.current else set()
        self.history: list[dict[str, Any]] = list(status.get("modelHistory") or ())
        self.trading: Mapping[str, Any] = status.get("trading") or {}
        self.events: list[Event] = []

    # -- moves --------------------------------------------------------------------

    def go_live(
        self, entry: Mapping[str, Any], reason: str, message: str, *, keep_previous: bool
    ) -> None:
        before = self.current
        self.previous = before if keep_previous else None
        self.current = _choice(self.name, entry, self.now)
        if self.challenger and _number(self.challenger) == _number(entry):
            self.challenger = None
        row = _numbered(
            {"time": self.now, "reason": reason, "message": message},
            "version",
            entry.get("version"),
        )
        row = _numbered(row, "fromVersion", (before or {}).get("version"))
        self.history = [*self.history, row][-HISTORY_LIMIT:]
        kind = "Warning" if reason in WARNINGS else "Normal"
        self.events.append(Event(kind, reason, message))

    def refuse(self, version: int, reason: str, message: str) -> None:
        self.refused.add(version)
        if self.challenger and _number(self.challenger) == version:
            self.challenger = None
        self.events.append(Event("Warning", reason, message))

    # -- decisions ----------------------------------------------------------------

    def pinned(self, number: int) -> Cond:
        entry = find_version(self.versions, number=number)
        if entry is None:
            return Cond(
                "ModelVersion",
                FALSE,
                "VersionNotFound",
                f"Model {self.name!r} has no version {number}",
            )
        if not _ready(entry):
            message = f"version {number} of Model {self.name!r} is {entry.get('phase')}, not Ready"
            return Cond("ModelVersion", FALSE, "VersionNotReady", message)
        self.challenger = None
        if self.current is None or self.current.get("artifactUri") != entry["artifactUri"]:
            self.go_live(
                entry, "Pinned", f"spec.modelRef.version pins version {number}", keep_previous=True
            )
        return self.swapped()

    def follow(self, policy: PromotionPolicy, breach_since: str | None) -> Cond:
        ready = newest_ready(self.versions, self.refused)
        if self.current is None:
            if ready is None:
                return Cond(
                    "ModelVersion",
                    FALSE,
                    "NoReadyVersion",
                    f"Model {self.name!r} has no Ready version",
                )
            self.go_live(
                ready, "Initial", f"trading version {ready.get('version')}", keep_previous=False
            )
            return self.swapped()
        if self.trader_refused() or self.rolled_back(policy, breach_since):
            return self.swapped()
        live = find_version(self.versions, uri=self.current["artifactUri"])
        if (
            ready is not None
            and live is not None
            and not _ready(live)
            and _number(ready) != _number(live)
        ):
            message = f"version {live['version']} is now {live.get('phase')}: back to version {ready['version']}"
            self.go_live(ready, "Followed", message, keep_previous=False)
        elif ready is not None and _number(ready) > _number(self.current):
            if policy.mode == PromotionMode.IMMEDIATE:
                message = f"version {ready['version']} passed its gates: it replaces version {self.current.get('version')}"
                self.go_live(ready, "Followed", message, keep_previous=True)
            elif self.challenger is None or _number(self.challenger) != _number(ready):
                self.challenger = _choice(self.name, ready, self.now)
                message = (
                    f"version {ready['version']} shadows version {self.current.get('version')}"
                )
                self.events.append(Event("Normal", "ChallengerStarted", message))
        if self.challenger is not None:
            self.judge(policy, self.challenger)
        return self.swapped()

    def trader_refused(self) -> bool:
        """Back to what the trader still trades when it refused the version chosen
        (other symbols, features its feed cannot make, a file it cannot load)."""
        traded = self.trading.get("model") or {}
        refused = traded.get("refused") or {}
        current = self.current
        if current is None or not traded.get("artifactUri"):
            return False
        if refused.get("artifactUri") != current["artifactUri"]:
            return False
        bad = _number(current)
        entry = find_version(self.versions, uri=traded["artifactUri"]) or traded
        message = f"the trader refused version {bad}: {refused.get('reason')}"
        self.refused.add(bad)
        self.go_live(entry, "TraderRefused", message, keep_previous=False)
        return True

    def rolled_back(self, policy: PromotionPolicy, breach_since: str | None) -> bool:
        """Back to the previous version when a breach followed an automatic promotion."""
        current, previous = self.current, self.previous
        last = self.history[-1] if self.history else {}
        traded = self.trading.get("model") or {}
        if (
            current is None
            or previous is None
            or not policy.rollback_window_bars
            or breach_since is None
            or breach_since < str(current.get("since"))
            or last.get("reason") not in AUTOMATIC
            or traded.get("artifactUri") != current.get("artifactUri")
            or int(traded.get("bars") or 0) > policy.rollback_window_bars
        ):
            return False
        bad = _number(current)
        entry = find_version(self.versions, uri=previous["artifactUri"]) or {
            "version": previous.get("version"),
            "artifactUri": previous["artifactUri"],
        }
        message = (
            f"risk breach {traded.get('bars', 0)} bar(s) after version {bad} went live: "
            f"back to version {previous.get('version')}"
        )
        self.refused.add(bad)
        self.go_live(entry, "RolledBack", message, keep_previous=False)
        return True

    def judge(self, policy: PromotionPolicy, challenger: dict[str, Any]) -> None:
        """Promote, refuse or retire the challenger on its shadow report."""
        shadow = self.trading.get("shadow") or {}
        version = _number(challenger)
        if shadow.get("artifactUri") != challenger["artifactUri"]:
            return  # the trader has not picked it up yet
        if shadow.get("error"):
            self.refuse(version, "ChallengerRefused", f"version {version}: {shadow['error']}")
            return
        bars = int(shadow.get("bars") or 0)
        if policy.mode == PromotionMode.SHADOW and wins(shadow, policy):
            entry = find_version(self.versions, uri=challenger["artifactUri"]) or challenger
            message = (
                f"version {version} beat version {self.current and self.current.get('version')} "
                f"over {bars} shadow bars: Sharpe {shadow.get('sharpe')} vs "
                f"{shadow.get('championSharpe')}, p={shadow.get('pValue')}"
            )
            self.go_live(entry, "Promoted", message, keep_previous=True)
        elif policy.max_shadow_bars and bars >= policy.max_shadow_bars:
            message = f"version {version} did not win within {policy.max_shadow_bars} shadow bars"
            self.refuse(version, "ChallengerRetired", message)

    def swapped(self) -> Cond:
        """Whether the trader trades what the operator chose."""
        if self.current is None:
            return Cond("ModelVersion", UNKNOWN, "NoVersion")
        traded = self.trading.get("model") or {}
        refused = traded.get("refused") or {}
        number = self.current.get("version")
        want = f"version {number} of Model {self.name!r}" if number else f"Model {self.name!r}"
        if traded.get("artifactUri") == self.current["artifactUri"]:
            return Cond("ModelVersion", TRUE, "Trading", f"trading {want}")
        if refused.get("artifactUri") == self.current["artifactUri"]:  # a pin it cannot trade
            message = f"the trader refused {want}: {refused.get('reason')}"
            return Cond("ModelVersion", FALSE, "TraderRefused", message)
        return Cond("ModelVersion", FALSE, "Swapping", f"waiting for the trader to trade {want}")


def wins(shadow: Mapping[str, Any], policy: PromotionPolicy) -> bool:
    """Whether a challenger's shadow report meets the policy: enough bars, the margin,
    and a significant Sharpe difference."""
    bars = int(shadow.get("bars") or 0)
    diff, p = shadow.get("sharpeDiff"), shadow.get("pValue")
    return (
        bars >= policy.min_shadow_bars
        and diff is not None
        and p is not None
        and float(diff) >= policy.min_sharpe_margin
        and float(p) <= policy.max_p_value
    )


def breach_start(conditions: Sequence[Mapping[str, Any]] | None) -> str | None:
    """When the current risk breach began (None: no breach)."""
    cond = find(conditions, "RiskBreached")
    if cond is None or cond.get("status") != TRUE:
        return None
    return str(cond.get("lastTransitionTime") or "")


def plan_models(
    spec: TradingSessionSpec,
    model: Mapping[str, Any],
    status: Mapping[str, Any],
    now: str,
    breach_since: str | None = None,
) -> ModelPlan:
    """The session's live version, challenger and history after this reconcile."""
    planner = _Planner(spec, model, status, now)
    if spec.model_ref.version is not None:
        cond = planner.pinned(spec.model_ref.version)
    else:
        cond = planner.follow(spec.promotion or PromotionPolicy(), breach_since)
    return ModelPlan(
        model=planner.current,
        challenger=planner.challenger,
        previous=planner.previous,
        refused=sorted(planner.refused),
        history=planner.history,
        condition=cond,
        events=planner.events,
    )
