"""TradingSession: one trader running a Ready Model, paper by default."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from kubetrade_workloads.config import TradingConfig
from kubetrade_workloads.config.base import Frozen

from .common import CommonStatus, LocalObjectRef, PodTemplate
from .drift import DriftReport, RetrainRequestRecord


class ModelRef(LocalObjectRef):
    version: Annotated[int, Field(ge=1)] | None = None
    """Pin this version of the Model (`status.versions` lists them; it must have passed
    its gates). Unset: follow the Model's newest Ready version by `spec.promotion`.
    Setting it back to an earlier version is a rollback; the trader swaps at the next bar."""


class PromotionMode(StrEnum):
    IMMEDIATE = "Immediate"
    """A newer Ready version replaces the live one at the next bar."""
    SHADOW = "Shadow"
    """A newer Ready version first runs in shadow; it replaces the live one when it
    beats it on the same bars by the policy's margin and test."""
    MANUAL = "Manual"
    """A newer Ready version runs in shadow; only a person promotes it (`spec.modelRef.version`,
    or `trading-cli models promote`)."""


class PromotionPolicy(Frozen):
    """How a session that follows its Model moves to a newer version, and back."""

    mode: PromotionMode = PromotionMode.IMMEDIATE
    min_shadow_bars: Annotated[int, Field(ge=2)] = 100
    """Bars the challenger must shadow before it can be promoted."""
    max_shadow_bars: Annotated[int, Field(ge=2)] | None = None
    """Bars after which a challenger that has not won is retired (unset: it shadows
    until a newer version replaces it)."""
    min_sharpe_margin: float = 0.0
    """The challenger's annualised Sharpe must exceed the live one's by this much."""
    max_p_value: Annotated[float, Field(gt=0.0, le=1.0)] = 0.05
    """One-sided p-value of the Sharpe-difference test (Jobson-Korkie, Memmel's
    correction) on the paired per-bar returns; smaller is stricter."""
    rollback_window_bars: Annotated[int, Field(ge=0)] = 50
    """A risk breach within this many bars after an automatic promotion rolls the
    session back to the version it replaced (0: never)."""


class TradingSessionSpec(TradingConfig):
    model_ref: ModelRef
    """The Model to trade; it must have a Ready version."""
    promotion: PromotionPolicy | None = None
    """How newer versions of the Model reach the running trader (Immediate when unset)."""
    suspend: bool = False
    """The kill switch: flatten all positions, then scale the trader to zero."""
    template: PodTemplate = PodTemplate()


class Position(Frozen):
    symbol: str
    quantity: float
    market_value: float | None = None
    unrealized_pnl: float | None = None


class RefusedModel(Frozen):
    artifact_uri: str
    reason: str


class TradedModel(Frozen):
    """The model the trader trades now, as it reports it."""

    version: int | None = None
    artifact_uri: str
    since: str
    """When it was swapped in (or the trader started on it)."""
    bars: int = 0
    """Bars the trader has taken on this model since then."""
    refused: RefusedModel | None = None
    """The operator's last pick the trader would not trade, and why (other symbols,
    features the feed cannot make, a file it cannot load); cleared by a swap."""


class ShadowReport(Frozen):
    """The challenger's hypothetical results beside the champion, on the same bars.

    Both series are marked from targets alone, on the session's cost rates; the
    statistics appear once the test has a verdict and never with an `error`."""

    version: int | None = None
    artifact_uri: str
    bars: int = 0
    """Paired per-bar returns so far (since the challenger or the trader started)."""
    sharpe: float | None = None
    """The challenger's annualised Sharpe ratio."""
    champion_sharpe: float | None = None
    sharpe_diff: float | None = None
    z_score: float | None = None
    p_value: float | None = None
    """One-sided: challenger Sharpe > champion Sharpe (Jobson-Korkie, Memmel's correction)."""
    error: str | None = None
    """Why the challenger cannot run in shadow (its symbols, features the feed cannot make)."""


class TradingState(Frozen):
    """Written by the trader pod."""

    equity: float | None = None
    cash: float | None = None
    day_pnl: float | None = None
    total_pnl: float | None = None
    drawdown: float | None = None
    var: float | None = None
    positions: list[Position] | None = None
    orders_today: int | None = None
    last_decision: str | None = None
    heartbeat: str | None = None
    trading_state: str | None = None
    """ACTIVE, REDUCING or HALTED."""
    breaker_state: str | None = None
    reconciled: bool | None = None
    """False when positions in the store and at the broker disagree (the trader halts)."""
    reconcile_message: str | None = None
    flat: bool | None = None
    """True once the trader has flattened every position after `suspend`."""
    error: str | None = None
    """Why the trader cannot trade (refused credentials, a model it cannot load);
    cleared by its first report once it trades."""
    drift: DriftReport | None = None
    """Feature drift and performance decay of the model traded now (`spec.drift` judges it)."""
    model: TradedModel | None = None
    """The model traded now: the operator's `status.model` once the trader has swapped it in."""
    shadow: ShadowReport | None = None
    """The challenger in shadow (`status.challenger`); absent without one."""


class ModelChoice(Frozen):
    """A version of the session's Model, as the operator chose it for the trader."""

    name: str
    version: int | None = None
    """None for a Model with no versions recorded (written before versions existed)."""
    artifact_uri: str
    since: str


class ModelHistoryEntry(Frozen):
    """One change of the live model: who, what, why."""

    time: str
    version: int | None = None
    from_version: int | None = None
    reason: str
    """Initial, Followed, Promoted, Pinned, RolledBack."""
    message: str = ""


class TradingSessionStatus(CommonStatus):
    trading: TradingState | None = None
    effective_limits: dict[str, float] | None = None
    deployment_name: str | None = None
    lease_holder: str | None = None
    last_retrain_request: RetrainRequestRecord | None = None
    """The last retrain `spec.drift.action: Retrain` asked for (its cooldown counts from it)."""
    model: ModelChoice | None = None
    """The version the trader must trade (the champion); the trader reports the one it
    does trade in `trading.model`."""
    challenger: ModelChoice | None = None
    """A newer version the trader runs in shadow, without orders."""
    previous_model: ModelChoice | None = None
    """The version the last automatic promotion replaced: where a rollback goes."""
    refused_versions: list[int] | None = None
    """Versions this session will not follow again (rolled back, refused in shadow,
    or retired after losing); a pin or a newer version moves on."""
    model_history: list[ModelHistoryEntry] | None = None
    """The last changes of the live model, oldest first."""
