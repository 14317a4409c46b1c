"""Risk limits shared by the backtest and the trader, and the profiles that
give them defaults.

Every number here is optional: what a spec leaves unset comes from its
profile's template (`kubetrade_workloads/risk/profiles/<profile>.yaml`), so a
session that names only `profile: conservative` gets a complete, coherent set
of limits, and an explicit value always wins over the template.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, model_validator

from .base import Frozen, cel, validations

PositiveFraction = Annotated[float, Field(gt=0.0, le=1.0)]
OpenFraction = Annotated[float, Field(gt=0.0, lt=1.0)]


class RiskProfile(StrEnum):
    CONSERVATIVE = "conservative"
    MODERATE = "moderate"
    AGGRESSIVE = "aggressive"


class SizingMethod(StrEnum):
    FIXED_FRACTION = "fixed_fraction"
    VOLATILITY_TARGET = "volatility_target"
    KELLY = "kelly"


class SizingConfig(Frozen):
    """How large a position is; unset parameters come from the profile."""

    # A profile never sets the method: a Model's targets are the weights it was
    # trained and evaluated on, and no default may rescale them silently.
    method: SizingMethod | None = None
    """Unset: targets are weights, traded as given. Set: each target is a signal in [-1, 1] sized by the method (docs/RISK.md)."""
    fraction: PositiveFraction | None = None
    """Fraction of equity per full-conviction position for fixed_fraction sizing; every
    method's size until a symbol has enough history."""
    target_volatility: Annotated[float, Field(gt=0.0, le=5.0)] | None = None
    """Annualised volatility target per position for volatility_target sizing."""
    kelly_fraction: PositiveFraction | None = None
    """Share of the full Kelly bet for kelly sizing."""


class RiskLimits(Frozen):
    """Explicit limits; unset ones come from the profile."""

    model_config = Frozen.model_config | {
        "json_schema_extra": validations(
            cel(
                "!has(self.maxDailyLoss) || !has(self.maxDrawdown) || self.maxDailyLoss <= self.maxDrawdown",
                "limits.maxDailyLoss must not exceed limits.maxDrawdown",
                ".maxDailyLoss",
            ),
            cel(
                "!has(self.maxPositionWeight) || !has(self.maxGrossExposure) || self.maxPositionWeight <= self.maxGrossExposure",
                "limits.maxPositionWeight must not exceed limits.maxGrossExposure",
                ".maxPositionWeight",
            ),
        )
    }

    max_position_weight: PositiveFraction | None = None
    """Largest absolute weight of one symbol in equity."""
    max_gross_exposure: Annotated[float, Field(gt=0.0, le=10.0)] | None = None
    """Sum of absolute position weights."""
    max_daily_loss: OpenFraction | None = None
    """Loss from the day's opening equity that halts trading for the day."""
    max_drawdown: OpenFraction | None = None
    """Drawdown from peak equity that halts trading."""
    max_var: OpenFraction | None = None
    """One-day value at risk as a fraction of equity."""
    var_confidence: Annotated[float, Field(ge=0.8, le=0.999)] | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        # A daily loss above the drawdown limit could never trip (the day's
        # open is never above the peak): the spec almost surely has a typo.
        if (
            self.max_daily_loss is not None
            and self.max_drawdown is not None
            and self.max_daily_loss > self.max_drawdown
        ):
            raise ValueError("limits.maxDailyLoss must not exceed limits.maxDrawdown")
        if (
            self.max_position_weight is not None
            and self.max_gross_exposure is not None
            and self.max_position_weight > self.max_gross_exposure
        ):
            raise ValueError("limits.maxPositionWeight must not exceed limits.maxGrossExposure")
        return self


class BreakerConfig(Frozen):
    """Circuit breakers; unset fields come from the profile."""

    market_drop: OpenFraction | None = None
    """A one-bar drop of the market (equal-weight mean of the traded symbols) that halts trading."""
    consecutive_losses: Annotated[int, Field(ge=1, le=1000)] | None = None
    """Losing closed trades in a row that stop new entries."""
    cooldown_seconds: Annotated[int, Field(ge=0, le=7 * 86400)] | None = None
    """How long a tripped breaker holds, in the clock's time (simulated in a backtest)."""


class RiskConfig(Frozen):
    profile: RiskProfile = RiskProfile.MODERATE
    limits: RiskLimits = RiskLimits()
    sizing: SizingConfig = SizingConfig()
    breakers: BreakerConfig = BreakerConfig()
