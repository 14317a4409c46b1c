"""Risk profiles as data, and the effective risk settings of a config.

A profile is a YAML template of a complete `RiskConfig` in
`risk/profiles/<name>.yaml`. `resolve` overlays a config's explicit values on
its profile's template, field by field, so what the trader enforces (and the
TradingSession status shows) is always fully specified.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from ..config.base import to_camel
from ..config.risk import RiskConfig, RiskProfile, SizingMethod

_SECTIONS = ("limits", "sizing", "breakers")
_TEMPLATES = "kubetrade_workloads.risk.profiles"


def template_text(profile: RiskProfile | str) -> str:
    """The commented YAML template of a profile, as shipped."""
    name = RiskProfile(profile).value
    return resources.files(_TEMPLATES).joinpath(f"{name}.yaml").read_text("utf-8")


@cache
def template(profile: RiskProfile | str) -> RiskConfig:
    """A profile's template, validated by the same model users' configs are."""
    data = yaml.safe_load(template_text(profile))
    return RiskConfig.model_validate(data)


@dataclass(frozen=True)
class EffectiveRisk:
    """Every risk setting with a value: the profile merged with explicit overrides."""

    profile: str
    max_position_weight: float
    max_gross_exposure: float
    max_daily_loss: float
    max_drawdown: float
    max_var: float
    var_confidence: float
    sizing_method: SizingMethod | None
    """None: the strategy's targets are weights, traded as given (within the limits)."""
    fraction: float
    target_volatility: float
    kelly_fraction: float
    market_drop: float
    consecutive_losses: int
    cooldown_seconds: int

    def limits(self) -> dict[str, float]:
        """Limits and breaker settings, camelCase, as the TradingSession status shows them."""
        skip = {"profile", "sizing_method", "fraction", "target_volatility", "kelly_fraction"}
        return {to_camel(k): float(v) for k, v in asdict(self).items() if k not in skip}


def resolve(config: RiskConfig) -> EffectiveRisk:
    """Overlay the explicit values of `config` on its profile's template."""
    base = template(config.profile)
    merged: dict[str, Any] = {}
    for section in _SECTIONS:
        defaults = getattr(base, section).model_dump(exclude_none=True)
        explicit = getattr(config, section).model_dump(exclude_none=True)
        merged.update(defaults | explicit)
    # The sizing method's name collides with nothing else once prefixed. Only a
    # spec names one (the templates do not): a Model's targets are the weights it
    # was trained and evaluated on, and no profile default silently rescales them.
    method = merged.pop("method", None)
    merged["sizing_method"] = None if method is None else SizingMethod(method)
    return EffectiveRisk(profile=str(config.profile), **merged)


def effective_limits(config: RiskConfig) -> dict[str, float]:
    """The limits a session enforces: its profile's template merged with explicit values."""
    return resolve(config).limits()
