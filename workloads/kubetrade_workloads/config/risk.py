"""Risk limits shared by the backtest and the trader, and the profiles that
give them defaults."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from .base import Frozen

PositiveFraction = Annotated[float, Field(gt=0.0, le=1.0)]


class RiskProfile(StrEnum):
    CONSERVATIVE = "conservative"
    MODERATE = "moderate"
    AGGRESSIVE = "aggressive"


class SizingMethod(StrEnum):
    FIXED_FRACTION = "fixed_fraction"
    VOLATILITY_TARGET = "volatility_target"
    KELLY = "kelly"


class SizingConfig(Frozen):
    method: SizingMethod = SizingMethod.FIXED_FRACTION
    fraction: PositiveFraction = 0.1
    """Fraction of equity per position for fixed_fraction sizing."""
    target_volatility: Annotated[float, Field(gt=0.0, le=5.0)] = 0.15
    """Annualised volatility target for volatility_target sizing."""
    kelly_fraction: PositiveFraction = 0.5
    """Share of the full Kelly bet for kelly sizing."""


class RiskLimits(Frozen):
    """Explicit limits; unset ones come from the profile."""

    max_position_weight: PositiveFraction | None = None
    """Largest absolute weight of one symbol in equity."""
    max_gross_exposure: Annotated[float, Field(gt=0.0, le=10.0)] | None = None
    """Sum of absolute position weights."""
    max_daily_loss: Annotated[float, Field(gt=0.0, lt=1.0)] | None = None
    """Loss from the day's opening equity that halts trading for the day."""
    max_drawdown: Annotated[float, Field(gt=0.0, lt=1.0)] | None = None
    """Drawdown from peak equity that halts trading."""
    max_var: Annotated[float, Field(gt=0.0, lt=1.0)] | None = None
    """One-day value at risk as a fraction of equity."""
    var_confidence: Annotated[float, Field(ge=0.8, le=0.999)] | None = None


class BreakerConfig(Frozen):
    market_drop: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.07
    """A one-bar drop of the market that trips the breaker."""
    consecutive_losses: Annotated[int, Field(ge=1, le=1000)] = 5
    cooldown_seconds: Annotated[int, Field(ge=0, le=7 * 86400)] = 3600


class RiskConfig(Frozen):
    profile: RiskProfile = RiskProfile.MODERATE
    limits: RiskLimits = RiskLimits()
    sizing: SizingConfig = SizingConfig()
    breakers: BreakerConfig = BreakerConfig()
